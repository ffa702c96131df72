"""SAML 2.0 single sign-on: allauth's SAML provider with what Aware needs around it (the claims
Entra ID sends, replayed assertions refused, the identity provider being down, whether it
performed multi-factor authentication, and what an administrator pastes into Entra ID)."""

import logging
import socket
import time
from typing import Any
from urllib.error import URLError
from urllib.parse import urlsplit

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.helpers import render_authentication_error
from allauth.socialaccount.models import SocialApp, SocialLogin
from allauth.socialaccount.providers.saml import provider as allauth_saml
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

logger = logging.getLogger(__name__)

ENTRA_CLAIMS = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims"
# The attributes Entra ID's SAML app sends by default (its "Attributes & Claims"), the LDAP OIDs
# other identity providers use, and the employee id claim an administrator adds for matching
# people to HR's file by employee number. An app's settings may replace this mapping.
ATTRIBUTE_MAPPING: dict[str, list[str]] = {
    "uid": ["http://schemas.microsoft.com/identity/claims/objectidentifier"],
    "email": [f"{ENTRA_CLAIMS}/emailaddress", "urn:oid:0.9.2342.19200300.100.1.3"],
    "first_name": [f"{ENTRA_CLAIMS}/givenname", "urn:oid:2.5.4.42"],
    "last_name": [f"{ENTRA_CLAIMS}/surname", "urn:oid:2.5.4.4"],
    "employee_number": [
        "http://schemas.microsoft.com/identity/claims/employeeid",
        "urn:oid:2.16.840.1.113730.3.1.3",
    ],
}

# AuthnContextClassRef values that mean the identity provider asked for a second factor: Entra
# ID's own, the REFEDS MFA profile, and SAML's multi-factor classes.
MFA_CONTEXT_CLASSES = frozenset(
    {
        "http://schemas.microsoft.com/claims/multipleauthn",
        "https://refeds.org/profile/mfa",
        "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract",
        "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorUnregistered",
        "urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken",
    }
)
# Entra ID also lists the methods it used in this attribute ("multipleauthn" after MFA).
AUTHN_METHODS_ATTRIBUTE = "http://schemas.microsoft.com/claims/authnmethodsreferences"
# Where Aware keeps the assertion's AuthnContextClassRef values in SocialAccount.extra_data,
# beside the attributes (no attribute has this name: attribute names are URIs).
AUTHN_CONTEXTS_KEY = "authn_context_class_refs"

REPLAY_KEY = "saml-assertion-seen:{issuer}:{assertion_id}"
IDP_PROBE_SECONDS = 3


def saml_performed_mfa(sociallogin: SocialLogin) -> bool:
    """Whether the identity provider says it performed multi-factor authentication for this
    sign-in: an MFA AuthnContextClassRef in the assertion, or Entra ID's authnmethodsreferences
    attribute naming multipleauthn."""
    extra = sociallogin.account.extra_data or {}
    contexts = set(extra.get(AUTHN_CONTEXTS_KEY) or [])
    methods = set(extra.get(AUTHN_METHODS_ATTRIBUTE) or [])
    return bool((contexts | methods) & MFA_CONTEXT_CLASSES)


def saml_setup_values(*, request: HttpRequest, app: SocialApp) -> dict[str, str]:
    """What an administrator pastes into Entra ID's "Basic SAML Configuration" for this app."""
    org = app.client_id
    metadata_url = request.build_absolute_uri(reverse("saml_metadata", args=[org]))
    entity_id = (app.settings or {}).get("sp", {}).get("entity_id") or metadata_url
    return {
        "Identifier (Entity ID)": entity_id,
        "Reply URL (Assertion Consumer Service URL)": request.build_absolute_uri(
            reverse("saml_acs", args=[org])
        ),
        "Sign on URL": request.build_absolute_uri(reverse("saml_login", args=[org])),
        "Service provider metadata URL": metadata_url,
    }


def _refuse(request: HttpRequest, provider, code: str, reason: str, status: int | None = None):
    """allauth's authentication error page (401 unless `status`), ready to raise."""
    response = render_authentication_error(
        request,
        provider,
        extra_context={"saml_errors": [code], "saml_last_error_reason": reason},
    )
    if status:
        response.status_code = status
    return ImmediateHttpResponse(response)


