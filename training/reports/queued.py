"""Large exports asked for from a report page: recorded, then built by Celery."""

from datetime import datetime

from django.utils import timezone

from accounts.models import User
from cms.services import task_enqueue_on_commit
from training.models import ReportExport
from training.reports.exports import report_exports_purge
from training.tasks import report_export_build_task


def report_export_request(
    *, owner: User, report: str, export_format: str, params: dict, now: datetime | None = None
) -> ReportExport:
    """Record a large export and queue `report_export_build_task` after commit. Deletes
    expired exports (rows and files) first, so old files never pile up."""
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
