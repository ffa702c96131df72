"""The audit-committee pack: its figures (pack_figures), drawn as a PDF in pack_pdf.py,
and as an XLSX workbook with the same summary and the detail behind it (pack_xlsx).

Figures come from the report pages' own selectors (report_overview, report_trend), so the pack
and the pages always agree. Small numbers are suppressed as in exports shared outside HR."""

import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone
from wagtail.models import Site

from cms.models import CouncilSettings
from training.checkpoints import checkpoint_latest
from training.models import PackSettings
from training.reminders.selectors import messages_sent_by_kind
from training.reports.exports import xlsx_write
from training.reports.figures import SMALL_NUMBER, ComplianceRow, TrendPoint
from training.reports.filters import ReportFilters
from training.reports.snapshot import report_overview, report_trend, snapshot_taken_at
from training.reports.tables import ExportTable, overdue_table, overview_table, trend_table
from training.selectors import module_versions_in_force

MONTH = timedelta(days=28)  # "last month": the last week counted at least four weeks ago
OVERDUE_PLACES = 10
REMINDER_DAYS = timedelta(days=30)
TOO_FEW = "Too few to show"  # fewer than SMALL_NUMBER people: no rate, no mark


@dataclass
class Total:
    """Who must comply (assigned, not exempt), who has, and who is overdue, over some rows."""

    must_comply: int = 0
    compliant: int = 0
    overdue: int = 0

    @classmethod
    def of(cls, rows: list[ComplianceRow]) -> "Total":
        return cls(
            sum(r.denominator for r in rows),
            sum(r.counts["compliant"] for r in rows),
            sum(r.counts["overdue"] for r in rows),
        )

    @property
    def rate(self) -> float | None:
        return 100 * self.compliant / self.must_comply if self.must_comply else None


@dataclass
class PackTable:
    """A table of the pack: shown in the PDF and written as a sheet of the XLSX."""

    title: str
    headings: list[str]
    rows: list[list] = field(default_factory=list)

    def as_export(self) -> ExportTable:
        rows = self.rows
        return ExportTable(self.title, self.headings, lambda: iter(rows), lambda: len(rows))


@dataclass
class PackFigures:
    council_name: str
    made_at: datetime
    counted_at: datetime
    target: int
    amber_from: int
    headline: Total
    councillors: Total
    month_ago: TrendPoint | None
    year_ago: TrendPoint | None
    directorates: list[tuple[str, Total, str]]  # name, figures, "Green"/"Amber"/"Red"/...
    trend: list[TrendPoint]
    tables: dict[str, PackTable]
    checkpoint: dict | None

    def rag(self, rate: float | None) -> str:
        return _rag(rate, self.target, self.amber_from)


def _rag(rate: float | None, target: int, amber_from: int) -> str:
    if rate is None:
        return "No data"
    if rate >= target:
        return "Green"
    return "Amber" if rate >= amber_from else "Red"


def percent(rate: float | None) -> str:
    return "No data" if rate is None else f"{rate:.1f}%"


def change(now_rate: float | None, then: TrendPoint | None) -> str:
    """ "+2.5 points" / "-1.0 points" / "No data"."""
    if now_rate is None or then is None or then.rate is None:
        return "No data"
    return f"{now_rate - then.rate:+.1f} points"


def suppressed(n: int) -> int | str:
    return "<5" if 0 < n < SMALL_NUMBER else n


def suppressed_rate(total: Total) -> str:
    return TOO_FEW if total.must_comply < SMALL_NUMBER else percent(total.rate)


def _directorates(rows: list[ComplianceRow]) -> dict[str, Total]:
    """Department rows (every module) summed per department: name -> figures, in name order."""
    by_name: dict[str, list[ComplianceRow]] = {}
    for row in rows:
        by_name.setdefault(row.group, []).append(row)
    return {name: Total.of(by_name[name]) for name in sorted(by_name)}


