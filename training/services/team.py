"""Writes for a line manager's actions from My team: a nudge (one email through the reminder
log), a later due date, and a request that HR exempt a report; and HR's answer to that request.
Each is in the audit trail. The views check that the assignment is in the manager's tree."""

from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from wagtail.models import Site

from accounts.models import User
from cms.audit import (
    ACTION_EXEMPTION_REFUSE,
    ACTION_EXEMPTION_REQUEST,
    ACTION_NUDGE,
    audit_record,
)
from training.models import Assignment, ExemptionRequest, ReportSettings, SentMessage, Status
from training.reminders.planning import CAPPED_KINDS, reminder_settings
from training.reminders.sending import messages_send
from training.services.assignments import assignment_due_date_extend
from training.services.exemptions import assignment_exempt
from training.tasks import report_counts_refresh_soon

NUDGE, EXEMPTION_REQUESTED = "nudge", "exemption-request"


class TeamActionRefused(Exception):
    """The action was not done; the message says why, for the manager (or HR)."""


def _refuse_unless_to_do(assignment: Assignment, what: str) -> None:
    if assignment.closed_at is not None or assignment.exempt_reason:
        raise TeamActionRefused(
            f"{assignment.user.full_name} does not have to take “{assignment.module.title}” "
            f"now, so {what}. Nothing was changed."
        )
    if assignment.completed_at is not None:
        raise TeamActionRefused(
            f"{assignment.user.full_name} has completed “{assignment.module.title}”, so {what}. "
            "Nothing was changed."
        )


def _message_log(*, kind: str, email: str, recipient: User | None, period: str, items) -> int:
    """Log one email under its once-only key; raises IntegrityError if it is there already."""
    with transaction.atomic():
        message = SentMessage.objects.create(
            recipient=recipient,
            recipient_email=email,
            kind=kind,
            period=period,
            items=items,
            created_at=timezone.now(),
        )
    return message.pk


def assignment_nudge(*, assignment: Assignment, by: User, now: datetime | None = None) -> bool:
    """Email the person one reminder about the assignment from their manager: logged in the
    reminder log under (person, "nudge", today), so a double submit or a retry sends it once;
    counted in the weekly cap of Settings -> Reminders, and refused once the cap is reached.
    Recorded in the audit trail. Sends the email now; if the mail server fails, the reminder
    log's retry sends it later. Returns whether it went now. Raises TeamActionRefused."""
    now = now or timezone.now()
    person = assignment.user
    status = (
        Assignment.objects.filter(pk=assignment.pk, closed_at__isnull=True)
        .with_status(now)
        .values_list("status", flat=True)
        .first()
    )
    if status in (None, Status.COMPLETED, Status.EXEMPT):
        raise TeamActionRefused(
            f"{person.full_name} has nothing to do on “{assignment.module.title}” now, so "
            "there is nothing to remind them about. Nothing was sent."
        )
    period = timezone.localdate(now).isoformat()
    if SentMessage.objects.filter(
        recipient_email=person.email, kind=SentMessage.Kind.NUDGE, period=period
    ).exists():
        raise TeamActionRefused(
            f"{person.full_name} has already been sent a reminder from My team today. "
            "Nothing more was sent."
        )
    cap = reminder_settings().weekly_cap
    recent = SentMessage.objects.filter(
        kind__in=CAPPED_KINDS,
        recipient=person,
        created_at__gt=now - timedelta(days=7),
    ).count()
    if recent >= cap:
        raise TeamActionRefused(
            f"{person.full_name} has had {recent} reminder email{'s' if recent != 1 else ''} "
            f"in the last 7 days, the most the council's reminder settings allow ({cap}). "
            "Nothing was sent: try again in a few days."
        )
    # When it is due: the renewal date once a completion is expiring or has expired.
    due = assignment.due_on
    if assignment.valid_until is not None:
        due = timezone.localdate(assignment.valid_until)
    days = (due - timezone.localdate(now)).days
    try:
        with transaction.atomic():
            message_id = _message_log(
                kind=SentMessage.Kind.NUDGE,
                email=person.email,
                recipient=person,
                period=period,
                items=[
                    {
                        "assignment": assignment.pk,
                        "reason": NUDGE,
                        "days": abs(days),
                        "late": days < 0,
                        "by": by.pk,
                    }
                ],
            )
            audit_record(instance=assignment, action=ACTION_NUDGE, user=by, sent_to=person.email)
    except IntegrityError as exc:  # a second submit got there first
        raise TeamActionRefused(
            f"{person.full_name} has already been sent a reminder from My team today. "
            "Nothing more was sent."
        ) from exc
    return messages_send(message_ids=[message_id]) == 1


def extension_limit_days() -> int:
    """The longest extension a manager may give (Settings -> Reminders)."""
    return reminder_settings().manager_extension_max_days


def extension_base(*, assignment: Assignment, today: date) -> date:
    """Where an extension counts from: the due date, or today once it has passed."""
    return max(assignment.due_on, today)


