"""Writes for HR reports: the counts the pages read, export files (streamed, or built by
Celery) and the monthly HR pack."""

import csv
import io
import logging
import secrets
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.utils import timezone
from wagtail.models import Site

from accounts.models import User
from cms.services import task_enqueue_on_commit
from training.models import (
    Audience,
    ComplianceCount,
    ComplianceWeek,
    SnapshotGroup,
    ReportExport,
    ReportSettings,
)
from training.reports import (
    CATEGORIES,
    ExportTable,
    ReportFilters,
    overdue_table,
    overview_groups,
    overview_table,
    people_table,
    report_filters_from_params,
    trend_groups,
    trend_table,
    week_endings,
)

logger = logging.getLogger(__name__)

ASYNC_EXPORT_ROWS = 5000  # larger exports are built by Celery, not in the request
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PROGRESS_EVERY = 1000
COUNTS_LOCK = 7_242_003  # PostgreSQL advisory lock id: one count at a time


def report_counts_refresh(*, now: datetime | None = None) -> bool:
    """Count the overview again, and any of the last year's weeks not yet counted, for the
    report pages to read (training.reports.counted_overview and counted_trend).

    One grouped query over the open assignments, plus one over all of them for missing weeks
    (the first time, a year of weeks; then one a week). The old counts are replaced in the same
    transaction, so a page sees the old figures or the new, never a mix. Returns False when
    another count is already running."""
    now = now or timezone.now()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [COUNTS_LOCK])
                if not cursor.fetchone()[0]:
                    return False
        audiences = list(Audience.objects.prefetch_related("departments"))
        first_figure = 3 + len(audiences)

        def group(row: tuple) -> dict:
            flags = row[3:first_figure]
            return {
                "module_id": row[0],
                "person_type": row[1],
                "department_id": row[2],
                "audience_key": SnapshotGroup.key_for(
                    a.pk for a, member in zip(audiences, flags, strict=True) if member
                ),
            }

        rows = overview_groups(filters=ReportFilters(), now=now, audiences=audiences)
        ComplianceCount.objects.all().delete()
        ComplianceCount.objects.bulk_create(
            ComplianceCount(
                **group(row),
                **dict(zip(CATEGORIES, row[first_figure:], strict=True)),
                counted_at=now,
            )
            for row in rows
        )
        ends = week_endings(now=now)
        counted = set(
            ComplianceWeek.objects.filter(week_ending__in=ends).values_list(
                "week_ending", flat=True
            )
        )
        missing = [day for day in ends if day not in counted]
        weeks = []
        if missing:
            for row in trend_groups(week_ending_dates=missing, audiences=audiences):
                figures = row[first_figure:]
                for i, day in enumerate(missing):
                    weeks.append(
                        ComplianceWeek(
                            **group(row),
                            week_ending=day,
                            must_comply=figures[2 * i],
                            compliant=figures[2 * i + 1],
                        )
                    )
            ComplianceWeek.objects.bulk_create(weeks, batch_size=5000)
    logger.info("Report counts: %s groups; %s rows for past weeks added", len(rows), len(weeks))
    return True


COUNTS_SOON_SECONDS = 60


def report_counts_refresh_soon() -> None:
    """After a change to the figures: count them again in a minute. Changes within that minute
    share the one count (the key lasts as long as the wait), so a busy hour costs 60 counts at
    most, and the pages are never more than about a minute behind."""
    from training.tasks import report_counts_refresh_task

    if cache.add("aware-report-counts-queued", True, timeout=COUNTS_SOON_SECONDS):
        task_enqueue_on_commit(report_counts_refresh_task, countdown=COUNTS_SOON_SECONDS)


FORMULA_STARTS = frozenset("=+-@")


def _cell(value):
    """Text a spreadsheet will not run as a formula (CSV injection)."""
    if value.__class__ is str and value[:1] in FORMULA_STARTS:
        return "'" + value
    return value


CSV_CHUNK_ROWS = 1000


