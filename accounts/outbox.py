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
from django.utils import timezone

from accounts.models import QueuedEmail
from cms.mail import email_send_watched, smtp_refused

logger = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(minutes=30)
# A send that claimed an email and has not finished in this long has died (EMAIL_TIMEOUT is well
# under it): the retry settles it.
STALE_SENDING = timedelta(minutes=10)
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


def _email_of(row: QueuedEmail) -> EmailMessage | None:
    """The email a row stands for: stored whole, or (an import's invitation) rendered now."""
    if "invite" in row.message:
        from accounts.invitations import invitation_email

        return invitation_email(
            user_id=row.message["invite"], by_code=row.message.get("by_code", False)
        )
    return _message(row.message)


def emails_store(*, messages: list[EmailMessage], template: str) -> list[int]:
    """Keep these rendered emails in the outbox; returns their ids. Sends nothing."""
    rows = QueuedEmail.objects.bulk_create(
        QueuedEmail(template=template, message=_stored(message)) for message in messages
    )
    return [row.pk for row in rows]


def queued_emails_send(*, email_ids: list[int] | None = None, now: datetime | None = None) -> int:
    """Send these outbox emails (without ids, every one whose next try is due) over one SMTP
    connection, deleting each the moment the server accepts it. Each is claimed before it goes
    (so two workers, or a task delivered twice, send it once) and the hand-over to the server
    is noted: the retry first settles sends that died midway (see _stale_settle). On an SMTP
    failure it stops, and those not sent wait longer each time. Emails older than the links
    they carry (PASSWORD_RESET_TIMEOUT) are dropped unsent. Returns how many were sent. Logs
    ids, kinds and counts, never addresses."""
    now = now or timezone.now()
    _expired_drop(now=now)
    pending = QueuedEmail.objects.filter(state=QueuedEmail.State.PENDING)
    if email_ids is None:  # the retry: what is due, oldest first
        _stale_settle(now=now)
        ids = list(pending.filter(next_try_at__lte=now).values_list("pk", flat=True)[:500])
    else:  # named emails go now, whatever their back-off says
        ids = list(pending.filter(pk__in=email_ids).values_list("pk", flat=True))
    if not ids:
        return 0
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
                    one = pending.filter(pk=email_id)
                    _failure_record(emails=one, error=exc, now=now)
                    tried.add(email_id)
    except (*SMTP_CONNECTION_DOWN, SMTPException) as exc:  # no message can go now
        waiting = pending.filter(pk__in=ids).exclude(pk__in=tried)
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
    """Claim one email (waiting -> being sent, committed before anything goes out), note the
    hand-over to the server, and delete it the moment the server accepts it. A failure before
    the hand-over puts it back to waiting and raises; one after it (the server may have it)
    marks it uncertain."""
    now = timezone.now()
    claimed = QueuedEmail.objects.filter(pk=email_id, state=QueuedEmail.State.PENDING).update(
        state=QueuedEmail.State.SENDING, claimed_at=now, handed_over_at=None
    )
    if not claimed:  # sent, being sent or settled meanwhile
        return 0
    this_attempt = QueuedEmail.objects.filter(pk=email_id, claimed_at=now)
    row = this_attempt.first()
    try:
        email = _email_of(row)
    except Exception as exc:  # this email only: it waits longer, the others still go
        logger.exception("Queued %s email %d could not be rendered", row.template, email_id)
        this_attempt.update(state=QueuedEmail.State.PENDING)
        _failure_record(emails=QueuedEmail.objects.filter(pk=email_id), error=exc, now=now)
        return 0
    if email is None:
        this_attempt.delete()
        logger.info("Queued %s email %d not sent: its person has left", row.template, email_id)
        return 0
    accepted = False

    def handover() -> None:
        this_attempt.update(handed_over_at=timezone.now())

    def acceptance(reply: str) -> None:
        nonlocal accepted
        accepted = True
        this_attempt.delete()  # it may hold a sign-in link: kept no longer than needed

    try:
        email_send_watched(
            email,
            on_handover=handover,
            on_accepted=acceptance,
            connection=connection,
        )
    except Exception as exc:
        if accepted:
            return 1
        if this_attempt.filter(handed_over_at__isnull=False).exists() and not smtp_refused(exc):
            this_attempt.update(state=QueuedEmail.State.UNCERTAIN, last_error=_error_text(exc))
            logger.error(
                "Queued %s email %d may have been sent (%s after the hand-over): not sent again",
                row.template,
                email_id,
                _error_text(exc),
            )
            if isinstance(exc, SMTP_CONNECTION_DOWN):
                raise
            return 0
        this_attempt.update(state=QueuedEmail.State.PENDING)
        raise
    return 1


def _stale_settle(*, now: datetime) -> None:
    """Sends claimed over STALE_SENDING ago have died (the SMTP timeout is well under it). One
    that died before handing the email to the server provably did not send it: it waits again,
    to be sent once. One that died after may have: it is marked uncertain, never sent again
    automatically, and shown in the admin (Django admin -> Queued emails)."""
    stale = QueuedEmail.objects.filter(
        state=QueuedEmail.State.SENDING, claimed_at__lt=now - STALE_SENDING
    )
    uncertain = stale.filter(handed_over_at__isnull=False).update(
        state=QueuedEmail.State.UNCERTAIN, last_error="Sender stopped after the hand-over"
    )
    if uncertain:
        logger.error(
            "%d queued email(s) were handed to the mail server by a sender that then stopped: "
            "not sent again (check the mail server's log)",
            uncertain,
        )
    stale.filter(handed_over_at__isnull=True).update(state=QueuedEmail.State.PENDING)


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
