"""Live counting: the overview and the weekly trend worked out from every open assignment."""

from datetime import date, datetime, timedelta

from django.core.cache import cache
from django.db import connection
from django.db.models import BooleanField, Count, ExpressionWrapper, F, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from training.models import Assignment, Audience, Status
from training.reports.figures import (
    CATEGORIES,
    TREND_WEEKS,
    ComplianceOverview,
    TrendPoint,
    overview_from_groups,
    week_end_moment,
)
from training.reports.filters import ReportFilters, people_filter, report_assignments


def _membership(audience: Audience) -> Q:
    """The audience's member filter as one expression per person row.

    Named extra members become a subquery on the small through table rather than a join, so
    no person is repeated when they are named in several audiences."""
    extra = Audience.extra_members.through.objects.filter(audience=audience).values("user_id")

    def rebuilt(node: Q) -> Q:
        children = [
            rebuilt(child)
            if isinstance(child, Q)
            else ("pk__in", extra)
            if child[0] == "extra_audiences"
            else child
            for child in node.children
        ]
        return Q(*children, _connector=node.connector, _negated=node.negated)

    return rebuilt(audience.member_filter())


# Each assignment's column, from its status ("due soon" with a valid completion is a renewal
# window: compliant; without one it is a first assignment not yet done), in CATEGORIES order.
OVERVIEW_AGGREGATES = f"""
      COUNT(*) FILTER (WHERE a.status = '{Status.COMPLETED.value}'
        OR (a.status = '{Status.DUE_SOON.value}' AND a.completed_at IS NOT NULL)),
      COUNT(*) FILTER (WHERE a.status = '{Status.IN_PROGRESS.value}'
        OR (a.status = '{Status.DUE_SOON.value}' AND a.completed_at IS NULL
          AND a.started_at IS NOT NULL)),
      COUNT(*) FILTER (WHERE a.status = '{Status.NOT_STARTED.value}'
        OR (a.status = '{Status.DUE_SOON.value}' AND a.completed_at IS NULL
          AND a.started_at IS NULL)),
      COUNT(*) FILTER (WHERE a.status = '{Status.OVERDUE.value}'),
      COUNT(*) FILTER (WHERE a.status = '{Status.EXPIRED.value}'),
      COUNT(*) FILTER (WHERE a.status = '{Status.EXEMPT.value}')
"""

GROUPS_SQL = """
    SELECT a.module_id, a.person_type, a.department_id{flags}, {aggregates}
    FROM ({assignments}{fence}) a {join}
    GROUP BY 1, 2, 3{flag_positions}
"""