def csv_chunks(table: ExportTable) -> Iterator[tuple[str, int]]:
    """The table as CSV, CSV_CHUNK_ROWS rows at a time (for a StreamingHttpResponse or a
    file), each chunk with how many rows it holds."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")  # a BOM so Excel reads UTF-8
    writer.writerow(table.headings)
    rows = 0
    for row in table.rows():
        # _cell inline: this loop runs once per cell of a million-row export.
        writer.writerow(
            ["'" + v if v.__class__ is str and v[:1] in FORMULA_STARTS else v for v in row]
        )
        rows += 1
        if rows == CSV_CHUNK_ROWS:
            yield buffer.getvalue(), rows
            buffer.seek(0)
            buffer.truncate()
            rows = 0
    yield buffer.getvalue(), rows


def xlsx_write(
    tables: list[ExportTable], output, *, progress: Callable[[int], None] | None = None
) -> None:
    """A workbook with one sheet per table, written row by row (openpyxl's write-only mode)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    done = 0
    for table in tables:
        sheet = workbook.create_sheet(title=table.title[:31])
        sheet.append(table.headings)
        for row in table.rows():
            sheet.append([_cell(v) for v in row])
            done += 1
            if progress and done % PROGRESS_EVERY == 0:
                progress(done)
    workbook.save(output)


def report_table(
    *, report: str, filters: ReportFilters, now: datetime, share_outside_hr: bool = False
) -> ExportTable:
    """The export table for a report by name: "overview", "people", "overdue" or "trend"."""
    if report == "overview":
        return overview_table(filters=filters, now=now, share_outside_hr=share_outside_hr)
    if report == "people":
        return people_table(filters=filters, now=now)
    if report == "overdue":
        return overdue_table(filters=filters, now=now)
    if report == "trend":
        return trend_table(filters=filters, now=now)
    raise ValueError(f"No report called {report!r}")


def exports_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


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


def report_export_build(*, export_id: int, now: datetime | None = None) -> ReportExport:
    """Write the export's file under MEDIA_ROOT/exports with a random name, saving progress as it
    goes. Harmless to run twice: a finished export is left alone."""
    now = now or timezone.now()
    export = ReportExport.objects.select_related("owner").get(pk=export_id)
    if export.state == ReportExport.State.READY:
        return export
    params = dict(export.params)
    filters = report_filters_from_params(
        params=params, councillors_only=params.pop("_councillors_only", False)
    )
    table = report_table(
        report=export.report,
        filters=filters,
        now=now,
        share_outside_hr=bool(params.get("share")),
    )
    export.state = ReportExport.State.RUNNING
    export.rows_total = table.count()
    export.file_name = f"{secrets.token_urlsafe(24)}.{export.export_format}"
    export.save(update_fields=["state", "rows_total", "file_name"])

    def progress(done: int) -> None:
        ReportExport.objects.filter(pk=export.pk).update(rows_done=done)

    path = exports_dir() / export.file_name
    try:
        if export.export_format == "csv":
            with path.open("w", encoding="utf-8", newline="") as output:
                done = 0
                for text, rows in csv_chunks(table):
                    output.write(text)
                    done += rows
                    if rows and done % PROGRESS_EVERY == 0:
                        progress(done)
        else:
            with path.open("wb") as output:
                xlsx_write([table], output, progress=progress)
    except Exception:
        logger.exception("Report export %s failed", export.pk)
        export.state = ReportExport.State.FAILED
        export.save(update_fields=["state"])
        raise
    export.state = ReportExport.State.READY
    export.rows_done = export.rows_total
    export.save(update_fields=["state", "rows_done"])
    return export


class ExportUnavailable(Exception):
    """The export cannot be downloaded; the message says why, for the person asking."""


def report_export_file(*, export: ReportExport, user: User, now: datetime) -> Path:
    """The export's file, for its owner only, while it has not expired."""
    if export.owner_id != user.pk:
        raise PermissionError
    if now >= export.expires_at:
        raise ExportUnavailable(
            "This download link has expired (links last 24 hours). Export the report again."
        )
    if export.state != ReportExport.State.READY:
        raise ExportUnavailable("This export is not ready yet.")
    return exports_dir() / export.file_name


def report_exports_purge(*, now: datetime | None = None) -> int:
    """Delete expired export files and their rows."""
    now = now or timezone.now()
    expired = list(ReportExport.objects.filter(expires_at__lte=now))
    for export in expired:
        if export.file_name:
            (exports_dir() / export.file_name).unlink(missing_ok=True)
    ReportExport.objects.filter(pk__in=[e.pk for e in expired]).delete()
    return len(expired)


def hr_pack_build(*, now: datetime) -> bytes:
    """The monthly HR pack: overview (small numbers kept, it stays in HR), councillors, trend and
    the overdue list, as one XLSX workbook."""
    everyone = ReportFilters()
    councillors = ReportFilters(councillors_only=True)
    tables = [
        overview_table(filters=everyone, now=now),
        overview_table(filters=councillors, now=now),
        trend_table(filters=everyone, now=now),
        overdue_table(filters=everyone, now=now),
    ]
    tables[1].title = "Councillors"
    output = io.BytesIO()
    xlsx_write(tables, output)
    return output.getvalue()


def hr_pack_send(*, now: datetime | None = None) -> bool:
    """Email the HR pack to the HR mailbox in the report settings; False when none is set.

    Sends one email with the XLSX attached."""
    now = now or timezone.now()
    site = Site.objects.filter(is_default_site=True).first()
    mailbox = ReportSettings.for_site(site).hr_mailbox if site else ""
    if not mailbox:
        logger.info("HR pack not sent: no HR mailbox in the report settings")
        return False
    month = timezone.localdate(now).strftime("%B %Y")
    message = EmailMessage(
        subject=f"Aware training: HR pack for {month}",
        body=(
            f"The training compliance pack for {month} is attached: compliance by module, "
            "department, audience and person type; councillors; the weekly trend over the last "
            "year; and everyone overdue.\n\nThe figures include small numbers: keep it within HR."
        ),
        to=[mailbox],
    )
    message.attach(
        f"aware-hr-pack-{timezone.localdate(now):%Y-%m}.xlsx", hr_pack_build(now=now), XLSX_TYPE
    )
    message.send()
    return True
