"""Operational alerts: the reminder sweep failed, or sent nothing while people are overdue, or
too many emails failed. Each opens an alert (cms.operations, which turns /healthz "degraded")
and logs one email a day about it to each administrator; the next good check clears it."""

from datetime import datetime, timedelta

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import Q
from django.utils import timezone

from accounts.models import QueuedEmail, User
from cms.selectors import council_settings
from cms.services import operational_alert_clear, operational_alert_open
from training.models import Assignment, SentMessage
from training.reminders.log import scheduled_message_log
from training.reminders.planning import Kind, reminder_settings

SWEEP_FAILED = "sweep-failed"
SWEEP_SILENT = "sweep-silent"
EMAIL_FAILING = "email-failing"
# What each alert's email leads with; the short name goes in its log key (recipient, day).
ALERTS = {
    SWEEP_FAILED: ("the daily reminder sweep failed", "sweep"),
    SWEEP_SILENT: ("the reminder sweep sent nothing while people are overdue", "silent"),
    EMAIL_FAILING: ("emails are failing to send", "email"),
}
REMINDER_KINDS = [
    Kind.LEARNER,
    Kind.MANAGER,
    Kind.SENIOR_MANAGER,
    Kind.MEMBER_SERVICES,
    Kind.MONITORING_OFFICER,
]
EMAIL_FAILURES_WINDOW = timedelta(hours=24)


def operational_alert_raise(*, kind: str, detail: str, now: datetime | None = None) -> list[int]:
    """Open the alert (or keep it open, saying `detail`) and log its email to each active
    administrator once a day (the key is the administrator, the day and the alert: a retried
    task logs nothing new). Returns the ids waiting to be sent. Sends nothing: with SMTP down
    they wait in the log (the retry sends them), and the open alert still shows in /healthz."""
    now = now or timezone.now()
    operational_alert_open(kind=kind, detail=detail, now=now)
    period = f"{timezone.localdate(now).isoformat()} {ALERTS[kind][1]}"
    item = {"alert": kind, "detail": detail, "opened_at": now.isoformat()}
    pending = []
    for admin in User.objects.filter(is_active=True, is_superuser=True).exclude(email=""):
        message_id = scheduled_message_log(
            kind=Kind.OPERATIONAL_ALERT,
            email=admin.email,
            period=period,
            items=[item],
            recipient=admin,
        )
        if message_id is not None:
            pending.append(message_id)
    return pending


def sweep_failure_alert(*, error: Exception, now: datetime | None = None) -> list[int]:
    """The sweep raised: alert the administrators (operational_alert_raise). The exception's
    type only (its text can hold personal data): the worker's log has the rest."""
    detail = (
        f"The sweep stopped with {type(error).__name__}, so nobody was reminded. The worker's "
        "log has the details. Run `manage.py send_reminders --dry-run` to see what it would send."
    )
    return operational_alert_raise(kind=SWEEP_FAILED, detail=detail, now=now)


def sweep_outcome_check(*, skipped: str, now: datetime | None = None) -> list[int]:
    """After a sweep that ran: clear a failure alert, and alert when people are overdue yet no
    reminder about anyone has been logged within the overdue reminder interval (Settings ->
    Reminders: they would have been reminded again by now), else clear that alert. A sweep that
    did not run (`skipped`: not a reminder day, another sweep running) changes nothing. Returns
    the alert emails waiting to be sent."""
    if skipped:
        return []
    now = now or timezone.now()
    operational_alert_clear(kind=SWEEP_FAILED, now=now)
    today = timezone.localdate(now)
    overdue = (
        Assignment.objects.overdue(now)
        .filter(user__is_active=True)
        .filter(Q(user__on_leave_until__isnull=True) | Q(user__on_leave_until__lt=today))
        .values("user")
        .distinct()
        .count()
    )
    since = now - timedelta(days=reminder_settings().overdue_every_days)
    reminded = SentMessage.objects.filter(kind__in=REMINDER_KINDS, created_at__gte=since).exists()
    if overdue and not reminded:
        detail = (
            f"{overdue} {'person is' if overdue == 1 else 'people are'} overdue, and no "
            f"reminder has been logged since {timezone.localtime(since):%d %B %Y %H:%M}."
        )
        return operational_alert_raise(kind=SWEEP_SILENT, detail=detail, now=now)
    operational_alert_clear(kind=SWEEP_SILENT, now=now)
    return []


def email_failures_count(*, now: datetime | None = None) -> int:
    """Emails whose last attempt, within the last 24 hours, failed and that have not gone since:
    scheduled ones (the message log: waiting to retry, failed or uncertain) and the outbox's
    (sign-in links, invitations). One that went on a retry no longer counts."""
    since = (now or timezone.now()) - EMAIL_FAILURES_WINDOW
    logged = (
        SentMessage.objects.filter(claimed_at__gte=since)
        .exclude(state=SentMessage.State.SENT)
        .exclude(error="")
        .count()
    )
    queued = QueuedEmail.objects.filter(claimed_at__gte=since).exclude(last_error="").count()
    return logged + queued


def operations_check(*, now: datetime | None = None) -> list[int]:
    """Alert when at least settings.AWARE_ALERT_SMTP_FAILURES emails failed in 24 hours (see
    email_failures_count), else clear that alert. Returns the alert emails waiting to be sent."""
    now = now or timezone.now()
    failures = email_failures_count(now=now)
    if failures >= settings.AWARE_ALERT_SMTP_FAILURES:
        detail = (
            f"{failures} emails failed to send in the last 24 hours and have not gone since. "
            "Check the mail server (EMAIL_URL) and the message log in the Django admin."
        )
        return operational_alert_raise(kind=EMAIL_FAILING, detail=detail, now=now)
    operational_alert_clear(kind=EMAIL_FAILING, now=now)
    return []


def operational_alert_email(message: SentMessage) -> EmailMessage:
    """An alert's email to an administrator, rebuilt from the log."""
    item = message.items[0]
    context = {
        "council_name": council_settings().council_name,
        "headline": ALERTS[item["alert"]][0],
        "detail": item["detail"],
        "opened_at": timezone.localtime(datetime.fromisoformat(item["opened_at"])).strftime(
            "%d %B %Y %H:%M"
        ),
        "healthz_url": settings.SITE_URL.rstrip("/") + "/healthz",
    }
    return get_adapter().render_mail(
        "email/reminders/operational_alert", message.recipient_email, context
    )
