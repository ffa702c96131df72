"""allauth adapter: who may sign up, and that its emails go through the outbox."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.conf import settings
from django.contrib.sites.shortcuts import get_current_site
from django.core.exceptions import ValidationError

from accounts.services import email_queue


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        # With no allowed domains, people join only through HR's invitation.
        return bool(settings.AWARE_SIGNUP_EMAIL_DOMAINS)

    def clean_email(self, email: str) -> str:
        email = super().clean_email(email)
        domain = email.rsplit("@", 1)[-1].lower()
        allowed = settings.AWARE_SIGNUP_EMAIL_DOMAINS
        if allowed and domain not in allowed:
            listed = ", ".join(f"@{d}" for d in allowed)
            raise ValidationError(
                f"Use your council email address ({listed}). If you do not have one, "
                "ask HR or Member Services for an invitation."
            )
        return email

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Render as allauth does, then queue instead of sending: the request never waits on
        SMTP, and the outbox keeps the email until the server accepts it."""
        request = allauth_context.request
        ctx = {"request": request, "email": email, "current_site": get_current_site(request)}
        ctx.update(context)
        message = self.render_mail(template_prefix, email, ctx)
        email_queue(message=message, template=template_prefix)
