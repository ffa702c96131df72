"""allauth adapter: who may sign up."""

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.core.exceptions import ValidationError


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
