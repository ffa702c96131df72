"""Celery tasks for people (thin: each calls one service)."""

from celery import shared_task


@shared_task
def people_invite_task(user_ids: list[int]) -> int:
    """Email an invitation to set a password to each of these people (queued by an import)."""
    from accounts.invitations import people_invite

    return people_invite(user_ids=user_ids)


@shared_task
def queued_email_send_task(email_id: int) -> int:
    """Send one email from the outbox (queued when a request asks for it). Safe to run twice:
    a sent email is no longer in the outbox."""
    from accounts.outbox import queued_emails_send

    return queued_emails_send(email_ids=[email_id])


@shared_task
def queued_emails_retry_task() -> int:
    """Every two minutes (beat): send the outbox emails whose next try is due."""
    from accounts.outbox import queued_emails_send

    return queued_emails_send()
