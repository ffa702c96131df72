"""Wagtail admin wiring for people."""

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from accounts.services import user_deactivate
from accounts.views import IMPORT_PERMISSION, PeopleImportPreviewView, PeopleImportUploadView


@hooks.register("before_delete_user")
def deactivate_instead_of_delete(request, user):
    """Staff records are evidence: "delete" in the admin deactivates the person instead."""
    if request.method == "POST":
        user_deactivate(user=user, by=request.user)
        messages.success(
            request, f"{user} has been deactivated. Training records are kept, never deleted."
        )
        return redirect("wagtailusers_users:index")
    return None


class HROnlyMenuItem(MenuItem):
    def is_shown(self, request) -> bool:
        return request.user.has_perm(IMPORT_PERMISSION)


@hooks.register("register_admin_urls")
def people_import_urls():
    return [
        path("people/import/", PeopleImportUploadView.as_view(), name="accounts_people_import"),
        path(
            "people/import/<str:token>/",
            PeopleImportPreviewView.as_view(),
            name="accounts_people_import_preview",
        ),
    ]


@hooks.register("register_admin_menu_item")
def people_import_menu_item():
    return HROnlyMenuItem(
        "Import people", reverse("accounts_people_import"), icon_name="group", order=250
    )
