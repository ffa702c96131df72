"""Reads about people."""

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from allauth.mfa.utils import is_mfa_enabled
from allauth.socialaccount import providers
from allauth.socialaccount.models import SocialApp
from allauth.utils import build_absolute_uri
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from wagtail.models import Site

from accounts.models import PeopleImport, PersonType, SignInSettings, User
from accounts.sso_saml import saml_setup_values
from cms.generations import (
    generation,
    generation_cached,
    generation_key_register,
    generation_replace,
)
from cms.models import CouncilSettings

EVERYONE_PERMISSION = "accounts.view_user"
COUNCILLORS_PERMISSION = "accounts.view_councillor"


def people_visible_to(*, viewer: User) -> QuerySet[User]:
    """The people whose records `viewer` may see in the admin's lists and pages: everyone with
    "view_user" (HR, administrators), councillors only with "view_councillor" (Member Services),
    no one otherwise."""
    if viewer.has_perm(EVERYONE_PERMISSION):
        return User.objects.all()
    if viewer.has_perm(COUNCILLORS_PERMISSION):
        return User.objects.filter(person_type=PersonType.COUNCILLOR)
    return User.objects.none()


ROLES_GENERATION_KEY = generation_key_register("aware:roles:generation")
ROLES_TIMEOUT = 5 * 60


def roles_cache_clear() -> None:
    """Forget every cached person's roles (accounts.apps connects this to every change of a
    person's roles or permissions, or a role's permissions)."""
    generation_replace(ROLES_GENERATION_KEY)


def user_group_ids_and_names(*, user: User) -> dict[int, str]:
    """The person's roles, {group id: name}, read once per request and kept in the shared cache
    and this process's memory (cms.generations) with the person's permissions (so Django's
    has_perm asks nothing either) until any role or permission changes anywhere
    (roles_cache_clear) or five minutes pass. Used by the two-factor middleware, view
    restrictions and the header's admin link."""
    cached = getattr(user, "_aware_groups", None)
    if cached is not None:
        return cached
    if not user.pk:
        user._aware_groups = {}
        return user._aware_groups
    # A change of superuser or active status is in the key: the permissions depend on both.
    key = (
        f"aware:roles:{generation(ROLES_GENERATION_KEY)}:{user.pk}:"
        f"{user.is_superuser:d}{user.is_active:d}"
    )

    def compute() -> dict:
        backend = ModelBackend()
        return {
            "groups": dict(user.groups.values_list("id", "name")),
            "user_perms": backend.get_user_permissions(user) if user.is_active else set(),
            "group_perms": backend.get_group_permissions(user) if user.is_active else set(),
        }

    roles = generation_cached(key, compute, ROLES_TIMEOUT)
    user._aware_groups = roles["groups"]
    if user.is_active:
        # Django's ModelBackend looks for these before asking the database.
        user._user_perm_cache = set(roles["user_perms"])
        user._group_perm_cache = set(roles["group_perms"])
    return user._aware_groups


MANAGERS_GENERATION_KEY = generation_key_register("aware:managers:generation")


def managers_cache_clear() -> None:
    """Forget who manages anyone (accounts.apps connects this to a person's save that may change
    a line manager or who is active; the people import calls it)."""
    generation_replace(MANAGERS_GENERATION_KEY)


def user_manages_anyone(*, user: User) -> bool:
    """Whether anyone active reports to the person (the header's "My team" link): asked once
    per request and kept in the shared cache and this process's memory (cms.generations) until
    a line manager may have changed anywhere (managers_cache_clear) or five minutes pass."""
    cached = getattr(user, "_aware_manages", None)
    if cached is not None:
        return cached
    if not user.is_authenticated:
        return False
    key = f"aware:manages:{generation(MANAGERS_GENERATION_KEY)}:{user.pk}"
    user._aware_manages = generation_cached(
        key,
        lambda: User.objects.filter(line_manager=user, is_active=True).exists(),
        ROLES_TIMEOUT,
    )
    return user._aware_manages


def user_requires_mfa(*, user: User) -> bool:
    """Administrators and the privileged roles (settings.AWARE_MFA_REQUIRED_GROUPS) need MFA."""
    if user.is_superuser:
        return True
    names = user_group_ids_and_names(user=user).values()
    return any(name in settings.AWARE_MFA_REQUIRED_GROUPS for name in names)


def privileged_roles_by_user() -> dict[int, list[str]]:
    """Everyone whose account is privileged, with why: "administrator" (superuser), "staff rights"
    (is_staff) and each privileged role they hold (settings.AWARE_MFA_REQUIRED_GROUPS, the roles
    that must use MFA). People with none are left out. Two queries, sized by the privileged few.
    """
    roles: dict[int, list[str]] = {}
    admins_and_staff = User.objects.filter(Q(is_superuser=True) | Q(is_staff=True))
    for pk, is_superuser in admins_and_staff.values_list("pk", "is_superuser"):
        roles[pk] = ["administrator"] if is_superuser else ["staff rights"]
    memberships = User.groups.through.objects.filter(
        group__name__in=settings.AWARE_MFA_REQUIRED_GROUPS
    ).order_by("group__name")
    for pk, group in memberships.values_list("user_id", "group__name"):
        roles.setdefault(pk, []).append(group)
    return roles


def user_lacks_required_mfa(*, user: User) -> bool:
    return user_requires_mfa(user=user) and not is_mfa_enabled(user)


