"""Wagtail's user admin, using Aware's user fields instead of first and last name, and showing
each role only the people it may see (accounts.selectors.people_visible_to); and the council's
identity providers (allauth's SocialApp) as a snippet, so their edits are in the audit trail."""

from allauth.socialaccount import providers
from allauth.socialaccount.models import SocialApp
from django import forms
from django.http import Http404
from django.utils.functional import cached_property
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, ObjectList
from wagtail.admin.views.generic.usage import UsageView as WagtailUsageView
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.snippets.views.snippets import SnippetViewSet
from wagtail.users.views import users

from accounts.forms import WagtailUserCreationForm, WagtailUserEditForm
from accounts.selectors import COUNCILLORS_PERMISSION, people_visible_to
from accounts.views import person_privacy_buttons
from cms.choosers import ListingPermissionChooserViewSet


class PeoplePermissionPolicy(ModelPermissionPolicy):
    """Django's model permissions, plus: "view_councillor" (Member Services) opens the people
    listing, which then holds councillors only."""

    def user_has_permission(self, user, action):
        if action == "view" and user.has_perm(COUNCILLORS_PERMISSION):
            return True
        return super().user_has_permission(user, action)

    def user_has_any_permission(self, user, actions):
        return any(self.user_has_permission(user, action) for action in actions)


class VisiblePersonMixin:
    """A person the viewer may not see is not there (404), whatever else the view checks."""

    def get_object(self, *args, **kwargs):
        person = super().get_object(*args, **kwargs)
        if not people_visible_to(viewer=self.request.user).filter(pk=person.pk).exists():
            raise Http404("No such person.")
        return person


class IndexView(users.IndexView):
    def get_base_queryset(self):
        return (
            super()
            .get_base_queryset()
            .filter(pk__in=people_visible_to(viewer=self.request.user).values("pk"))
        )


class EditView(VisiblePersonMixin, users.EditView):
    @cached_property
    def header_more_buttons(self):
        return [
            *super().header_more_buttons,
            *person_privacy_buttons(person=self.object, viewer=self.request.user),
        ]


class DeleteView(VisiblePersonMixin, users.DeleteView):
    pass


class HistoryView(VisiblePersonMixin, users.HistoryView):
    pass


class UsageView(VisiblePersonMixin, WagtailUsageView):
    pass


class UserViewSet(users.UserViewSet):
    create_template_name = "accounts/wagtail_users/create.html"
    edit_template_name = "accounts/wagtail_users/edit.html"
    index_view_class = IndexView
    edit_view_class = EditView
    delete_view_class = DeleteView
    history_view_class = HistoryView
    usage_view_class = UsageView

    @cached_property
    def permission_policy(self):
        return PeoplePermissionPolicy(self.model)

    def get_form_class(self, for_update=False):
        return WagtailUserEditForm if for_update else WagtailUserCreationForm


class IdentityProviderForm(WagtailAdminModelForm):
    """allauth's SocialApp, as an administrator fills it in for the council's identity
    provider. The client secret is never shown again; left empty on an edit, it is kept."""

    provider = forms.ChoiceField(label="Protocol", choices=())
    secret = forms.CharField(
        label="Client secret",
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Entra ID: Certificates & secrets → New client secret → its Value. Leave "
        "empty to keep the one saved.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].choices = [
            (pid, name) for pid, name in providers.registry.as_choices() if pid in SSO_PROTOCOLS
        ]

    def clean_secret(self) -> str:
        secret = self.cleaned_data.get("secret", "")
        if not secret and self.instance.pk:
            return SocialApp.objects.get(pk=self.instance.pk).secret
        return secret


# The allauth providers Aware offers.
SSO_PROTOCOLS = {"openid_connect", "saml"}


class IdentityProviderViewSet(SnippetViewSet):
    model = SocialApp
    chooser_viewset_class = ListingPermissionChooserViewSet
    icon = "key"
    menu_label = "Single sign-on providers"
    add_to_settings_menu = True
    list_display = ["name", "provider", "provider_id", "client_id"]
    edit_handler = ObjectList(
        [
            FieldPanel("name", help_text="Shown to administrators, e.g. “Borsetshire Entra ID”."),
            FieldPanel("provider"),
            FieldPanel(
                "provider_id",
                help_text="A short name in the sign-in address, e.g. “entra”. It is part of the "
                "redirect URI, so do not change it once Entra ID knows that.",
            ),
            FieldPanel(
                "client_id",
                help_text="Entra ID: App registrations → your app → Overview → Application "
                "(client) ID.",
            ),
            FieldPanel("secret"),
            FieldPanel(
                "settings",
                help_text='For Entra ID: {"server_url": "https://login.microsoftonline.com/'
                '<Directory (tenant) ID>/v2.0", "fetch_userinfo": false}',
            ),
        ],
        base_form_class=IdentityProviderForm,
    )
