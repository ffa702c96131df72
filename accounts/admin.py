import allauth.socialaccount.admin  # noqa: F401 (registers allauth's models: see below)
from allauth.socialaccount.models import SocialApp
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.urls import path
from treebeard.admin import TreeAdmin
from treebeard.forms import movenodeform_factory

from accounts.models import Department, QueuedEmail, User

# Identity providers are edited in Wagtail's admin only (Settings → Single sign-on providers),
# where every change is in the audit trail with before and after and the secret is never shown
# again; allauth's page for them here would do neither. (Importing allauth's admin registers it
# first, whatever the order the admin discovers apps in.)
admin.site.unregister(SocialApp)


@admin.register(Department)
class DepartmentAdmin(TreeAdmin):
    form = movenodeform_factory(Department)

    def get_urls(self):
        """treebeard serves its scripts' translations without the admin's sign-in check (Django's
        own admin asks for it): ask for it."""
        return [
            path("jsi18n/", self.admin_site.admin_view(url.callback), name=url.name)
            if url.name == "javascript-catalog"
            else url
            for url in super().get_urls()
        ]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["full_name"]
    list_display = ["email", "full_name", "person_type", "department", "is_active"]
    list_filter = ["person_type", "is_active", "groups"]
    search_fields = ["email", "full_name", "employee_number"]
    autocomplete_fields = ["line_manager"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (
            "Person",
            {
                "fields": [
                    "full_name",
                    "person_type",
                    "department",
                    "service_area",
                    "job_title",
                    "employee_number",
                    "line_manager",
                    "start_date",
                    "on_leave_until",
                ]
            },
        ),
        (
            "Access",
            {"fields": ["is_active", "deactivated_at", "is_staff", "is_superuser", "groups"]},
        ),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "full_name", "password1", "password2"]})
    ]
    readonly_fields = ["deactivated_at"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(QueuedEmail)
class QueuedEmailAdmin(admin.ModelAdmin):
    """The outbox, to see what waits and what may have gone: an "uncertain" email was handed to
    the mail server by a sender that stopped before hearing its answer, so it is never sent
    again automatically; look it up in the mail server's log by time and recipient, then
    delete it here. The email itself (it may hold a sign-in link) is not shown."""

    list_display = ["pk", "template", "state", "recipient", "created_at", "handed_over_at"]
    list_display += ["attempts", "last_error"]
    list_filter = ["state", "template"]
    fields = ["template", "state", "recipient", "created_at", "next_try_at", "claimed_at"]
    fields += ["handed_over_at", "attempts", "last_error"]
    readonly_fields = fields

    @admin.display(description="To")
    def recipient(self, obj: QueuedEmail) -> str:
        return ", ".join(obj.message.get("to", []))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
