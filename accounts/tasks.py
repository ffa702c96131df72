"""Celery tasks for people (thin: each calls one service)."""

from celery import shared_task


@shared_task
def people_invite_task(user_ids: list[int]) -> int:
    """Email an invitation to set a password to each of these people (queued by an import)."""
    from accounts.invitations import people_invite

    return people_invite(user_ids=user_ids)
