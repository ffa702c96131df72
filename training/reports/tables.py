"""Export tables: a heading row and a stream of rows, shared by downloads, queued exports and
the HR pack. Row generators read with .iterator() so memory stays flat."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from wagtail.models import Page

from accounts.models import Department, User
from training.models import SentMessage, Status
from training.reminders.selectors import reminders_last_sent
from training.reports.figures import CATEGORIES, CATEGORY_LABELS, SMALL_NUMBER, ComplianceRow
from training.reports.filters import ReportFilters, department_names, report_assignments
from training.reports.people import OVERDUE_VALUES, overdue_assignments, person_record
from training.reports.snapshot import report_overview, report_trend, snapshot_taken_at

# A cell starting with one of these would run as a formula in a spreadsheet (CSV injection):
# exports quote it away with a leading apostrophe.
FORMULA_STARTS = frozenset("=+-@")


@dataclass
class ExportTable:
    """A heading row and its rows. `copy_query`, where a table has one, gives the same rows as
    PostgreSQL SQL and its parameters, each column a CSV cell as csv_chunks' Python path writes
    it (text, formulas quoted away, empty as NULL): on PostgreSQL csv_chunks has the database
    write the CSV (COPY) rather than Python, cell by cell."""

    title: str
    headings: list[str]
    rows: Callable[[], Iterator[list]]
    count: Callable[[], int]
    copy_query: Callable[[], tuple[str, list]] | None = None


def streamed(queryset: QuerySet, *, chunk: int = 2000) -> Iterator:
    """Every row of the queryset, read through a server-side cursor `chunk` rows at a time.

    In a transaction, so the cursor streams (outside one, PostgreSQL keeps a held cursor's whole
    result first); and planned for reading every row, not the first tenth (PostgreSQL plans a
    cursor for its first rows unless told: the index walk and nested loops that suit a page
    take longer than hash joins over a whole export)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL cursor_tuple_fraction = 1")
        yield from queryset.iterator(chunk_size=chunk)


def _suppress(value: int, share_outside_hr: bool):
    return "<5" if share_outside_hr and 0 < value < SMALL_NUMBER else value


def _rate_cell(row: ComplianceRow, share_outside_hr: bool):
    if row.rate is None or (share_outside_hr and row.denominator < SMALL_NUMBER):
        return ""
    return round(row.rate, 1)


def overview_table(
    *, filters: ReportFilters, now: datetime, share_outside_hr: bool = False
) -> ExportTable:
    """The overview's figures, one row per module and group; small cells suppressed on request."""
    headings = [
        "Module",
        "Breakdown",
        "Group",
        *(CATEGORY_LABELS[c] for c in ("assigned", *CATEGORIES)),
        "Compliance rate (%)",
    ]
    cache: list = []

    def lines() -> list[list]:
        if not cache:
            overview, _ = report_overview(
                filters=filters, now=now, counted_at=snapshot_taken_at(now=now)
            )
            sections = [("All", overview.modules), *overview.sections()]
            for breakdown, rows in sections:
                for row in rows:
                    cache.append(
                        [
                            row.module_title,
                            breakdown,
                            row.group,
                            *(
                                _suppress(n, share_outside_hr)
                                for n in (row.assigned, *(row.counts[c] for c in CATEGORIES))
                            ),
                            _rate_cell(row, share_outside_hr),
                        ]
                    )
        return cache

    return ExportTable("Compliance overview", headings, lambda: iter(lines()), lambda: len(lines()))


def _day(moment: datetime | None) -> date | str:
    return timezone.localdate(moment) if moment else ""


def _status_label(status: str) -> str:
    return Status(status).label


