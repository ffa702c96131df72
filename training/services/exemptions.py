"""Writes for exemptions: HR exempting a person from an assignment (who, when and why), or
withdrawing it. The admin's assignment form writes through these."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from cms.audit import (
    ACTION_EXEMPT,
    ACTION_EXEMPTION_WITHDRAW,
    audit_changes,
    audit_record,
    audit_snapshot,
)
from training.models import Assignment
from training.tasks import report_counts_refresh_soon

EXEMPTION_FIELDS = ["exempt_reason", "exempted_by", "exempted_at"]


@transaction.atomic
def assignment_exempt(
    *, assignment: Assignment, reason: str, by: User, now: datetime | None = None
) -> Assignment:
    """Exempt a person from an assignment, recording who did it, when and why, on the assignment
    and in the audit trail (before and after). No email."""
    if not reason.strip():
        raise ValueError("Give a reason for the exemption.")
    before = audit_snapshot(assignment, fields=EXEMPTION_FIELDS)
    assignment.exempt_reason = reason.strip()
    assignment.exempted_by = by
    assignment.exempted_at = now or timezone.now()
    assignment.save(update_fields=EXEMPTION_FIELDS)
    after = audit_snapshot(assignment, fields=EXEMPTION_FIELDS)
    audit_record(
        instance=assignment,
        action=ACTION_EXEMPT,
        user=by,
        changes=audit_changes(before=before, after=after),
        reason=assignment.exempt_reason,
    )
    report_counts_refresh_soon()
    return assignment


@transaction.atomic
def assignment_exemption_withdraw(*, assignment: Assignment, by: User | None = None) -> Assignment:
    """Withdraw an exemption: the person must complete the assignment again. The audit trail
    records who withdrew it (`by`) and what the exemption was. No email."""
    before = audit_snapshot(assignment, fields=EXEMPTION_FIELDS)
    assignment.exempt_reason = ""
    assignment.exempted_by = assignment.exempted_at = None
    assignment.save(update_fields=EXEMPTION_FIELDS)
    after = audit_snapshot(assignment, fields=EXEMPTION_FIELDS)
    audit_record(
        instance=assignment,
        action=ACTION_EXEMPTION_WITHDRAW,
        user=by,
        changes=audit_changes(before=before, after=after),
    )
    report_counts_refresh_soon()
    return assignment
