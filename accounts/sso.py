"""Single sign-on policy, whatever the protocol: who a sign-in at the council's identity provider
is, whether they may come in, and whether the provider's two-factor check counts.

It works on allauth's `SocialLogin` (accounts.adapters.SocialAccountAdapter calls it), so the
OpenID Connect and SAML providers share one set of rules, kept in SignInSettings.
"""

import logging
from dataclasses import dataclass
from typing import Any

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.models import SocialLogin
from django.http import HttpRequest
from django.shortcuts import render
from requests import RequestException

from accounts.models import CreationRule, MatchClaim, SignInSettings, User
from accounts.selectors import sign_in_settings, sso_button_text, user_requires_mfa
from accounts.sso_saml import saml_performed_mfa

logger = logging.getLogger(__name__)

# RFC 8176: "mfa" is the authentication method reference for more than one factor (Entra ID
# sends it when the user passed its multi-factor check).
OIDC_MFA_AMR = {"mfa"}
# Set on the session by accounts.stages when Aware accepted the identity provider's two-factor
# check, to the user's pk: RequireMFAMiddleware then does not send them to set up TOTP.
SESSION_IDP_MFA = "aware_sso_idp_mfa"
OIDC = "openid_connect"


@dataclass(frozen=True)
class Identity:
    """What the identity provider says about the person signing in."""

    email: str  # lower-cased; "" when it sent none
    email_verified: bool
    employee_number: str  # "" when the claim is missing


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[-1].strip().lower() if "@" in email else ""


def email_is_sso_only(*, request: HttpRequest | None, email: str) -> bool:
    """Whether this address must sign in through the identity provider (no password, no reset,
    no sign-up), by the council's "single sign-on only domains"."""
    domain = email_domain(email)
    return bool(domain) and domain in sign_in_settings(request).sso_only_domain_set


def sso_only_message(*, request: HttpRequest | None) -> str:
    return (
        "Staff with this email address sign in with the council's own account: use the "
        f"“{sso_button_text(request=request)}” button. Passwords are not used for these "
        "addresses, so there is no password to sign in with, reset or create."
    )


# WHAT THE PROVIDER SAYS


def _claims(sociallogin: SocialLogin) -> dict[str, Any]:
    """The provider's claims: for OpenID Connect the signed ID token's over the userinfo
    response's; for other protocols (SAML's attributes) what allauth kept."""
    data = sociallogin.account.extra_data or {}
    if "id_token" in data or "userinfo" in data:
        return {**(data.get("userinfo") or {}), **(data.get("id_token") or {})}
    return dict(data)


def _single(value: Any) -> Any:
    # SAML attributes arrive as lists of values.
    if isinstance(value, list | tuple):
        return value[0] if len(value) == 1 else None
    return value


def _true(value: Any) -> bool:
    value = _single(value)
    return value is True or (isinstance(value, str) and value.lower() == "true")


def identity_from_sociallogin(*, sociallogin: SocialLogin, employee_number_claim: str) -> Identity:
    claims = _claims(sociallogin)
    email, verified = "", False
    addresses = [a for a in sociallogin.email_addresses if a.email]
    if addresses:
        address = next((a for a in addresses if a.primary), addresses[0])
        email, verified = address.email.strip().lower(), bool(address.verified)
    # Entra ID does not send email_verified; its optional claim xms_edov says the address's
    # domain is one the tenant has verified.
    if email and not verified and _true(claims.get("xms_edov")):
        verified = True
    number = _single(claims.get(employee_number_claim)) if employee_number_claim else None
    return Identity(
        email=email,
        email_verified=verified,
        employee_number=str(number).strip() if number not in (None, "") else "",
    )


def oidc_performed_mfa(sociallogin: SocialLogin) -> bool:
    """OpenID Connect: the signed ID token's `amr` claim contains "mfa"."""
    id_token = (sociallogin.account.extra_data or {}).get("id_token") or {}
    amr = id_token.get("amr") or []
    if isinstance(amr, str):
        amr = [amr]
    return bool(OIDC_MFA_AMR & {str(value) for value in amr})


