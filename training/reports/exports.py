"""Export files: CSV and XLSX writing; large exports built by Celery (build, download, purge)."""

import csv
import io
import logging
import secrets
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

from accounts.models import User
from training.models import ReportExport
from training.reports.filters import report_filters_from_params
from training.reports.tables import FORMULA_STARTS, ExportTable, report_table

logger = logging.getLogger(__name__)

ASYNC_EXPORT_ROWS = 5000  # larger exports are built by Celery, not in the request

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

PROGRESS_EVERY = 1000


def _cell(value):
    """Text a spreadsheet will not run as a formula (CSV injection)."""
    if value.__class__ is str and value[:1] in FORMULA_STARTS:
        return "'" + value
    return value


CSV_CHUNK_ROWS = 1000


def csv_chunks(table: ExportTable) -> Iterator[tuple[bytes, int]]:
    """The table as UTF-8 CSV (a BOM, so Excel reads UTF-8; Excel's dialect, CRLF line ends),
    CSV_CHUNK_ROWS rows at a time (for a StreamingHttpResponse or a file), each chunk with how
    many rows it holds. On PostgreSQL a table with a copy_query is written by the database
    (COPY), the same bytes as the Python path writes, in a fraction of the time."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    csv.writer(buffer).writerow(table.headings)
    heading = buffer.getvalue().encode()
    if table.copy_query is not None and connection.vendor == "postgresql":
        yield from _csv_copied(table, heading)
    else:
        yield from _csv_written(table, heading)


def _csv_written(table: ExportTable, heading: bytes) -> Iterator[tuple[bytes, int]]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    rows = 0
    first = heading
    for row in table.rows():
        # _cell inline: this loop runs once per cell of a million-row export.
        writer.writerow(
            ["'" + v if v.__class__ is str and v[:1] in FORMULA_STARTS else v for v in row]
        )
        rows += 1
        if rows == CSV_CHUNK_ROWS:
            yield first + buffer.getvalue().encode(), rows
            first = b""
            buffer.seek(0)
            buffer.truncate()
            rows = 0
    yield first + buffer.getvalue().encode(), rows


def _csv_copied(table: ExportTable, heading: bytes) -> Iterator[tuple[bytes, int]]:
    """COPY ... TO STDOUT in CSV, whose quoting is Python's csv's (a cell quoted when it holds a
    comma, a double quote, CR or LF; quotes doubled), its LF line ends made CRLF."""
    from psycopg import ClientCursor

    sql, params = table.copy_query()
    yield heading, 0
    connection.ensure_connection()
    # COPY takes no parameters: psycopg binds them into the statement, as it does every query
    # Django sends (client-side binding); Django's cursor.copy() takes a statement only.
    statement = ClientCursor(connection.connection).mogrify(sql, params)
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY ({statement}) TO STDOUT WITH (FORMAT csv)") as copy,
    ):
        lines: list = []
        for line in copy:  # one row each, as libpq hands them over
            lines.append(line)
            if len(lines) == CSV_CHUNK_ROWS:
                yield _crlf(lines), len(lines)
                lines = []
        yield _crlf(lines), len(lines)


def _crlf(lines: list) -> bytes:
    """Rows from COPY, each ending LF, as one chunk with CRLF line ends. COPY quotes any cell
    holding CR or LF, so without a double quote in the chunk every LF ends a row."""
    text = b"".join(lines)
    if b'"' not in text:
        return text.replace(b"\n", b"\r\n")
    return b"".join(bytes(line[:-1]) + b"\r\n" for line in lines)


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


def exports_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def report_export_build(*, export_id: int, now: datetime | None = None) -> ReportExport:
    """Write the export's file under MEDIA_ROOT/exports with a random name, saving progress as it
    goes. Built once: the build claims the export first (queued -> being built), so a task
    delivered twice, or to two workers at once, leaves the second one nothing to do."""
    now = now or timezone.now()
    claimed = ReportExport.objects.filter(pk=export_id, state=ReportExport.State.QUEUED).update(
        state=ReportExport.State.RUNNING
    )
    export = ReportExport.objects.select_related("owner").get(pk=export_id)
    if not claimed:  # being built, built, or failed: another run has it
        return export
    try:
        _export_write(export=export, now=now)
    except Exception:
        logger.exception("Report export %s failed", export.pk)
        export.state = ReportExport.State.FAILED
        export.save(update_fields=["state"])
        raise
    export.state = ReportExport.State.READY
    export.rows_done = export.rows_total
    export.save(update_fields=["state", "rows_done"])
    return export


def _export_write(*, export: ReportExport, now: datetime) -> None:
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
    export.rows_total = table.count()
    export.file_name = f"{secrets.token_urlsafe(24)}.{export.export_format}"
    export.save(update_fields=["rows_total", "file_name"])

    def progress(done: int) -> None:
        ReportExport.objects.filter(pk=export.pk).update(rows_done=done)

    path = exports_dir() / export.file_name
    if export.export_format == "csv":
        with path.open("wb") as output:
            done = 0
            for text, rows in csv_chunks(table):
                output.write(text)
                done += rows
                if rows and done % PROGRESS_EVERY == 0:
                    progress(done)
    else:
        with path.open("wb") as output:
            xlsx_write([table], output, progress=progress)


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
