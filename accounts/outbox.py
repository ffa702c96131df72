"""The outbox: emails that people ask for (password reset, verification, invitation) are kept in
the database and sent by a worker, so a dead SMTP server or broker never fails the request and
each email goes out once SMTP is back. Requests queue them with accounts.services.email_queue."""

import logging
from datetime import datetime, timedelta
from smtplib import (
    SMTPConnectError,
    SMTPException,
    SMTPHeloError,
    SMTPRecipientsRefused,
    SMTPResponseException,
    SMTPServerDisconnected,
)

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.db import transaction
from django.utils import timezone

from accounts.models import QueuedEmail

logger = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(minutes=30)
# Errors that mean no message can go now (other SMTP errors concern one message).
SMTP_CONNECTION_DOWN = (OSError, SMTPServerDisconnected, SMTPConnectError, SMTPHeloError)


def _stored(message: EmailMessage) -> dict:
    html = next(
        (body for body, kind in getattr(message, "alternatives", []) if kind == "text/html"), ""
    )
    return {
        "subject": message.subject,
        "body": message.body,
        "html": html,
        "from_email": message.from_email,
        "to": list(message.to),
        "headers": dict(message.extra_headers),
    }


def _message(stored: dict) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        stored["subject"],
        stored["body"],
        stored["from_email"],
        stored["to"],
        headers=stored.get("headers") or None,
    )
    if stored.get("html"):
        message.attach_alternative(stored["html"], "text/html")
    return message


def emails_store(*, messages: list[EmailMessage], template: str) -> list[int]:
    """Keep these rendered emails in the outbox; returns their ids. Sends nothing."""
    rows = QueuedEmail.objects.bulk_create(
        QueuedEmail(template=template, message=_stored(message)) for message in messages
    )
    return [row.pk for row in rows]


def queued_emails_send(*, email_ids: list[int] | None = None, now: datetime | None = None) -> int:
    """Send these outbox emails (without ids, every one whose next try is due) over one SMTP
    connection, deleting each as the server accepts it. On an SMTP failure it stops, and those
    not sent wait longer each time. Emails older than the links they carry
    (PASSWORD_RESET_TIMEOUT) are dropped unsent. Returns how many were sent. Logs ids, kinds
    and counts, never addresses."""
    now = now or timezone.now()
    _expired_drop(now=now)
    if email_ids is None:  # the retry: what is due, oldest first
        due = QueuedEmail.objects.filter(next_try_at__lte=now)
        ids = list(due.values_list("pk", flat=True)[:500])
    else:  # named emails go now, whatever their back-off says
        ids = list(QueuedEmail.objects.filter(pk__in=email_ids).values_list("pk", flat=True))
    sent, tried = 0, set()
    try:
        with get_connection() as connection:
            for email_id in ids:
                try:
                    sent += _send_one(email_id=email_id, connection=connection)
                except SMTPRecipientsRefused:
                    _refused_drop(email_id=email_id)
                except SMTP_CONNECTION_DOWN:
                    raise
                except SMTPException as exc:  # this message only: try the next one
                    one = QueuedEmail.objects.filter(pk=email_id)
                    _failure_record(emails=one, error=exc, now=now)
                    tried.add(email_id)
    except (*SMTP_CONNECTION_DOWN, SMTPException) as exc:  # no message can go now
        waiting = QueuedEmail.objects.filter(pk__in=ids).exclude(pk__in=tried)
        _failure_record(emails=waiting, error=exc, now=now)
        logger.warning(
            "SMTP unreachable (%s): %d queued email(s) wait for a retry",
            _error_text(exc),
            len(waiting),
        )
    if sent:
        logger.info("Queued emails sent: %d", sent)
    return sent


def _send_one(*, email_id: int, connection) -> int:
    with transaction.atomic():
        row = QueuedEmail.objects.select_for_update(skip_locked=True).filter(pk=email_id).first()
        if row is None:  # sent meanwhile, or another worker holds it
            return 0
        connection.send_messages([_message(row.message)])
        row.delete()
    return 1


def _refused_drop(*, email_id: int) -> None:
    """The receiving server refused every recipient (no such address): trying again cannot help."""
    row = QueuedEmail.objects.filter(pk=email_id).first()
    if row is not None:
        row.delete()
        logger.error(
            "Dropped queued %s email %d: SMTP refused its recipient", row.template, email_id
        )


def _failure_record(*, emails, error: Exception, now: datetime) -> None:
    for row in emails:
        row.attempts += 1
        row.last_error = _error_text(error)
        row.next_try_at = now + min(MAX_BACKOFF, timedelta(minutes=2 ** min(row.attempts, 5)))
        row.save(update_fields=["attempts", "last_error", "next_try_at"])


def _error_text(error: Exception) -> str:
    """The error's type and SMTP code: its text may quote an address."""
    code = f" {error.smtp_code}" if isinstance(error, SMTPResponseException) else ""
    return f"{type(error).__name__}{code}"[:100]


def _expired_drop(*, now: datetime) -> None:
    cutoff = now - timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)
    expired = QueuedEmail.objects.filter(created_at__lt=cutoff)
    for template in set(expired.values_list("template", flat=True)):
        count, _ = expired.filter(template=template).delete()
        logger.error(
            "Dropped %d unsent %s email(s): SMTP refused them until their links expired",
            count,
            template,
        )