@transaction.atomic
def assignment_due_extend(
    *,
    assignment: Assignment,
    days: int,
    reason: str,
    due_on_was: date,
    by: User,
    now: datetime | None = None,
) -> Assignment:
    """Move the due date `days` later (from the due date the manager saw, `due_on_was`, or
    from today once that has passed), within Settings -> Reminders' limit, with a reason;
    recorded in the audit trail with the date before and after. A second submit of the same
    form changes nothing; a due date changed by someone else meanwhile is refused. No email.
    Raises TeamActionRefused."""
    today = timezone.localdate(now or timezone.now())
    reason = reason.strip()
    if not reason:
        raise TeamActionRefused("Give a reason for the later due date. Nothing was changed.")
    limit = extension_limit_days()
    if not 1 <= days <= limit:
        raise TeamActionRefused(
            f"A due date can be moved between 1 and {limit} days later. Nothing was changed."
        )
    locked = Assignment.objects.select_for_update().select_related("user", "module")
    assignment = locked.get(pk=assignment.pk)
    _refuse_unless_to_do(assignment, "there is no due date to move")
    target = max(due_on_was, today) + timedelta(days=days)
    if assignment.due_on == target:
        return assignment  # the same form sent twice: done already
    if assignment.due_on != due_on_was:
        raise TeamActionRefused(
            f"The due date has been changed to {assignment.due_on:%-d %B %Y} since you opened "
            "the page. Nothing was changed: check it and try again."
        )
    try:
        assignment = assignment_due_date_extend(
            assignment=assignment, new_due_on=target, reason=reason, by=by
        )
    except ValueError as refused:
        raise TeamActionRefused(f"{refused} Nothing was changed.") from refused
    report_counts_refresh_soon()
    return assignment


def exemption_request_create(
    *, assignment: Assignment, reason: str, by: User, now: datetime | None = None
) -> tuple[ExemptionRequest, bool]:
    """Ask HR to exempt the person from the assignment: a request HR approves or refuses in
    the admin (Training -> Exemption requests), recorded in the audit trail, and one email to
    the HR mailbox (Settings -> Reports) through the reminder log, if one is set. One request
    waits per assignment: asking again returns the waiting one. Returns (request, whether HR
    was emailed now). Raises TeamActionRefused."""
    reason = reason.strip()
    if not reason:
        raise TeamActionRefused("Say why they should be exempt. Nothing was sent to HR.")
    _refuse_unless_to_do(assignment, "there is nothing to exempt them from")
    now = now or timezone.now()
    try:
        with transaction.atomic():
            request = ExemptionRequest.objects.create(
                assignment=assignment, requested_by=by, requested_at=now, reason=reason
            )
            audit_record(
                instance=assignment, action=ACTION_EXEMPTION_REQUEST, user=by, reason=reason
            )
            mailbox = ReportSettings.for_site(Site.objects.get(is_default_site=True)).hr_mailbox
            message_id = None
            if mailbox:
                message_id = _message_log(
                    kind=SentMessage.Kind.EXEMPTION_REQUEST,
                    email=mailbox,
                    recipient=None,
                    period=f"request-{request.pk}",
                    items=[
                        {
                            "assignment": assignment.pk,
                            "reason": EXEMPTION_REQUESTED,
                            "days": 0,
                            "by": by.pk,
                            "request": request.pk,
                        }
                    ],
                )
    except IntegrityError:  # one is waiting already (a double submit)
        waiting = ExemptionRequest.objects.get(
            assignment=assignment, state=ExemptionRequest.State.PENDING
        )
        return waiting, False
    sent = message_id is not None and messages_send(message_ids=[message_id]) == 1
    return request, sent


def exemption_request_pending(*, assignment: Assignment) -> ExemptionRequest | None:
    return ExemptionRequest.objects.filter(
        assignment=assignment, state=ExemptionRequest.State.PENDING
    ).first()


@transaction.atomic
def exemption_request_decide(
    *, request: ExemptionRequest, approve: bool, note: str, by: User, now: datetime | None = None
) -> ExemptionRequest:
    """HR's answer: approving exempts the person (assignment_exempt, with the manager's reason
    and HR's note); refusing records HR's note in the audit trail. A request already answered
    (a double submit) is left as it is. No email."""
    now = now or timezone.now()
    request = ExemptionRequest.objects.select_for_update().get(pk=request.pk)
    if request.state != ExemptionRequest.State.PENDING:
        return request
    note = note.strip()
    if approve:
        reason = f"Asked for by {request.requested_by}: {request.reason}"
        assignment_exempt(
            assignment=request.assignment,
            reason=f"{reason} (HR: {note})" if note else reason,
            by=by,
            now=now,
        )
    else:
        if not note:
            raise TeamActionRefused("Say why the request is refused. Nothing was changed.")
        audit_record(
            instance=request.assignment, action=ACTION_EXEMPTION_REFUSE, user=by, reason=note
        )
    request.state = ExemptionRequest.State.APPROVED if approve else ExemptionRequest.State.REFUSED
    request.decided_by, request.decided_at, request.decision_note = by, now, note
    request.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
    return request
