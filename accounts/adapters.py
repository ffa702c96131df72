"""allauth adapters: who may sign up or sign in (by password or single sign-on), and that
allauth's emails go through the outbox."""

import logging

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialLogin
from allauth.socialaccount.providers.base import AuthProcess
from django.conf import settings
from django.contrib.sites.shortcuts import get_current_site
from django.core.exceptions import ValidationError

from accounts import sso
from accounts.models import User
from accounts.services import email_queue, sso_account_link, sso_user_created_record

logger = logging.getLogger(__name__)


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        # With no allowed domains, people join only through HR's invitation.
        return bool(settings.AWARE_SIGNUP_EMAIL_DOMAINS)

    def clean_email(self, email: str) -> str:
        email = super().clean_email(email)
        if sso.email_is_sso_only(request=allauth_context.request, email=email):
            raise ValidationError(sso.sso_only_message(request=allauth_context.request))
        domain = email.rsplit("@", 1)[-1].lower()
        allowed = settings.AWARE_SIGNUP_EMAIL_DOMAINS
        if allowed and domain not in allowed:
            listed = ", ".join(f"@{d}" for d in allowed)
            raise ValidationError(
                f"Use your council email address ({listed}). If you do not have one, "
                "ask HR or Member Services for an invitation."
            )
        return email

    def get_login_stages(self) -> list[str]:
        # Aware's two-factor stage also accepts the identity provider's check, when the council
        # trusts it (accounts.stages).
        return [
            "accounts.stages.AuthenticateStage"
            if path == "allauth.mfa.stages.AuthenticateStage"
            else path
            for path in super().get_login_stages()
        ]

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Render as allauth does, then queue instead of sending: the request never waits on
        SMTP, and the outbox keeps the email until the server accepts it."""
        request = allauth_context.request
        ctx = {"request": request, "email": email, "current_site": get_current_site(request)}
        ctx.update(context)
        message = self.render_mail(template_prefix, email, ctx)
        email_queue(message=message, template=template_prefix)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Single sign-on: accounts.sso decides who may come in; this wires it into allauth."""

    def pre_social_login(self, request, sociallogin: SocialLogin) -> None:
        connecting = (sociallogin.state or {}).get("process") == AuthProcess.CONNECT
        try:
            if connecting:
                # A signed-in person linking their own council account (Connected accounts).
                sso.sociallogin_check_connect(request=request, sociallogin=sociallogin)
                return
            person = sso.sociallogin_check(request=request, sociallogin=sociallogin)
        except sso.Refusal as refusal:
            sso.sociallogin_refuse(request=request, sociallogin=sociallogin, refusal=refusal)
        if person is not None:
            sso_account_link(request=request, sociallogin=sociallogin, user=person)

    def is_open_for_signup(self, request, sociallogin: SocialLogin) -> bool:
        # Reached only for a sign-in accounts.sso has allowed to create its person.
        return True

    def populate_user(self, request, sociallogin: SocialLogin, data) -> User:
        user = super().populate_user(request, sociallogin, data)
        name = data.get("name") or " ".join(
            part for part in (data.get("first_name"), data.get("last_name")) if part
        )
        user.full_name = (name or user.email)[:200]
        # Never a privileged role, whatever the provider sent.
        user.is_staff = user.is_superuser = False
        return user

    def save_user(self, request, sociallogin: SocialLogin, form=None) -> User:
        user = super().save_user(request, sociallogin, form)
        sso_user_created_record(user=user, provider=sociallogin.account.provider)
        return user

    def on_authentication_error(
        self, request, provider, error=None, exception=None, extra_context=None
    ) -> None:
        """Every failure (a token or assertion that does not verify, a replayed answer, the
        provider down) gets one clear page; the log names the provider and the kind of failure
        only. The SAML provider and python3-saml say what they found in `extra_context`."""
        extra_context = extra_context or {}
        codes = extra_context.get("saml_errors") or []
        logger.info(
            "Single sign-on failed (provider %s): %s %s %s",
            getattr(getattr(provider, "app", None), "provider_id", "") or provider.id,
            error,
            type(exception).__name__ if exception else "",
            " ".join(codes),
        )
        down = sso.provider_down(exception=exception, codes=codes)
        raise ImmediateHttpResponse(
            sso.refusal_response(
                request=request,
                message=sso.failure_message(error=error, exception=exception, codes=codes),
                status=503 if down else 400,
                heading=sso.IDP_DOWN_HEADING if down else "",
                reason="" if down else extra_context.get("saml_last_error_reason") or "",
            )
        )