def people_table(*, filters: ReportFilters, now: datetime) -> ExportTable:
    """Every open assignment with its status, one row per person and module, not-started too."""
    headings = [
        "Name",
        "Email",
        "Employee number",
        "Person type",
        "Department",
        "Manager",
        "Module",
        "Status",
        "Assigned",
        "Due",
        "Started",
        "Completed",
        "Valid until",
        "Exempt reason",
        "Organisation",  # partners, contractors and agency staff (accounts.partners)
    ]
    queryset = (
        report_assignments(filters=filters, now=now)
        .select_related("user", "user__department", "user__line_manager", "module")
        .order_by("user__full_name", "user_id", "module__title")
    )

    def rows() -> Iterator[list]:
        names = department_names()
        for a in streamed(queryset):
            user = a.user
            yield [
                user.full_name,
                user.email,
                user.employee_number or "",
                user.get_person_type_display(),
                names[user.department.path][0] if user.department_id else "",
                user.line_manager.full_name if user.line_manager_id else "",
                a.module.title,
                _status_label(a.status),
                timezone.localdate(a.assigned_at),
                a.due_on,
                _day(a.started_at),
                _day(a.completed_at),
                _day(a.valid_until),
                a.exempt_reason,
                user.organisation,
            ]

    return ExportTable("Everyone's status", headings, rows, queryset.count)


OVERDUE_HEADINGS = [
    "Name",
    "Email",
    "Employee number",
    "Department",
    "Manager",
    "Module",
    "Due",
    "Days overdue",
    "Last reminder sent",
]


NOT_REMINDED = "—"


def overdue_line(row: tuple, *, names: dict, reminders: dict, today: date) -> list:
    """One overdue-list row (a tuple of OVERDUE_VALUES), as the page and the exports show it."""
    pk, _user_id, name, email, number, path, manager, module, due_on = row
    reminder = reminders.get(pk)
    return [
        name,
        email,
        number or "",
        names[path][0] if path else "",
        manager or "",
        module,
        due_on,
        (today - due_on).days,
        timezone.localtime(reminder).strftime("%d %b %Y") if reminder else NOT_REMINDED,
    ]


def overdue_table(*, filters: ReportFilters, now: datetime, chunk: int = 2000) -> ExportTable:
    """The whole overdue list, streamed in chunks (reminder dates asked for once per chunk)."""
    queryset = overdue_assignments(filters=filters, now=now)
    today = timezone.localdate(now)

    def rows() -> Iterator[list]:
        names = department_names()
        batch: list[dict] = []
        for row in streamed(queryset, chunk=chunk):
            batch.append(row)
            if len(batch) == chunk:
                yield from _overdue_batch(batch, names=names, today=today)
                batch = []
        yield from _overdue_batch(batch, names=names, today=today)

    # A list that is empty by its filters (a status other than overdue) has no SQL to copy.
    copy_query = None if queryset.query.is_empty() else lambda: _overdue_copy(queryset, today)
    return ExportTable("Overdue", OVERDUE_HEADINGS, rows, queryset.count, copy_query)


_FORMULA_SQL = ", ".join(f"'{c}'" for c in sorted(FORMULA_STARTS))


def _text_cell(column: str) -> str:
    """A text column as the Python path writes its cell: a leading formula character quoted
    away, and empty as NULL (COPY writes "" for an empty string; Python's csv, nothing)."""
    escaped = (
        f"CASE WHEN left({column}, 1) IN ({_FORMULA_SQL}) THEN chr(39) || {column} "
        f"ELSE {column} END"
    )
    return f"NULLIF({escaped}, '')"


