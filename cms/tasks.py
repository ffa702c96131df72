"""Celery tasks for the site shell."""

from celery import shared_task

from cms.services import heartbeat_record


@shared_task
def heartbeat_record_task() -> None:
    """Beat runs this every five minutes; /healthz shows when a worker last ran it."""
    heartbeat_record(name="worker")
