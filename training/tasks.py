"""Celery tasks for training (thin: each calls one service)."""

from celery import shared_task

from training.services import assignments_sync


@shared_task
def assignments_sync_task(user_ids: list[int] | None = None) -> dict:
    """Nightly (beat) and after imports: bring open assignments in line with the rules."""
    result = assignments_sync(user_ids=user_ids)
    return {"created": result.created, "closed": result.closed}
