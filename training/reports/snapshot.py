"""The snapshot counted ahead (ComplianceCount, ComplianceWeek): taking it, reading it, and
choosing between it and live counting."""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, QuerySet, Sum, Value
from django.utils import timezone

from accounts.models import PersonType
from training.locks import Lock, advisory_lock
from training.models import Audience, ComplianceCount, ComplianceWeek, SnapshotGroup
from training.reports.figures import (
    CATEGORIES,
    ComplianceOverview,
    TrendPoint,
    overview_from_groups,
    week_endings,
)
from training.reports.filters import ReportFilters
from training.reports.live import (
    compliance_overview,
    compliance_trend_cached,
    overview_groups,
    trend_groups,
)

logger = logging.getLogger(__name__)

SNAPSHOT_MAX_AGE = timedelta(minutes=30)  # older than this (a stopped worker?): count live


def snapshot_rows(queryset: QuerySet, filters: ReportFilters) -> QuerySet:
    """Counted rows for the people and module filters (the same as people_filter's)."""
    if filters.module is not None:
        queryset = queryset.filter(module=filters.module)
    if filters.councillors_only:
        queryset = queryset.filter(person_type=PersonType.COUNCILLOR)
    elif filters.person_type:
        queryset = queryset.filter(person_type=filters.person_type)
    if filters.department is not None:
        queryset = queryset.filter(department__path__startswith=filters.department.path)
    if filters.audience is not None:
        queryset = queryset.filter(audience_key__contains=f",{filters.audience.pk},")
    return queryset


def snapshot_taken_at(*, now: datetime) -> datetime | None:
    """When the counts were made, if that was today and within SNAPSHOT_MAX_AGE: one query."""
    counted_at = ComplianceCount.objects.values_list("counted_at", flat=True).first()
    if (
        counted_at is None
        or timezone.localdate(counted_at) != timezone.localdate(now)
        or now - counted_at > SNAPSHOT_MAX_AGE
    ):
        return None
    return counted_at


def snapshot_overview(*, filters: ReportFilters) -> ComplianceOverview | None:
    """The overview from the counts (check snapshot_taken_at first): four queries. None when the
    filters need each assignment (status, due dates, organisations and how completions came
    about are not kept in the counts): the page then counts live (compliance_overview)."""
    if (
        filters.status
        or filters.source
        or filters.organisation
        or filters.due_from
        or filters.due_to
    ):
        return None
    audiences = {a.pk: a for a in Audience.objects.all()}
    groups = [
        {
            "module_id": row.module_id,
            "person_type": row.person_type,
            "department_id": row.department_id,
            "audiences": [audiences[pk] for pk in row.audience_ids if pk in audiences],
            "counts": {c: getattr(row, c) for c in CATEGORIES},
        }
        for row in snapshot_rows(ComplianceCount.objects.order_by(), filters)
    ]
    return overview_from_groups(groups)


def snapshot_trend(*, filters: ReportFilters, now: datetime) -> list[TrendPoint] | None:
    """The last year's weeks, then today's point, from the counts (check snapshot_taken_at first):
    three queries. None while any of the weeks has not been counted yet. Like
    compliance_trend, it takes the people and module filters only."""
    if filters.source or filters.organisation:
        return None  # the counts keep neither how completions came about nor organisations
    ends = week_endings(now=now)
    weeks = ComplianceWeek.objects.filter(week_ending__in=ends)
    if weeks.values("week_ending").distinct().count() < len(ends):
        return None
    totals = {
        row["week_ending"]: row
        for row in snapshot_rows(weeks, filters)
        .order_by()
        .values("week_ending")
        .annotate(must=Sum("must_comply"), done=Sum("compliant"))
    }
    today = snapshot_rows(ComplianceCount.objects.order_by(), filters).aggregate(
        must=Sum(sum((F(c) for c in CATEGORIES if c != "exempt"), start=Value(0))),
        done=Sum("compliant"),
    )
    return [
        *(
            TrendPoint(day, totals[day]["must"], totals[day]["done"])
            if day in totals
            else TrendPoint(day, 0, 0)
            for day in ends
        ),
        TrendPoint(timezone.localdate(now), today["must"] or 0, today["done"] or 0),
    ]


def report_overview(
    *, filters: ReportFilters, now: datetime, counted_at: datetime | None
) -> tuple[ComplianceOverview, datetime]:
    """The overview as HR's pages and exports show it, and when it was counted: from the counts
    when they are fresh (`counted_at`, from snapshot_taken_at) and the filters allow, else live."""
    overview = snapshot_overview(filters=filters) if counted_at else None
    if overview is None:
        return compliance_overview(filters=filters, now=now), now
    return overview, counted_at


def report_trend(
    *, filters: ReportFilters, now: datetime, counted_at: datetime | None
) -> list[TrendPoint]:
    """The weekly trend as HR's pages and exports show it: from the counts when they are fresh
    and every week has been counted, else live (kept for 15 minutes)."""
    trend = snapshot_trend(filters=filters, now=now) if counted_at else None
    return trend if trend is not None else compliance_trend_cached(filters=filters, now=now)


def report_weeks_forget(*, since: datetime) -> int:
    """Drop the counted weeks that end after `since`, so the next report_counts_refresh counts
    them again from each assignment's dates and the completion records.

    Weeks are counted once and kept, which is right while history only grows at its end; call
    this, inside the transaction that writes them, after writing records dated in the past (an
    import of historic completions). It waits for a count that is running, so that count
    cannot put back weeks counted without the new records. Returns the rows dropped."""
    # A week ending the day before `since` ends at midnight: drop it too, in case `since` is
    # that midnight (one week counted again at most).
    first = timezone.localdate(since) - timedelta(days=1)
    with transaction.atomic():
        advisory_lock(Lock.REPORT_COUNTS)
        dropped, _ = ComplianceWeek.objects.filter(week_ending__gte=first).delete()
    logger.info("Report counts: %s rows for weeks from %s dropped to count again", dropped, first)
    return dropped


def report_counts_refresh(*, now: datetime | None = None) -> bool:
    """Count the overview again, and any of the last year's weeks not yet counted, for the
    report pages to read (training.reports.snapshot_overview and snapshot_trend).

    One grouped query over the open assignments, plus one over all of them for missing weeks
    (the first time, a year of weeks; then one a week). The old counts are replaced in the same
    transaction, so a page sees the old figures or the new, never a mix. Returns False when
    another count is already running."""
    now = now or timezone.now()
    with transaction.atomic():
        if not advisory_lock(Lock.REPORT_COUNTS, wait=False):
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
