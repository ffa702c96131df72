"""Wagtail admin wiring for people."""

from django.contrib import messages
from django.shortcuts import redirect
from wagtail import hooks

from accounts.services import user_deactivate


@hooks.register("before_delete_user")
def deactivate_instead_of_delete(request, user):
    """Staff records are evidence: "delete" in the admin deactivates the person instead."""
    if request.method == "POST":
        user_deactivate(user=user)
        messages.success(
            request, f"{user} has been deactivated. Training records are kept, never deleted."
        )
        return redirect("wagtailusers_users:index")
    return None
