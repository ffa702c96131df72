"""Reads about people."""

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings

from accounts.models import User


def user_requires_mfa(*, user: User) -> bool:
    """Administrators and the privileged roles (settings.AWARE_MFA_REQUIRED_GROUPS) need MFA."""
    if user.is_superuser:
        return True
    return user.groups.filter(name__in=settings.AWARE_MFA_REQUIRED_GROUPS).exists()


def user_lacks_required_mfa(*, user: User) -> bool:
    return user_requires_mfa(user=user) and not is_mfa_enabled(user)
