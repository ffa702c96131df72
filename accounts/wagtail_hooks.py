"""Wagtail admin wiring for people."""

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Q
from django.db.models.functions import Cast
from django.shortcuts import redirect
from django.urls import path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.models import ModelLogEntry
from wagtail.snippets.models import register_snippet

from accounts.erasure import accounts_personal_data_erase
from accounts.models import PersonType, User
from accounts.personal_data import (
    PERSONAL_DATA_ERASE_HOOK,
    PERSONAL_DATA_HOOK,
    accounts_personal_data,
)
from accounts.selectors import EVERYONE_PERMISSION, people_visible_to
from accounts.services import user_deactivate
from accounts.signals import election_dates_changed
from accounts.views import (
    IMPORT_PERMISSION,
    PartnerInviteView,
    PartnersInvitedView,
    PeopleImportPreviewView,
    PeopleImportUploadView,
    PersonalDataExportView,
    PersonEraseView,
    SsoSetupView,
    person_privacy_buttons,
)
from accounts.viewsets import IdentityProviderViewSet
from cms.views import LOG_ENTRIES_VISIBLE_HOOK


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


REQUEST_ELECTION_DATE = "aware_election_date_before"


@hooks.register("before_edit_user")
def election_date_remember(request, user):
    """The person's election date as it is in the database, before the admin form changes it."""
    if request.method == "POST":
        setattr(request, REQUEST_ELECTION_DATE, user.start_date)


@hooks.register("after_edit_user")
def election_date_changed(request, user):
    """A councillor's election date changed in the admin: training moves their due dates."""
    before = getattr(request, REQUEST_ELECTION_DATE, user.start_date)
    if user.person_type == PersonType.COUNCILLOR and user.start_date != before:
        election_dates_changed.send(sender=User, user_ids=[user.pk], by=request.user)


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
        path(
            "people/<int:pk>/personal-data/",
            PersonalDataExportView.as_view(),
            name="accounts_personal_data",
        ),
        path("people/<int:pk>/erase/", PersonEraseView.as_view(), name="accounts_person_erase"),
        path("people/invite/", PartnerInviteView.as_view(), name="accounts_partners_invite"),
        path(
            "people/invite/sent/", PartnersInvitedView.as_view(), name="accounts_partners_invited"
        ),
    ]


@hooks.register("register_user_listing_buttons")
def people_listing_privacy_buttons(user, request_user):
    """The listing holds only people the viewer may see (IndexView), so both may show."""
    return person_privacy_buttons(person=user, viewer=request_user)


hooks.register(PERSONAL_DATA_HOOK, accounts_personal_data, order=0)
hooks.register(PERSONAL_DATA_ERASE_HOOK, accounts_personal_data_erase, order=0)


@hooks.register("register_admin_urls")
def sso_setup_urls():
    return [path("sso/setup/", SsoSetupView.as_view(), name="accounts_sso_setup")]


class AdministratorsMenuItem(MenuItem):
    def is_shown(self, request) -> bool:
        return request.user.is_superuser


@hooks.register("register_settings_menu_item")
def sso_setup_menu_item():
    return AdministratorsMenuItem(
        "Single sign-on set-up", reverse("accounts_sso_setup"), icon_name="key", order=1060
    )


register_snippet(IdentityProviderViewSet)


@hooks.register("register_admin_menu_item")
def people_import_menu_item():
    return HROnlyMenuItem(
        "Import people", reverse("accounts_people_import"), icon_name="group", order=250
    )


@hooks.register("register_admin_menu_item")
def partners_invite_menu_item():
    return HROnlyMenuItem(
        "Invite partners", reverse("accounts_partners_invite"), icon_name="mail", order=252
    )


@hooks.register(LOG_ENTRIES_VISIBLE_HOOK)
def people_log_entries_visible(request, entries):
    """Site history shows Member Services the entries about councillors only."""
    if request.user.has_perm(EVERYONE_PERMISSION) or entries.model is not ModelLogEntry:
        return entries  # people's entries are model entries, never page entries
    visible = people_visible_to(viewer=request.user).values(key=Cast("pk", CharField()))
    user_type = ContentType.objects.get_for_model(User)
    return entries.filter(~Q(content_type=user_type) | Q(object_id__in=visible))
