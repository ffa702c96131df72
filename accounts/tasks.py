"""Celery tasks for people (thin: each calls one service)."""

from celery import shared_task


@shared_task(acks_late=True, reject_on_worker_lost=True)
def queued_email_send_task(email_id: int) -> int:
    """Send one email from the outbox (queued when a request asks for it). Safe to run twice,
    so acknowledged only once done: the email is claimed before it goes, and one sent, being
    sent or possibly sent is not sent again."""
    from accounts.outbox import queued_emails_send

    return queued_emails_send(email_ids=[email_id])


@shared_task(acks_late=True, reject_on_worker_lost=True)
def queued_emails_send_task(email_ids: list[int]) -> int:
    """Send a batch of outbox emails over one SMTP connection (an import's invitations). Safe
    to run twice, as queued_email_send_task."""
    from accounts.outbox import queued_emails_send

    return queued_emails_send(email_ids=email_ids)


@shared_task
def queued_emails_retry_task() -> int:
    """Every two minutes (beat): settle sends that died midway, then send the outbox emails
    whose next try is due."""
    from accounts.outbox import queued_emails_send

    return queued_emails_send()
