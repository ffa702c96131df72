"""Writes for exemptions: HR exempting a person from an assignment, with who, when and why."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from training.models import Assignment
from training.tasks import report_counts_refresh_soon


@transaction.atomic
def assignment_exempt(
    *, assignment: Assignment, reason: str, by: User, now: datetime | None = None
) -> Assignment:
    """Exempt a person from an assignment, recording who did it, when and why. No email."""
    if not reason.strip():
        raise ValueError("Give a reason for the exemption.")
    assignment.exempt_reason = reason.strip()
    assignment.exempted_by = by
    assignment.exempted_at = now or timezone.now()
    assignment.save(update_fields=["exempt_reason", "exempted_by", "exempted_at"])
    report_counts_refresh_soon()
    return assignment
