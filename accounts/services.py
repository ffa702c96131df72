"""Writes about people."""

from datetime import datetime

from django.utils import timezone

from accounts.models import User


def user_deactivate(*, user: User, now: datetime | None = None) -> User:
    """Mark a leaver inactive; their records stay. Nothing is deleted and no email is sent."""
    if user.is_active:
        user.is_active = False
        user.deactivated_at = now or timezone.now()
        user.save(update_fields=["is_active", "deactivated_at"])
    return user
