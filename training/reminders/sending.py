"""The sweep and the send: log each planned message once, then send it once; the retry that
finishes what a crash or a dead broker left.

State-based: the log's unique key (recipient, kind, period) means a missed or repeated sweep
neither loses nor repeats a message. Every scheduled email (the reminder digests, the weekly HR
summary, scheduled reports, the records checkpoint) goes through the same log and send."""

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from allauth.account.adapter import get_adapter
from celery.schedules import crontab
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from cms.mail import email_send_watched, smtp_refused
from training.checkpoints import checkpoint_email
from training.locks import Lock, advisory_lock
from training.models import SentMessage
from training.reminders.alerts import operational_alert_email
from training.reminders.emails import TEMPLATES, reminder_context
from training.reminders.governance import content_review_email
from training.reminders.planning import (
    Kind,
    PlannedMessage,
    Unrouted,
    message_period,
    reminder_settings,
    reminders_plan,
)
from training.reports.scheduled import scheduled_report_email

logger = logging.getLogger(__name__)

STALE_PENDING = timedelta(minutes=10)
# A send that claimed a message and has not finished in this long has died (the SMTP timeout,
# EMAIL_TIMEOUT, is well under it): the retry settles it.
STALE_SENDING = timedelta(minutes=10)
# The retry leaves alone what a send task queued a moment ago is about to send.
RETRY_AFTER = timedelta(minutes=2)
RETRY_BATCH = 500  # per run of the retry task (every 5 minutes): 6,000 an hour
MAX_ATTEMPTS = 6  # as the send task's five retries: then the message is marked failed


@dataclass
class SweepResult:
    planned: list[PlannedMessage]
    # Councillors' escalations that went nowhere: their mailbox is blank (Settings → Reminders).
    unrouted: list[Unrouted] = field(default_factory=list)
    created: int = 0
    pending: list[int] = field(default_factory=list)  # the messages to send now
    skipped: str = ""

    @property
    def queued(self) -> int:
        return len(self.pending)


def reminders_sweep(
    *, now: datetime | None = None, dry_run: bool = False, send_now: bool = False
) -> SweepResult:
    """Plan today's reminders and log each message once (the unique key makes a second run or a
    second scheduler a no-op). Returns the messages to send now, pending ones left by a crashed
    run included: reminders_sweep_task queues a send task for each. With `send_now`, sends them
    in this process instead."""
    now = now or timezone.now()
    plan = reminders_plan(now=now)
    planned = plan.messages
    result = SweepResult(planned=planned, unrouted=plan.unrouted)
    if plan.unrouted:  # counts only: the log never names anyone
        logger.warning(
            "%s councillor escalation(s) not sent: no mailbox for %s",
            len(plan.unrouted),
            " or ".join(sorted({u.mailbox for u in plan.unrouted})),
        )
    if dry_run:
        return result
    if not reminder_day(timezone.localdate(now)):
        result.skipped = "not a reminder day (Settings -> Reminders)"
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
                period=message_period(p.kind, today),
                items=[i.as_record() for i in p.items] or [{"figures": p.figures}],
                created_at=now,
            )
            for p in planned
        ]
        # Counted within this sweep's periods: the whole log grows for years.
        this_period = SentMessage.objects.filter(period__in={row.period for row in rows})
        before = this_period.count()
        SentMessage.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
        result.created = this_period.count() - before
        pending = list(
            SentMessage.objects.filter(state=SentMessage.State.PENDING)
            .filter(Q(created_at=now) | Q(created_at__lt=now - STALE_PENDING))
            .values_list("pk", flat=True)
        )
        result.pending = pending
    if send_now:
        messages_send(message_ids=pending)
    return result


def reminder_day(day: date) -> bool:
    """Is `day` one of the reminder days in Settings -> Reminders (cron day-of-week)? The sweep
    asks itself, so it keeps to them however it is started."""
    days = crontab(day_of_week=reminder_settings().send_days).day_of_week
    return day.isoweekday() % 7 in days  # cron counts from Sunday = 0


def messages_send(*, message_ids: list[int]) -> int:
    """Send each logged message now, in this process (as reminder_message_send): a failure
    (SMTP, or any other) is recorded on the message, which waits for the retry, and the rest
    still go; after MAX_ATTEMPTS it is marked failed. Returns how many went."""
    sent = 0
    for message_id in message_ids:
        try:
            sent += reminder_message_send(message_id=message_id)
        except Exception as exc:
            if not isinstance(exc, OSError):  # SMTPException is an OSError: expected
                logger.exception("message %s could not be sent", message_id)
            attempts = SentMessage.objects.filter(pk=message_id).values_list("attempts", flat=True)
            final = next(iter(attempts), 0) >= MAX_ATTEMPTS
            reminder_message_failed(message_id=message_id, error=exc, final=final)
    return sent