# How each protocol says it checked more than one factor, by allauth provider type: OpenID
# Connect's `amr`, SAML's AuthnContextClassRef (accounts/sso_saml.py).
MFA_CHECKS = {OIDC: oidc_performed_mfa, "saml": saml_performed_mfa}


def idp_performed_mfa(sociallogin: SocialLogin) -> bool:
    """Whether the identity provider says it performed multi-factor authentication for this
    sign-in (MFA_CHECKS: OpenID Connect's `amr`, SAML's AuthnContextClassRef). False for a
    protocol with no check."""
    check = MFA_CHECKS.get(sociallogin.account.get_provider().id)
    return bool(check and check(sociallogin))


def idp_mfa_trusted(*, request: HttpRequest | None, sociallogin: SocialLogin | None) -> bool:
    """Aware accepts the provider's two-factor check instead of its own code: the council's
    setting is on and the provider says it did one."""
    if sociallogin is None or not sign_in_settings(request).trust_idp_mfa:
        return False
    return idp_performed_mfa(sociallogin)


# THE RULES


class Refusal(Exception):
    """The sign-in is refused; the message says why, in words for the person signing in."""


def _refuse(message: str) -> None:
    raise Refusal(message)


def _provider_allowed(settings: SignInSettings, sociallogin: SocialLogin) -> None:
    app = getattr(sociallogin.account.get_provider(), "app", None)
    if app is None or app.pk is None or not settings.shown_providers().filter(pk=app.pk).exists():
        _refuse("This identity provider is not one the council uses for signing in to Aware.")


def _nonce_matches(sociallogin: SocialLogin) -> None:
    if sociallogin.account.get_provider().id != OIDC:
        return
    expected = (sociallogin.state or {}).get("nonce")
    id_token = (sociallogin.account.extra_data or {}).get("id_token") or {}
    if not expected or id_token.get("nonce") != expected:
        _refuse(
            "The answer from the council's sign-in service was not for this sign-in (it may "
            "have been used before). Start again from Aware's sign-in page."
        )


def _person_may_enter(user: User) -> None:
    if not user.is_active or user.deactivated_at is not None:
        _refuse(
            "Your Aware account has been closed, usually because HR recorded that you left. "
            "If you still work for the council, ask HR to reopen it."
        )


def user_is_privileged(*, user: User) -> bool:
    return user.is_superuser or user.is_staff or user_requires_mfa(user=user)


def _person_match(settings: SignInSettings, identity: Identity) -> User | None:
    if settings.match_claim == MatchClaim.EMPLOYEE_NUMBER:
        if not identity.employee_number:
            _refuse(
                "The council's sign-in service did not send your employee number, which Aware "
                "needs to find you. Ask the council's IT service desk to check the set-up."
            )
        return User.objects.filter(employee_number=identity.employee_number).first()
    if not identity.email:
        _refuse("The council's sign-in service did not send your email address.")
    if not identity.email_verified:
        _refuse(
            "The council's sign-in service has not verified your email address, so Aware cannot "
            "use it to find you. Ask the council's IT service desk."
        )
    return User.objects.filter(email__iexact=identity.email).first()


def _creation_allowed(settings: SignInSettings, identity: Identity) -> None:
    not_known = (
        "Aware has no record of you in HR's list of staff, so you cannot sign in yet. Ask HR "
        "to add you; you can sign in once they have."
    )
    if settings.creation_rule != CreationRule.COUNCIL_DOMAINS:
        _refuse(not_known)
    if not (identity.email and identity.email_verified):
        _refuse(not_known)
    if email_domain(identity.email) not in settings.council_domain_set:
        _refuse(not_known)
    if User.objects.filter(email__iexact=identity.email).exists():
        _refuse(
            "Your email address belongs to another Aware account, so a new one cannot be made. "
            "Ask HR to check your record."
        )