def _overdue_copy(queryset: QuerySet, today: date) -> tuple[str, list]:
    """The overdue list's cells in SQL, as overdue_line writes them: department full names
    (as department_names) from one pass over the departments, and the last reminder sent (as
    reminders_last_sent) from one pass over the learner digests' items."""
    # The module's title from a join here, not the list's per-row lookup (left unread, so
    # PostgreSQL leaves it out).
    inner, params = (
        queryset.order_by().values_list(*OVERDUE_VALUES, "module_id").query.sql_with_params()
    )
    departments = Department._meta.db_table
    sql = f"""
        WITH names AS (
          SELECT d.path, string_agg(x.name, ' > ' ORDER BY x.depth) AS full_name
          FROM {departments} d
          CROSS JOIN generate_series(1, d.depth) k
          JOIN {departments} x ON x.path = left(d.path, k * {Department.steplen})
          GROUP BY d.path
        ), reminded AS (
          SELECT s.recipient_id AS user_id, (i->>'assignment')::numeric AS assignment_id,
            MAX(s.sent_at) AS sent_at
          FROM {SentMessage._meta.db_table} s
          CROSS JOIN LATERAL jsonb_array_elements(s.items) i
          WHERE s.kind = %s AND s.state = %s AND jsonb_typeof(i->'assignment') = 'number'
          GROUP BY 1, 2
        )
        SELECT {_text_cell("o.name")}, {_text_cell("o.email")}, {_text_cell("o.number")},
          {_text_cell("n.full_name")}, {_text_cell("o.manager")}, {_text_cell("page.title")},
          to_char(o.due_on, 'YYYY-MM-DD'), %s::date - o.due_on,
          COALESCE(to_char(r.sent_at AT TIME ZONE %s, 'DD Mon YYYY'), %s)
        FROM ({inner})
          o (pk, user_id, name, email, number, path, manager, module, due_on, module_id)
        JOIN {Page._meta.db_table} page ON page.id = o.module_id
        LEFT JOIN names n ON n.path = o.path
        LEFT JOIN reminded r ON r.assignment_id = o.pk AND r.user_id = o.user_id
        ORDER BY o.due_on, o.user_id, o.pk
    """  # noqa: S608 - table names and fixed fragments; every value is a parameter
    return sql, [
        SentMessage.Kind.LEARNER,
        SentMessage.State.SENT,
        today,
        timezone.get_current_timezone_name(),
        NOT_REMINDED,
        *params,
    ]


def _overdue_batch(batch: list[dict], *, names: dict, today: date) -> Iterator[list]:
    if not batch:
        return
    reminders = reminders_last_sent(assignment_users={row[0]: row[1] for row in batch})
    for row in batch:
        yield overdue_line(row, names=names, reminders=reminders, today=today)


NO_DATA = "No data"  # a week with nobody to count, as the page says it


def trend_table(*, filters: ReportFilters, now: datetime) -> ExportTable:
    """The weekly trend as the page shows it: "No data" for a week with nobody to count."""
    points: list = []

    def lines() -> list[list]:
        if not points:
            for p in report_trend(filters=filters, now=now, counted_at=snapshot_taken_at(now=now)):
                rate = NO_DATA if p.rate is None else round(p.rate, 1)
                points.append([p.week_ending, p.must_comply, p.compliant, rate])
        return points

    return ExportTable(
        "Weekly trend",
        ["Week ending", "Must comply", "Compliant", "Compliance rate (%)"],
        lambda: iter(lines()),
        lambda: len(lines()),
    )


def person_table(*, person: User, now: datetime) -> ExportTable:
    """One person's assignments (open and closed) and completion records, for an export."""
    record = person_record(person=person, now=now)

    def rows() -> Iterator[list]:
        for a in record.assignments:
            yield [
                "Assignment",
                a.module.title,
                _status_label(a.status),
                timezone.localdate(a.assigned_at),
                a.due_on,
                _day(a.completed_at),
                _day(a.valid_until),
                a.exempt_reason,
            ]
        for a in record.closed_assignments:
            yield [
                "Closed assignment",
                a.module.title,
                a.get_closed_reason_display(),
                timezone.localdate(a.assigned_at),
                a.due_on,
                _day(a.completed_at),
                timezone.localdate(a.closed_at),
                "",
            ]
        for c in record.completions:
            yield [
                "Completion record",
                f"{c.module.title} v{c.module_version}",
                f"{c.score}% ({c.get_source_display()}) code {c.verification_code}",
                "",
                "",
                timezone.localdate(c.completed_at),
                _day(c.expires_at),
                "",
            ]

    count = len(record.assignments) + len(record.closed_assignments) + len(record.completions)
    return ExportTable(
        f"Training record of {person.full_name}",
        [
            "Kind",
            "Module",
            "Status",
            "Assigned",
            "Due",
            "Completed",
            "Valid until / closed",
            "Note",
        ],
        rows,
        lambda: count,
    )


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
