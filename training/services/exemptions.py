"""Writes for exemptions: HR exempting a person from an assignment (who, when and why), or
withdrawing it. The admin's assignment form writes through these."""

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


@transaction.atomic
def assignment_exemption_withdraw(*, assignment: Assignment) -> Assignment:
    """Withdraw an exemption: the person must complete the assignment again. No email."""
    assignment.exempt_reason = ""
    assignment.exempted_by = assignment.exempted_at = None
    assignment.save(update_fields=["exempt_reason", "exempted_by", "exempted_at"])
    report_counts_refresh_soon()
    return assignment