def sociallogin_check(*, request: HttpRequest, sociallogin: SocialLogin) -> User | None:
    """Apply the council's rules to a sign-in the identity provider vouched for.

    Returns the person HR imported to link it to, or None when the identity is already linked
    (sociallogin.is_existing) or may be created. Raises Refusal, having written nothing, when
    the sign-in must not go ahead. Reads only.
    """
    settings = sign_in_settings(request)
    _provider_allowed(settings, sociallogin)
    _nonce_matches(sociallogin)
    if sociallogin.is_existing:
        _person_may_enter(sociallogin.user)
        return None
    identity = identity_from_sociallogin(
        sociallogin=sociallogin, employee_number_claim=settings.employee_number_claim
    )
    person = _person_match(settings, identity)
    if person is None:
        _creation_allowed(settings, identity)
        return None
    _person_may_enter(person)
    if user_is_privileged(user=person):
        # An account that can see people's records or change the site is linked only by its
        # owner, signed in already: a provider account with the same address must not take it.
        _refuse(
            "This account has administrator or other privileged rights, so Aware does not link "
            "it to a single sign-on account by itself. Sign in with your email address and "
            "password, then connect your council account under “Connected accounts”."
        )
    return person


def sociallogin_check_connect(*, request: HttpRequest, sociallogin: SocialLogin) -> None:
    """A signed-in person connecting their own council account: only the provider and the
    answer itself are checked (the person is who is signed in). Raises Refusal. Reads only."""
    _provider_allowed(sign_in_settings(request), sociallogin)
    _nonce_matches(sociallogin)


IDP_DOWN_HEADING = "Your council's sign-in service is not answering"


def provider_down(*, exception: BaseException | None, codes=()) -> bool:
    """The identity provider did not answer: OpenID Connect's requests failed, or the SAML
    provider found it unreachable (accounts/sso_saml.py)."""
    return isinstance(exception, RequestException) or "idp_unreachable" in codes


def failure_message(*, error: str | None, exception: BaseException | None, codes=()) -> str:
    """Why a sign-in at the identity provider did not complete, for the person signing in
    (`codes`: what the SAML provider or python3-saml found)."""
    if provider_down(exception=exception, codes=codes):
        return (
            "Aware could not reach the council's sign-in service, so you cannot sign in with "
            "your council account just now. Try again in a few minutes. If you normally sign "
            "in with your email address and a password or a code, you can still sign in with "
            "your email address on the sign-in page."
        )
    if "replayed" in codes:
        return (
            "This sign-in has already been used: each answer from the council's sign-in "
            "service can be used once, so Aware did not sign you in again. Start again from "
            "the sign-in page."
        )
    if error == "cancelled":
        return "You cancelled signing in with your council account."
    return (
        "Aware could not confirm your sign-in with the council's sign-in service: its answer "
        "was not valid, had expired, or had been used already. Start again from the sign-in "
        "page. If it happens again, tell your IT service desk and give them the details below."
    )


def refusal_response(
    *, request: HttpRequest, message: str, status: int = 403, heading: str = "", reason: str = ""
):
    """The one page for a single sign-on that did not let the person in (`reason`: the
    technical detail, for the IT service desk)."""
    context = {
        "heading": heading or "You could not sign in with your council account",
        "message": message,
        "reason": reason,
    }
    return render(request, "account/sso_refused.html", context, status=status)


def sociallogin_refuse(*, request: HttpRequest, sociallogin: SocialLogin, refusal: Refusal):
    """Stop the sign-in with a page saying why. Logs the provider only: no personal data."""
    logger.info("Single sign-on refused (provider %s)", sociallogin.account.provider)
    raise ImmediateHttpResponse(refusal_response(request=request, message=str(refusal)))