def messages_retry(*, now: datetime | None = None) -> int:
    """Send, in this process, up to RETRY_BATCH messages (oldest first) waiting longer than
    RETRY_AFTER (a dead broker, a task lost with its worker), after settling sends that died
    midway: one that died before it handed the message to the SMTP server goes back to waiting;
    one that died after is marked uncertain and never sent again automatically. Returns how
    many went. Emails sent; queues no task."""
    now = now or timezone.now()
    stale = SentMessage.objects.filter(
        state=SentMessage.State.SENDING, claimed_at__lt=now - STALE_SENDING
    )
    stale.filter(handed_over_at__isnull=False).update(
        state=SentMessage.State.UNCERTAIN,
        error="The sender stopped after handing it to the mail server: check its log.",
    )
    stale.filter(handed_over_at__isnull=True).update(state=SentMessage.State.PENDING)
    waiting = list(
        SentMessage.objects.filter(state=SentMessage.State.PENDING)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - RETRY_AFTER))
        .filter(created_at__lt=now - RETRY_AFTER)
        .order_by("pk")
        .values_list("pk", flat=True)[:RETRY_BATCH]
    )
    return messages_send(message_ids=waiting)


def message_email(message: SentMessage) -> EmailMessage:
    """The email a logged message stands for, rebuilt from the log."""
    if message.kind == Kind.SCHEDULED_REPORT:
        return scheduled_report_email(message)
    if message.kind == Kind.RECORDS_CHECKPOINT:
        return checkpoint_email(message)
    if message.kind == Kind.CONTENT_REVIEW:
        return content_review_email(message)
    if message.kind == Kind.OPERATIONAL_ALERT:
        return operational_alert_email(message)
    return get_adapter().render_mail(
        TEMPLATES[message.kind], message.recipient_email, reminder_context(message)
    )


def reminder_message_send(*, message_id: int) -> bool:
    """Send one logged message if it is still waiting, at most once: claim it (pending ->
    sending, committed before anything goes out), note when the SMTP server is handed the
    message, and mark it sent with the server's acceptance the moment that arrives. Safe to call
    twice or from two workers at once: only one claim succeeds. A failure before the hand-over
    puts it back to waiting and raises; one after it marks the message uncertain."""
    now = timezone.now()
    claimed = SentMessage.objects.filter(pk=message_id, state=SentMessage.State.PENDING).update(
        state=SentMessage.State.SENDING,
        claimed_at=now,
        handed_over_at=None,
        attempts=F("attempts") + 1,
    )
    if not claimed:
        return False
    this_attempt = SentMessage.objects.filter(pk=message_id, claimed_at=now)
    accepted = False

    def handover() -> None:
        this_attempt.update(handed_over_at=timezone.now())

    def acceptance(reply: str) -> None:
        nonlocal accepted
        accepted = True
        this_attempt.update(
            state=SentMessage.State.SENT, sent_at=timezone.now(), smtp_reply=reply, error=""
        )

    try:
        email_send_watched(
            message_email(SentMessage.objects.get(pk=message_id)),
            on_handover=handover,
            on_accepted=acceptance,
        )
    except Exception as exc:
        if accepted:  # e.g. the goodbye after the server took it failed: it went
            logger.warning("message %s sent; closing the connection failed", message_id)
            return True
        handed_over = this_attempt.filter(handed_over_at__isnull=False).exists()
        if handed_over and not smtp_refused(exc):
            this_attempt.update(
                state=SentMessage.State.UNCERTAIN, error=f"{type(exc).__name__}: {exc}"[:250]
            )
            return False
        this_attempt.update(state=SentMessage.State.PENDING)
        raise
    return True


def reminder_message_failed(*, message_id: int, error: Exception, final: bool) -> None:
    """Record a failed attempt; after the last retry the message is marked failed."""
    SentMessage.objects.filter(pk=message_id, state=SentMessage.State.PENDING).update(
        error=f"{type(error).__name__}: {error}"[:250],
        **({"state": SentMessage.State.FAILED} if final else {}),
    )
