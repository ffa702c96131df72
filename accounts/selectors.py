"""Reads about people."""

from datetime import datetime

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings

from accounts.models import PeopleImport, User


def user_requires_mfa(*, user: User) -> bool:
    """Administrators and the privileged roles (settings.AWARE_MFA_REQUIRED_GROUPS) need MFA."""
    if user.is_superuser:
        return True
    return user.groups.filter(name__in=settings.AWARE_MFA_REQUIRED_GROUPS).exists()


def user_lacks_required_mfa(*, user: User) -> bool:
    return user_requires_mfa(user=user) and not is_mfa_enabled(user)


def people_import_open(*, token: str, user: User, now: datetime) -> PeopleImport | None:
    """The user's own uploaded people file, if it can still be previewed and confirmed."""
    upload = PeopleImport.objects.filter(token=token, uploaded_by=user).first()
    return upload if upload is not None and upload.is_open(now) else None
