"""Live counting: the overview and the weekly trend worked out from every open assignment."""

import hashlib
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from django.core.cache import cache
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    ExpressionWrapper,
    F,
    FilteredRelation,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    When,
)
from django.db.models.functions import Coalesce, Least
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


def _fence() -> str:
    """PostgreSQL: keep each derived table whole (OFFSET 0 is its optimisation fence); SQLite
    (make demo without DATABASE_URL) takes no OFFSET without LIMIT and needs no fence."""
    return " OFFSET 0" if connection.vendor == "postgresql" else ""


GROUPS_SQL = """
    SELECT a.module_id, a.person_type, a.department_id{flags}, {aggregates}
    FROM ({assignments}{fence}) a {join}
    GROUP BY 1, 2, 3{flag_positions}
"""


def grouped_counts(
    *, assignments: QuerySet, aggregates: str, audiences: list, aggregate_params: Sequence = ()
) -> list[tuple]:
    """Assignments counted by module, person type, department and membership of each audience:
    one query. Each row is (module_id, person_type, department_id, one flag per audience, then
    the aggregates).

    `assignments` gives values with module_id, user_id, person_type and department_id and the
    columns the aggregates read (`aggregate_params` fill their placeholders). Joining it with
    each person's audience flags as derived tables lets the database test each audience rule
    once per person, not again per group."""
    a_sql, a_params = assignments.query.sql_with_params()
    params = [*aggregate_params, *a_params]
    fence = _fence()
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
    named = ":".join(str(getattr(value, "pk", value)) for value in vars(filters).values())
    # Hashed: an organisation's name may hold spaces, which a cache key must not.
    key = "aware-report-trend:" + hashlib.sha256(named.encode()).hexdigest()
    return cache.get_or_set(
        key, lambda: compliance_trend(filters=filters, now=now), TREND_CACHE_SECONDS
    )


def _previous_close() -> Subquery:
    """When the person's last earlier assignment of the same module closed (left the audience,
    replaced by a new version): a completion from before then belongs to that assignment."""
    earlier = (
        Assignment.objects.filter(
            user=OuterRef("user_id"),
            module=OuterRef("module_id"),
            assigned_at__lt=OuterRef("assigned_at"),
            closed_at__isnull=False,
        )
        .order_by("-closed_at")
        .values("closed_at")[:1]
    )
    return Subquery(earlier)


def trend_assignments(*, queryset: QuerySet, ends: list[datetime]) -> QuerySet:
    """One row per assignment, for trend_counts: module_id, user_id, person_type, department_id,
    its own dates, `in_scope_from`, and for each moment in `ends` whether a completion on
    record that satisfies it (same module, required version or later) was valid then (`r0`,
    `r1`…): one pass over the assignments and their completion records.

    `in_scope_from` is when it was assigned, or the first satisfying completion on record if
    that is earlier (a completion proves the person was in scope then, as when a council
    imports years of history for people assigned today); but a completion from before an
    earlier assignment of the same module closed belongs to that one, so nobody counts twice,
    nor between leaving an audience and joining it again."""
    satisfying = FilteredRelation(
        "user__module_completions",
        condition=Q(user__module_completions__module=F("module"))
        & Q(user__module_completions__module_version__gte=F("required_version")),
    )
    queryset = queryset.annotate(record=satisfying)
    # Only a completion from before the assignment can move its start (the earlier-close
    # subquery runs for those alone).
    before_assigned = Q(record__completed_at__lt=F("assigned_at")) & Q(
        record__completed_at__gte=Coalesce(_previous_close(), F("record__completed_at"))
    )
    columns = {
        "in_scope_from": Least(
            "assigned_at",
            Coalesce(Min("record__completed_at", filter=before_assigned), "assigned_at"),
        )
    }
    for i, end in enumerate(ends):
        valid = Q(record__completed_at__lte=end) & (
            Q(record__expires_at__isnull=True) | Q(record__expires_at__gt=end)
        )
        columns[f"r{i}"] = Max(Case(When(valid, then=1), default=0))
    return (
        queryset.order_by()
        .values(
            "pk",
            "module_id",
            "user_id",
            "closed_at",
            "exempt_reason",
            "exempted_at",
            "completed_at",
            "valid_until",
            person_type=F("user__person_type"),
            department_id=F("user__department_id"),
        )
        .annotate(**columns)
    )


def trend_counts(ends: list[datetime]) -> tuple[str, list]:
    """Aggregates over trend_assignments rows (`a`): for each moment in `ends`, how many had to
    comply then and how many did, in pairs; and their parameters.

    Had to comply: in scope (see trend_assignments), not closed and not yet exempted. Complied:
    from the latest satisfying completion on, by the assignment's own dates (as
    Assignment.with_status counts today, so the last point is today's rate); before it, while an
    earlier completion on record was valid, imported or not."""
    aggregates, params = [], []
    for i, end in enumerate(ends):
        counted = (
            "a.in_scope_from <= %s AND (a.closed_at IS NULL OR a.closed_at > %s)"
            " AND (a.exempt_reason = '' OR a.exempted_at > %s)"
        )
        compliant = (
            f"{counted} AND ((a.completed_at <= %s"
            " AND (a.valid_until IS NULL OR a.valid_until > %s))"
            f" OR ((a.completed_at IS NULL OR a.completed_at > %s) AND a.r{i} = 1))"
        )
        aggregates += [f"COUNT(*) FILTER (WHERE {counted})", f"COUNT(*) FILTER (WHERE {compliant})"]
        params += [connection.ops.adapt_datetimefield_value(end)] * 9
    return ", ".join(aggregates), params


TREND_SQL = "SELECT {aggregates} FROM ({assignments}{fence}) a"


def compliance_trend(
    *, filters: ReportFilters, now: datetime, weeks: int = TREND_WEEKS
) -> list[TrendPoint]:
    """The compliance rate now and at the same time each of the last `weeks` weeks: one query
    (see trend_counts for who counts at each moment). A moment with nobody to count has
    must_comply 0 and so no rate: "no data", not 0%.

    People are filtered by who they are today. HR's pages read the weeks counted ahead
    (snapshot_trend); this is their fallback until the first count."""
    ends = [now - timedelta(weeks=w) for w in range(weeks, -1, -1)]
    assignments = trend_assignments(
        queryset=Assignment.objects.filter(people_filter(filters)), ends=ends
    )
    a_sql, a_params = assignments.query.sql_with_params()
    aggregates, params = trend_counts(ends)
    sql = TREND_SQL.format(aggregates=aggregates, assignments=a_sql, fence=_fence())
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *a_params])
        totals = cursor.fetchone()
    return [
        TrendPoint(timezone.localdate(end), totals[2 * i], totals[2 * i + 1])
        for i, end in enumerate(ends)
    ]


def trend_groups(*, week_ending_dates: list[date], audiences: list) -> list[tuple]:
    """For each group (see grouped_counts): must comply and compliant at the end of each given week,
    in pairs in the order given: one query, every group (zeros included) for every week."""
    ends = [week_end_moment(day) for day in week_ending_dates]
    aggregates, params = trend_counts(ends)
    return grouped_counts(
        assignments=trend_assignments(
            queryset=Assignment.objects.filter(people_filter(ReportFilters())), ends=ends
        ),
        aggregates=aggregates,
        aggregate_params=params,
        audiences=audiences,
    )