def idp_sso_url(request: HttpRequest, app: SocialApp) -> str | None:
    """The IdP's single sign-on URL, from its metadata (allauth caches it) or the app's settings;
    None when the metadata cannot be fetched."""
    from allauth.socialaccount.providers.saml.utils import build_saml_config

    try:
        config = build_saml_config(request, app.settings, app.client_id)
    except (URLError, OSError, ValueError) as error:
        logger.warning("SAML identity provider metadata unreachable: %s", type(error).__name__)
        return None
    return config.get("idp", {}).get("singleSignOnService", {}).get("url")


def saml_login(request: HttpRequest, organization_slug: str):
    """allauth's SAML sign-in page. Its Continue form is answered by a redirect to the identity
    provider, which the Content-Security-Policy's form-action must allow (browsers enforce it
    on the redirect too): this page's policy adds the IdP's origin, and only this page's."""
    from allauth.socialaccount.providers.saml.utils import get_app_or_404
    from allauth.socialaccount.providers.saml.views import login

    response = login(request, organization_slug=organization_slug)
    if request.method == "GET" and response.status_code == 200:
        sso_url = idp_sso_url(request, get_app_or_404(request, organization_slug))
        if sso_url:
            parts = urlsplit(sso_url)
            response._csp_update = {"form-action": [f"{parts.scheme}://{parts.netloc}"]}
    return response


def saml_metadata(request: HttpRequest, organization_slug: str):
    """allauth's SP metadata (what Entra ID may import). allauth builds it with the IdP's
    metadata, so while that cannot be fetched, say so plainly (503) instead of a server error."""
    from allauth.socialaccount.providers.saml.views import metadata

    try:
        return metadata(request, organization_slug=organization_slug)
    except (URLError, OSError) as error:
        logger.warning("SAML identity provider metadata unreachable: %s", type(error).__name__)
        return HttpResponse(
            "Aware could not read the identity provider's metadata (its metadata URL did not "
            "answer), and builds its own metadata with it. Check the metadata URL in the social "
            "application's settings, then try again.",
            content_type="text/plain; charset=utf-8",
            status=503,
        )


def _idp_reachable(url: str) -> bool:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=IDP_PROBE_SECONDS):
            return True
    except OSError:
        return False


class SAMLProvider(allauth_saml.SAMLProvider):
    """allauth's SAML provider (SOCIALACCOUNT_PROVIDERS["saml"]["provider_class"] names this)."""

    package = "allauth.socialaccount.providers.saml"  # its URLs and templates stay allauth's
    default_attribute_mapping = ATTRIBUTE_MAPPING

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The assertion itself must be signed, whatever the app's settings say: a signed response
        # around an unsigned assertion is not enough (Entra ID signs the assertion by default).
        # In memory only; the app's row is not changed.
        settings = dict(self.app.settings or {})
        settings["advanced"] = {**settings.get("advanced", {}), "want_assertion_signed": True}
        self.app.settings = settings

    def redirect(self, request, process, next_url=None, data=None, **kwargs):
        """Send the browser to the identity provider, unless it cannot be reached: then a page
        that says so (and that email sign-in still works for those allowed it), not a 500.
        With no page to go back to, a sign-in ends on My training."""
        next_url = next_url or reverse("training:my_training")
        sso_url = idp_sso_url(request, self.app)
        if not sso_url or not _idp_reachable(sso_url):
            raise _refuse(
                request,
                self,
                "idp_unreachable",
                "The identity provider did not answer.",
                status=503,
            )
        return super().redirect(request, process, next_url=next_url, data=data, **kwargs)

    def extract_extra_data(self, data) -> dict[str, Any]:
        extra = dict(super().extract_extra_data(data))
        extra[AUTHN_CONTEXTS_KEY] = list(data.get_last_authn_contexts() or [])
        return extra

    def sociallogin_from_response(self, request: HttpRequest, response) -> SocialLogin:
        """Refuse an assertion seen before (python3-saml checks signature, audience, issuer and
        times, but keeps no memory): each assertion ID is remembered until it expires."""
        assertion_id = response.get_last_assertion_id()
        expires = response.get_last_assertion_not_on_or_after() or time.time() + 300
        key = REPLAY_KEY.format(issuer=self.app.client_id, assertion_id=assertion_id)
        if not assertion_id or not cache.add(
            key, 1, timeout=max(60, int(expires - time.time()) + 60)
        ):
            logger.warning("SAML assertion refused: replayed (app %s)", self.app.client_id)
            raise _refuse(request, self, "replayed", "This sign-in response has already been used.")
        return super().sociallogin_from_response(request, response)