def people_import_open(*, token: str, user: User, now: datetime) -> PeopleImport | None:
    """The user's own uploaded people file, if it can still be previewed and confirmed."""
    upload = PeopleImport.objects.filter(token=token, uploaded_by=user).first()
    return upload if upload is not None and upload.is_open(now) else None


def sign_in_settings(request: HttpRequest | None) -> SignInSettings:
    """The council's single sign-on settings for the request's site (or the default site)."""
    site = Site.find_for_request(request) if request is not None else None
    if site is None:
        site = Site.objects.filter(is_default_site=True).first()
    # No site yet (a fresh database): the defaults, with no identity provider shown.
    return SignInSettings.for_site(site) if site is not None else SignInSettings()


def sso_button_text(*, request: HttpRequest | None) -> str:
    text = sign_in_settings(request).sso_button_text
    if text:
        return text
    site = Site.find_for_request(request) if request is not None else None
    council = CouncilSettings.for_site(site).council_name if site else "your council"
    return f"Sign in with {council} account"


@dataclass(frozen=True)
class SsoButton:
    text: str
    login_url: str


def sso_buttons(*, request: HttpRequest) -> list[SsoButton]:
    """The sign-in page's single sign-on buttons: one per identity provider the council shows,
    with the council's text (or "Sign in with <council name> account"). Two queries."""
    settings = sign_in_settings(request)
    apps = list(settings.shown_providers().order_by("name"))
    text = sso_button_text(request=request)
    return [
        SsoButton(
            text=text if len(apps) == 1 else f"Sign in with {app.name}",
            login_url=app.get_provider(request).get_login_url(request),
        )
        for app in apps
    ]


@dataclass(frozen=True)
class SsoSetupDetail:
    label: str  # the name Entra ID's form gives the field
    value: str
    where: str  # where in Entra ID it goes


def _oidc_setup_details(request: HttpRequest, app) -> list[SsoSetupDetail]:
    callback = reverse("openid_connect_callback", kwargs={"provider_id": app.provider_id})
    return [
        SsoSetupDetail(
            label="Redirect URI",
            value=build_absolute_uri(request, callback),
            where="App registrations → your app → Authentication → Add a platform → Web",
        ),
        SsoSetupDetail(
            label="Sign-in URL (home page URL)",
            value=build_absolute_uri(request, reverse("account_login")),
            where="App registrations → your app → Branding & properties → Home page URL",
        ),
    ]


def _saml_setup_details(request: HttpRequest, app) -> list[SsoSetupDetail]:
    where = "Enterprise applications → your app → Single sign-on → Basic SAML Configuration"
    return [
        SsoSetupDetail(label=label, value=value, where=where)
        for label, value in saml_setup_values(request=request, app=app).items()
    ]


# What an administrator pastes into the identity provider, by allauth provider type.
SSO_SETUP_DETAILS = {"openid_connect": _oidc_setup_details, "saml": _saml_setup_details}


def _origin(url: str) -> str | None:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def _oidc_form_action_origins(request: HttpRequest, app: SocialApp) -> list[str | None]:
    return [_origin(app.settings.get("server_url", ""))]


def _saml_form_action_origins(request: HttpRequest, app: SocialApp) -> list[str | None]:
    # From the settings alone, never the metadata (fetching it for every sign-in page would make
    # the page wait while the IdP is down): its sign-on URL, or its metadata URL's host, which
    # is Entra ID's sign-on host too (login.microsoftonline.com).
    idp = app.settings.get("idp", {})
    return [_origin(idp.get("sso_url") or idp.get("metadata_url") or "")]


# Where the sign-in button's redirect takes the browser, by allauth provider type. An app's
# settings may name more
# ("form_action_origins"), for a provider that sends people on to another host.
SSO_FORM_ACTION_ORIGINS = {
    "openid_connect": _oidc_form_action_origins,
    "saml": _saml_form_action_origins,
}


def sso_form_action_origins(*, request: HttpRequest) -> list[str]:
    """The origins the sign-in page's forms may lead to, besides Aware: those of the identity
    providers the council shows. Two queries."""
    origins: list[str] = []
    for app in sign_in_settings(request).shown_providers():
        found = SSO_FORM_ACTION_ORIGINS.get(app.provider, lambda *_: [])(request, app)
        found += [_origin(url) for url in app.settings.get("form_action_origins", [])]
        origins += [origin for origin in found if origin and origin not in origins]
    return origins


@dataclass(frozen=True)
class SsoSetupProvider:
    app: SocialApp
    protocol: str  # "OpenID Connect", "SAML 2.0"
    shown: bool  # on the sign-in page
    details: list[SsoSetupDetail]


def sso_setup_details(*, request: HttpRequest) -> list[SsoSetupProvider]:
    """Each configured identity provider with the URLs to give it, as allauth will send them."""
    shown = set(sign_in_settings(request).shown_providers().values_list("pk", flat=True))
    rows = []
    for app in SocialApp.objects.order_by("name"):
        provider_class = providers.registry.get_class(app.provider)
        rows.append(
            SsoSetupProvider(
                app=app,
                protocol=provider_class.name if provider_class else app.provider,
                shown=app.pk in shown,
                details=SSO_SETUP_DETAILS.get(app.provider, lambda *_: [])(request, app),
            )
        )
    return rows