def grouped_counts(*, assignments: QuerySet, aggregates: str, audiences: list) -> list[tuple]:
    """Assignments counted by module, person type, department and membership of each audience:
    one query. Each row is (module_id, person_type, department_id, one flag per audience, then
    the aggregates).

    `assignments` gives values with module_id, user_id, person_type and department_id and the
    columns the aggregates read. Joining it with each person's audience flags as derived tables
    lets the database test each audience rule once per person, not again per group."""
    a_sql, a_params = assignments.query.sql_with_params()
    params = list(a_params)
    # PostgreSQL: keep each derived table whole (OFFSET 0 is its optimisation fence); SQLite
    # (make demo without DATABASE_URL) takes no OFFSET without LIMIT and needs no fence.
    fence = " OFFSET 0" if connection.vendor == "postgresql" else ""
    flags = join = flag_positions = ""
    if audiences:
        people = (
            User.objects.filter(is_active=True)
            .order_by()
            .values(
                person_id=F("pk"),
                **{
                    f"in_{a.pk}": ExpressionWrapper(_membership(a), output_field=BooleanField())
                    for a in audiences
                },
            )
        )
        p_sql, p_params = people.query.sql_with_params()
        params += list(p_params)
        flags = "".join(f", p.in_{a.pk}" for a in audiences)
        join = f"JOIN ({p_sql}{fence}) p ON p.person_id = a.user_id"
        flag_positions = "".join(f", {4 + i}" for i in range(len(audiences)))
    sql = GROUPS_SQL.format(
        flags=flags,
        aggregates=aggregates,
        assignments=a_sql,
        fence=fence,
        join=join,
        flag_positions=flag_positions,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def overview_groups(*, filters: ReportFilters, now: datetime, audiences: list) -> list[tuple]:
    """Open assignments counted by group (see grouped_counts), one column per CATEGORIES entry.

    Status comes from Assignment.with_status, so it is still worked out in one place."""
    assignments = (
        report_assignments(filters=filters, now=now)
        .order_by()
        .values(
            "module_id",
            "user_id",
            "status",
            "completed_at",
            "started_at",
            person_type=F("user__person_type"),
            department_id=F("user__department_id"),
        )
    )
    return grouped_counts(
        assignments=assignments, aggregates=OVERVIEW_AGGREGATES, audiences=audiences
    )


def compliance_overview(*, filters: ReportFilters, now: datetime) -> ComplianceOverview:
    """Per module: totals, and broken down by department (with subtrees), audience and person type.

    Five queries whatever the size of the council: departments, audiences (two), one grouped
    count of the assignments (see overview_groups) and the module titles; the breakdowns are
    summed from the groups. HR's pages read the same figures counted ahead (snapshot_overview)."""
    audiences = list(Audience.objects.prefetch_related("departments"))
    first_count = 3 + len(audiences)
    groups = [
        {
            "module_id": row[0],
            "person_type": row[1],
            "department_id": row[2],
            "audiences": [
                a for a, member in zip(audiences, row[3:first_count], strict=True) if member
            ],
            "counts": dict(zip(CATEGORIES, row[first_count:], strict=True)),
        }
        for row in overview_groups(filters=filters, now=now, audiences=audiences)
    ]
    return overview_from_groups(groups)


TREND_CACHE_SECONDS = 15 * 60


def compliance_trend_cached(*, filters: ReportFilters, now: datetime) -> list[TrendPoint]:
    """The weekly trend, kept for 15 minutes per set of filters: a year of weeks moves slowly
    and the query reads every assignment once per week shown."""
    key = "aware-report-trend:" + ":".join(
        str(getattr(value, "pk", value)) for value in vars(filters).values()
    )
    return cache.get_or_set(
        key, lambda: compliance_trend(filters=filters, now=now), TREND_CACHE_SECONDS
    )


def _trend_conditions(end: datetime) -> tuple[Q, Q]:
    """Whether an assignment had to be complied with at `end`, and whether it was: rebuilt from
    its dates (assigned, closed, exempted, its latest satisfying completion and how long that
    lasts), so an earlier cycle replaced by a newer completion shows as not compliant before
    the newer one."""
    counted = (
        Q(assigned_at__lte=end)
        & (Q(closed_at__isnull=True) | Q(closed_at__gt=end))
        & (Q(exempt_reason="") | Q(exempted_at__gt=end))
    )
    compliant = (
        counted & Q(completed_at__lte=end) & (Q(valid_until__isnull=True) | Q(valid_until__gt=end))
    )
    return counted, compliant


def compliance_trend(
    *, filters: ReportFilters, now: datetime, weeks: int = TREND_WEEKS
) -> list[TrendPoint]:
    """The compliance rate now and at the same time each of the last `weeks` weeks: one query.

    People are filtered by who they are today. HR's pages read the weeks counted ahead
    (snapshot_trend); this is their fallback until the first count."""
    ends = [now - timedelta(weeks=w) for w in range(weeks, -1, -1)]
    queryset = Assignment.objects.filter(people_filter(filters)).order_by()
    aggregates = {}
    for i, end in enumerate(ends):
        counted, compliant = _trend_conditions(end)
        aggregates[f"a{i}"] = Count("pk", filter=counted)
        aggregates[f"c{i}"] = Count("pk", filter=compliant)
    totals = queryset.aggregate(**aggregates)
    return [
        TrendPoint(timezone.localdate(end), totals[f"a{i}"], totals[f"c{i}"])
        for i, end in enumerate(ends)
    ]


def trend_groups(*, week_ending_dates: list[date], audiences: list) -> list[tuple]:
    """For each group (see grouped_counts): must comply and compliant at the end of each given week,
    in pairs in the order given: one query, every group (zeros included) for every week."""
    columns = {}
    aggregates = []
    for i, day in enumerate(week_ending_dates):
        counted, compliant = _trend_conditions(week_end_moment(day))
        columns[f"m{i}"] = ExpressionWrapper(counted, output_field=BooleanField())
        columns[f"c{i}"] = ExpressionWrapper(compliant, output_field=BooleanField())
        aggregates += [f"COUNT(*) FILTER (WHERE a.m{i})", f"COUNT(*) FILTER (WHERE a.c{i})"]
    assignments = (
        Assignment.objects.filter(people_filter(ReportFilters()))
        .order_by()
        .values(
            "module_id",
            "user_id",
            person_type=F("user__person_type"),
            department_id=F("user__department_id"),
            **columns,
        )
    )
    return grouped_counts(
        assignments=assignments, aggregates=", ".join(aggregates), audiences=audiences
    )