def pack_figures(*, now: datetime) -> PackFigures:
    """Everything the pack says, computed once for the PDF and the XLSX."""
    site = Site.objects.filter(is_default_site=True).first()
    pack_settings = PackSettings.for_site(site) if site else PackSettings()
    council = CouncilSettings.for_site(site).council_name if site else ""
    counted_at = snapshot_taken_at(now=now)
    overview, counted = report_overview(filters=ReportFilters(), now=now, counted_at=counted_at)
    councillors, _ = report_overview(
        filters=ReportFilters(councillors_only=True), now=now, counted_at=counted_at
    )
    trend = report_trend(filters=ReportFilters(), now=now, counted_at=counted_at)
    headline = Total.of(overview.modules)
    councillors_total = Total.of(councillors.modules)
    today = timezone.localdate(now)
    past = [p for p in trend[:-1] if p.week_ending <= today - MONTH]
    month_ago = past[-1] if past else None
    year_ago = trend[0] if len(trend) > 1 else None
    target = pack_settings.target_rate
    amber_from = target - pack_settings.amber_margin

    top_level = _directorates([r for r in overview.departments if r.depth == 0])
    directorates = [
        (name, t, _rag(t.rate, target, amber_from) if t.must_comply >= SMALL_NUMBER else TOO_FEW)
        for name, t in top_level.items()
    ]
    every_department = _directorates(overview.departments)
    leaves = [
        (name, t)
        for name, t in every_department.items()
        if not any(other.startswith(name + " > ") for other in every_department)
    ]
    leaves.sort(key=lambda pair: (-pair[1].overdue, pair[0]))

    tables = {
        "summary": PackTable(
            "Summary",
            ["Measure", "Figure"],
            [
                ["Completion rate, everyone", percent(headline.rate)],
                ["Council's target", f"{target}%"],
                ["Mark", _rag(headline.rate, target, amber_from)],
                ["People and modules that must be completed", headline.must_comply],
                ["Completed and valid", headline.compliant],
                ["Overdue", headline.overdue],
                [_since("Change since last month", month_ago), change(headline.rate, month_ago)],
                [_since("Change since last year", year_ago), change(headline.rate, year_ago)],
                [
                    "Completion rate, councillors",
                    suppressed_rate(councillors_total),
                ],
                ["Councillors overdue", suppressed(councillors_total.overdue)],
            ],
        ),
        "directorates": PackTable(
            "Directorates",
            ["Directorate", "Must complete", "Completion rate", "Mark", "Overdue"],
            [
                [
                    name,
                    t.must_comply,
                    suppressed_rate(t),
                    mark,
                    suppressed(t.overdue),
                ]
                for name, t, mark in directorates
            ],
        ),
        "councillors": PackTable(
            "Councillors by module",
            ["Module", "Must complete", "Completion rate", "Overdue"],
            [
                [
                    row.module_title,
                    row.denominator,
                    suppressed_rate(Total.of([row])),
                    suppressed(row.counts["overdue"]),
                ]
                for row in councillors.modules
            ],
        ),
        "overdue": PackTable(
            "Where overdue training is",
            ["Department or service", "Overdue", "Must complete", "Completion rate"],
            [
                [name, suppressed(t.overdue), t.must_comply, suppressed_rate(t)]
                for name, t in leaves[:OVERDUE_PLACES]
                if t.overdue
            ],
        ),
        "trend": PackTable(
            "Completion rate by week",
            ["Week ending", "Must complete", "Completed", "Completion rate"],
            [[p.week_ending, p.must_comply, p.compliant, percent(p.rate)] for p in trend],
        ),
        "versions": PackTable(
            "Content in force",
            ["Module", "Version", "Version published"],
            [
                [title, number, timezone.localdate(published) if published else "Not recorded"]
                for title, number, published in module_versions_in_force()
            ],
        ),
        "reminders": PackTable(
            "Emails sent in the last 30 days",
            ["Kind of email", "Sent"],
            [list(pair) for pair in messages_sent_by_kind(since=now - REMINDER_DAYS, until=now)],
        ),
    }
    latest = checkpoint_latest()
    checkpoint = None
    if latest is not None:
        point = latest[0]
        checkpoint = {
            "taken_at": point.taken_at,
            "count": point.count,
            "last_hash": point.last_hash,
            "today": point.taken_at[:10] == now.date().isoformat(),
        }
    return PackFigures(
        council_name=council,
        made_at=now,
        counted_at=counted,
        target=target,
        amber_from=amber_from,
        headline=headline,
        councillors=councillors_total,
        month_ago=month_ago,
        year_ago=year_ago,
        directorates=directorates,
        trend=trend,
        tables=tables,
        checkpoint=checkpoint,
    )


def _since(label: str, point: TrendPoint | None) -> str:
    return f"{label} (week ending {point.week_ending:%d %B %Y})" if point else label


def pack_xlsx(*, now: datetime) -> bytes:
    """The pack's summary tables, then the detail for HR: the overview by module and group, the
    councillors', the weekly trend and everyone overdue (names: a signed-in HR download)."""
    figures = pack_figures(now=now)
    councillors = overview_table(filters=ReportFilters(councillors_only=True), now=now)
    councillors.title = "Councillors detail"
    tables = [
        *(table.as_export() for table in figures.tables.values()),
        overview_table(filters=ReportFilters(), now=now),
        councillors,
        trend_table(filters=ReportFilters(), now=now),
        overdue_table(filters=ReportFilters(), now=now),
    ]
    output = io.BytesIO()
    xlsx_write(tables, output)
    return output.getvalue()
