"""Asking Celery for report work: a large export's build, and a count of the snapshot soon."""

from datetime import datetime

from django.core.cache import cache
from django.utils import timezone

from accounts.models import User
from cms.services import task_enqueue_on_commit
from training.models import ReportExport
from training.reports.exports import report_exports_purge

COUNTS_SOON_SECONDS = 60


def report_counts_refresh_soon() -> None:
    """After a change to the figures: count them again in a minute. Changes within that minute
    share the one count (the key lasts as long as the wait), so a busy hour costs 60 counts at
    most, and the pages are never more than about a minute behind."""
    from training.tasks import report_counts_refresh_task

    if cache.add("aware-report-counts-queued", True, timeout=COUNTS_SOON_SECONDS):
        task_enqueue_on_commit(report_counts_refresh_task, countdown=COUNTS_SOON_SECONDS)


def report_export_request(
    *, owner: User, report: str, export_format: str, params: dict, now: datetime | None = None
) -> ReportExport:
    """Record a large export and queue `report_export_build_task` after commit. Deletes
    expired exports (rows and files) first, so old files never pile up."""
    from training.tasks import report_export_build_task

    now = now or timezone.now()
    report_exports_purge(now=now)
    export = ReportExport.objects.create(
        owner=owner,
        report=report,
        export_format=export_format,
        params=params,
        created_at=now,
        expires_at=now + ReportExport.LIFETIME,
    )
    task_enqueue_on_commit(report_export_build_task, export_id=export.pk)
    return export
