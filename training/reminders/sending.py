"""The sweep and the send: log each planned message once, then send it once.

State-based: the log's unique key (recipient, kind, period) means a missed or repeated sweep
neither loses nor repeats a message."""

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from allauth.account.adapter import get_adapter
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from training.locks import Lock, advisory_lock
from training.models import SentMessage
from training.reminders.emails import TEMPLATES, reminder_context
from training.reminders.planning import Kind, PlannedMessage, reminders_plan

logger = logging.getLogger(__name__)

STALE_PENDING = timedelta(minutes=10)


@dataclass
class SweepResult:
    planned: list[PlannedMessage]
    created: int = 0
    pending: list[int] = field(default_factory=list)  # the messages to send now
    skipped: str = ""

    @property
    def queued(self) -> int:
        return len(self.pending)


def _period(kind: str, today: date) -> str:
    if kind == Kind.HR_SUMMARY:
        year, week, _ = today.isocalendar()
        return f"{year}-W{week:02d}"
    return today.isoformat()


def reminders_sweep(
    *, now: datetime | None = None, dry_run: bool = False, send_now: bool = False
) -> SweepResult:
    """Plan today's reminders and log each message once (the unique key makes a second run or a
    second scheduler a no-op). Returns the messages to send now, pending ones left by a crashed
    run included: reminders_sweep_task queues a send task for each. With `send_now`, sends them
    in this process instead."""
    now = now or timezone.now()
    planned = reminders_plan(now=now)
    result = SweepResult(planned=planned)
    if dry_run:
        return result
    with transaction.atomic():
        if not advisory_lock(Lock.REMINDER_SWEEP, wait=False):
            result.skipped = "another sweep is running"
            return result
        today = timezone.localdate(now)
        rows = [
            SentMessage(
                recipient=p.recipient,
                recipient_email=p.email,
                kind=p.kind,
                period=_period(p.kind, today),
                items=[i.as_record() for i in p.items] or [{"figures": p.figures}],
                created_at=now,
            )
            for p in planned
        ]
        before = SentMessage.objects.count()
        SentMessage.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
        result.created = SentMessage.objects.count() - before
        pending = list(
            SentMessage.objects.filter(state=SentMessage.State.PENDING)
            .filter(Q(created_at=now) | Q(created_at__lt=now - STALE_PENDING))
            .values_list("pk", flat=True)
        )
        result.pending = pending
    if send_now:
        for message_id in pending:
            try:
                reminder_message_send(message_id=message_id)
            except OSError as exc:
                reminder_message_failed(message_id=message_id, error=exc, final=False)
    return result


def reminder_message_send(*, message_id: int) -> bool:
    """Send one logged message if it is still pending; mark it sent. Safe to call twice."""
    with transaction.atomic():
        message = SentMessage.objects.select_for_update().filter(pk=message_id).first()
        if message is None or message.state != SentMessage.State.PENDING:
            return False
        message.attempts += 1
        email = get_adapter().render_mail(
            TEMPLATES[message.kind], message.recipient_email, reminder_context(message)
        )
        email.send()
        message.state, message.sent_at, message.error = SentMessage.State.SENT, timezone.now(), ""
        message.save(update_fields=["state", "sent_at", "attempts", "error"])
    return True


def reminder_message_failed(*, message_id: int, error: Exception, final: bool) -> None:
    """Record a failed attempt; after the last retry the message is marked failed."""
    SentMessage.objects.filter(pk=message_id, state=SentMessage.State.PENDING).update(
        error=f"{type(error).__name__}: {error}"[:250],
        **({"state": SentMessage.State.FAILED} if final else {}),
    )
