"""Reads for HR reports: compliance by module and group, weekly trend, overdue list, person record.

Every figure comes from `Assignment.objects.open().with_status(now)` (the one place status is
worked out), aggregated in the database with GROUP BY, so a report costs a fixed number of queries
however many people there are. HR's pages read the same groups counted ahead (ComplianceCount,
ComplianceWeek: see "counted ahead" below), so a council of 100,000 people gets its overview from a
few hundred rows rather than a million assignments.

Definitions (the README repeats them for HR):
- assigned: open assignments of active people (leavers are excluded); one per person and module,
  so a person in two audiences counts once per module;
- compliant: completed and still valid, including people in their recertification window
  ("due soon" with a valid completion); expired completions are not compliant;
- in progress / not started: not complete, not yet overdue, with or without a lesson opened;
- compliance rate: compliant / (assigned - exempt); exempt people are out of the denominator;
- department rows include every service below them (treebeard path prefix), by the person's
  department today, so someone who moves is counted where they are now.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from django import forms
from django.core.cache import cache
from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.utils import timezone

from accounts.models import Department, PersonType, User
from training.models import (
    Assignment,
    Audience,
    ComplianceCount,
    ComplianceWeek,
    LessonProgress,
    ModuleCompletion,
    ModulePage,
    QuizPass,
    Status,
)
from training.reminders import reminders_last_sent

CATEGORIES = ("compliant", "in_progress", "not_started", "overdue", "expired", "exempt")
CATEGORY_LABELS = {
    "assigned": "Assigned",
    "compliant": "Completed and valid",
    "in_progress": "In progress",
    "not_started": "Not started",
    "overdue": "Overdue",
    "expired": "Expired",
    "exempt": "Exempt",
}
SMALL_NUMBER = 5  # cells under this are suppressed in exports shared outside HR
TREND_WEEKS = 52
NO_DEPARTMENT = "No department (councillors and others)"


class DepartmentChoiceField(forms.ModelChoiceField):
    """Departments by full name ("Place > Highways"), all named from one query."""

    def label_from_instance(self, obj: Department) -> str:
        if not hasattr(self, "names"):
            self.names = department_names()
        return self.names[obj.path][0]


class ReportFilterForm(forms.Form):
    """The filters every report takes, from the query string."""

    department = DepartmentChoiceField(
        queryset=Department.objects.order_by("path"), required=False, empty_label="All departments"
    )
    audience = forms.ModelChoiceField(
        queryset=Audience.objects.prefetch_related("departments"),
        required=False,
        empty_label="All audiences",
    )
    module = forms.ModelChoiceField(
        queryset=ModulePage.objects.order_by("path"), required=False, empty_label="All modules"
    )
    person_type = forms.ChoiceField(
        choices=[("", "All people"), *PersonType.choices], required=False
    )
    status = forms.ChoiceField(choices=[("", "Any status"), *Status.choices], required=False)
    due_from = forms.DateField(
        label="Due from", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    due_to = forms.DateField(
        label="Due to", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, councillors_only: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.councillors_only = councillors_only
        if councillors_only:
            del self.fields["person_type"]
            del self.fields["department"]

    def to_filters(self) -> "ReportFilters":
        data = self.cleaned_data if self.is_valid() else {}
        return ReportFilters(
            department=data.get("department"),
            audience=data.get("audience"),
            module=data.get("module"),
            person_type=data.get("person_type", ""),
            status=data.get("status", ""),
            due_from=data.get("due_from"),
            due_to=data.get("due_to"),
            councillors_only=self.councillors_only,
        )


@dataclass(frozen=True)
class ReportFilters:
    department: Department | None = None
    audience: Audience | None = None
    module: ModulePage | None = None
    person_type: str = ""
    status: str = ""
    due_from: date | None = None
    due_to: date | None = None
    councillors_only: bool = False


def report_filters_from_params(*, params: dict, councillors_only: bool) -> ReportFilters:
    """Filters from a query string kept as a dict (as a queued export stores them)."""
    return ReportFilterForm(params, councillors_only=councillors_only).to_filters()


def _people_filter(filters: ReportFilters) -> Q:
    """The filters that are about the person, as a filter on assignments."""
    q = Q(user__is_active=True)
    if filters.councillors_only:
        q &= Q(user__person_type=PersonType.COUNCILLOR)
    elif filters.person_type:
        q &= Q(user__person_type=filters.person_type)
    if filters.department is not None:
        q &= Q(user__department__path__startswith=filters.department.path)
    if filters.audience is not None:
        # A subquery, so a person matching the rule and named as an extra member counts once.
        q &= Q(user__in=User.objects.filter(filters.audience.member_filter()).values("pk"))
    if filters.module is not None:
        q &= Q(module=filters.module)
    return q


def report_assignments(*, filters: ReportFilters, now: datetime) -> QuerySet:
    """Open assignments of active people matching the filters, each with its `status`."""
    queryset = Assignment.objects.open().with_status(now).filter(_people_filter(filters))
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.due_from:
        queryset = queryset.filter(due_on__gte=filters.due_from)
    if filters.due_to:
        queryset = queryset.filter(due_on__lte=filters.due_to)
    return queryset


@dataclass
class ComplianceRow:
    """One line of the overview: a module, optionally for one group (department, audience…)."""

    module_id: int
    module_title: str
    group: str = "All"
    depth: int = 0
    counts: dict = field(default_factory=lambda: dict.fromkeys(CATEGORIES, 0))

    @property
    def assigned(self) -> int:
        return sum(self.counts.values())

    @property
    def denominator(self) -> int:
        return self.assigned - self.counts["exempt"]

    @property
    def rate(self) -> float | None:
        """Compliant share of those who must comply, 0-100; None when nobody must."""
        return 100 * self.counts["compliant"] / self.denominator if self.denominator else None

    def add(self, category: str, n: int) -> None:
        self.counts[category] += n

    def __getattr__(self, name):
        if name in CATEGORIES:
            return self.counts[name]
        raise AttributeError(name)


@dataclass
class ComplianceOverview:
    modules: list[ComplianceRow]
    departments: list[ComplianceRow]
    audiences: list[ComplianceRow]
    person_types: list[ComplianceRow]

    def sections(self) -> list[tuple[str, list[ComplianceRow]]]:
        return [
            ("Department", self.departments),
            ("Audience", self.audiences),
            ("Person type", self.person_types),
        ]


def department_names() -> dict[str, tuple[str, int, int]]:
    """Every department's path -> (full name, depth, id): one query."""
    names: dict[str, tuple[str, int, int]] = {}
    for pk, path, name, depth in Department.objects.order_by("path").values_list(
        "pk", "path", "name", "depth"
    ):
        parent = names.get(path[: -Department.steplen])
        names[path] = (f"{parent[0]} > {name}" if parent else name, depth, pk)
    return names


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
OVERVIEW_AGGREGATES = """
      COUNT(*) FILTER (WHERE a.status = 'completed'
        OR (a.status = 'due-soon' AND a.completed_at IS NOT NULL)),
      COUNT(*) FILTER (WHERE a.status = 'in-progress'
        OR (a.status = 'due-soon' AND a.completed_at IS NULL AND a.started_at IS NOT NULL)),
      COUNT(*) FILTER (WHERE a.status = 'not-started'
        OR (a.status = 'due-soon' AND a.completed_at IS NULL AND a.started_at IS NULL)),
      COUNT(*) FILTER (WHERE a.status = 'overdue'),
      COUNT(*) FILTER (WHERE a.status = 'expired'),
      COUNT(*) FILTER (WHERE a.status = 'exempt')
"""
GROUPS_SQL = """
    SELECT a.module_id, a.person_type, a.department_id{flags}, {aggregates}
    FROM ({assignments}{fence}) a {join}
    GROUP BY 1, 2, 3{flag_positions}
"""


def _grouped(*, assignments: QuerySet, aggregates: str, audiences: list) -> list[tuple]:
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
    """Open assignments counted by group (see _grouped), one column per CATEGORIES entry.

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
    return _grouped(assignments=assignments, aggregates=OVERVIEW_AGGREGATES, audiences=audiences)


def compliance_overview(*, filters: ReportFilters, now: datetime) -> ComplianceOverview:
    """Per module: totals, and broken down by department (with subtrees), audience and person type.

    Five queries whatever the size of the council: departments, audiences (two), one grouped
    count of the assignments (see overview_groups) and the module titles; the breakdowns are
    summed from the groups. HR's pages read the same figures counted ahead (counted_overview)."""
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
    return _overview_from_groups(groups)


def _overview_from_groups(groups: list[dict]) -> ComplianceOverview:
    """The overview's rows, summed from counts by module, person type, department and audiences."""
    names = department_names()
    paths = {pk: path for path, (_name, _depth, pk) in names.items()}
    titles = dict(
        ModulePage.objects.filter(pk__in={g["module_id"] for g in groups}).values_list(
            "pk", "title"
        )
    )
    type_labels = dict(PersonType.choices)
    modules: dict[int, ComplianceRow] = {}
    departments: dict[tuple[int, str], ComplianceRow] = {}
    person_types: dict[tuple[int, str], ComplianceRow] = {}
    audience_rows: dict[tuple[int, int], ComplianceRow] = {}

    def add(rows: dict, key, group: str, depth: int, g: dict) -> None:
        if key not in rows:
            rows[key] = ComplianceRow(g["module_id"], titles[g["module_id"]], group, depth)
        for category, n in g["counts"].items():
            rows[key].add(category, n)

    for g in groups:
        module_id = g["module_id"]
        add(modules, module_id, "All", 0, g)
        kind = g["person_type"]
        add(person_types, (module_id, kind), type_labels.get(kind, kind), 0, g)
        path = paths.get(g["department_id"], "")
        # Each person counts in their own department and every department above it.
        for end in range(Department.steplen, len(path) + 1, Department.steplen) if path else [0]:
            label, depth, _pk = names.get(path[:end], (NO_DEPARTMENT, 1, None))
            add(departments, (module_id, path[:end]), label, depth - 1, g)
        for audience in g["audiences"]:
            add(audience_rows, (module_id, audience.pk), audience.name, 0, g)

    def ordered(rows: dict) -> list[ComplianceRow]:
        return [rows[k] for k in sorted(rows, key=lambda k: (rows[k].module_title, k))]

    return ComplianceOverview(
        modules=sorted(modules.values(), key=lambda r: r.module_title),
        departments=ordered(departments),
        audiences=ordered(audience_rows),
        person_types=ordered(person_types),
    )


@dataclass
class TrendPoint:
    week_ending: date
    assigned: int
    compliant: int

    @property
    def rate(self) -> float | None:
        return 100 * self.compliant / self.assigned if self.assigned else None


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
    (counted_trend); this is their fallback until the first count."""
    ends = [now - timedelta(weeks=w) for w in range(weeks, -1, -1)]
    queryset = Assignment.objects.filter(_people_filter(filters)).order_by()
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


def week_endings(*, now: datetime, weeks: int = TREND_WEEKS) -> list[date]:
    """The last `weeks` Sundays that have ended (local time), oldest first."""
    today = timezone.localdate(now)
    last = today - timedelta(days=today.weekday() + 1)
    return [last - timedelta(weeks=w) for w in range(weeks - 1, -1, -1)]


def week_end_moment(week_ending: date) -> datetime:
    """The moment a week ends: midnight (local) at the start of the Monday after it."""
    return timezone.make_aware(datetime.combine(week_ending + timedelta(days=1), time.min))


def trend_groups(*, week_ending_dates: list[date], audiences: list) -> list[tuple]:
    """For each group (see _grouped): must comply and compliant at the end of each given week,
    in pairs in the order given: one query, every group (zeros included) for every week."""
    columns = {}
    aggregates = []
    for i, day in enumerate(week_ending_dates):
        counted, compliant = _trend_conditions(week_end_moment(day))
        columns[f"m{i}"] = ExpressionWrapper(counted, output_field=BooleanField())
        columns[f"c{i}"] = ExpressionWrapper(compliant, output_field=BooleanField())
        aggregates += [f"COUNT(*) FILTER (WHERE a.m{i})", f"COUNT(*) FILTER (WHERE a.c{i})"]
    assignments = (
        Assignment.objects.filter(_people_filter(ReportFilters()))
        .order_by()
        .values(
            "module_id",
            "user_id",
            person_type=F("user__person_type"),
            department_id=F("user__department_id"),
            **columns,
        )
    )
    return _grouped(assignments=assignments, aggregates=", ".join(aggregates), audiences=audiences)


# COUNTED AHEAD: the pages read ComplianceCount and ComplianceWeek, which
# training.report_services.report_counts_refresh writes (Celery beat, every few minutes).

COUNTS_MAX_AGE = timedelta(minutes=30)  # older than this (a stopped worker?): count live


def _counted_rows(queryset: QuerySet, filters: ReportFilters) -> QuerySet:
    """Counted rows for the people and module filters (the same as _people_filter's)."""
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


def counts_fresh(*, now: datetime) -> datetime | None:
    """When the counts were made, if that was today and within COUNTS_MAX_AGE: one query."""
    counted_at = ComplianceCount.objects.values_list("counted_at", flat=True).first()
    if (
        counted_at is None
        or timezone.localdate(counted_at) != timezone.localdate(now)
        or now - counted_at > COUNTS_MAX_AGE
    ):
        return None
    return counted_at


def counted_overview(*, filters: ReportFilters) -> ComplianceOverview | None:
    """The overview from the counts (check counts_fresh first): four queries. None when the
    filters need each assignment (status and due dates are not kept in the counts): the page
    then counts live (compliance_overview)."""
    if filters.status or filters.due_from or filters.due_to:
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
        for row in _counted_rows(ComplianceCount.objects.order_by(), filters)
    ]
    return _overview_from_groups(groups)


def counted_trend(*, filters: ReportFilters, now: datetime) -> list[TrendPoint] | None:
    """The last year's weeks, then today's point, from the counts (check counts_fresh first):
    three queries. None while any of the weeks has not been counted yet. Like
    compliance_trend, it takes the people and module filters only."""
    ends = week_endings(now=now)
    weeks = ComplianceWeek.objects.filter(week_ending__in=ends)
    if weeks.values("week_ending").distinct().count() < len(ends):
        return None
    totals = {
        row["week_ending"]: row
        for row in _counted_rows(weeks, filters)
        .order_by()
        .values("week_ending")
        .annotate(must=Sum("must_comply"), done=Sum("compliant"))
    }
    today = _counted_rows(ComplianceCount.objects.order_by(), filters).aggregate(
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
    when they are fresh (`counted_at`, from counts_fresh) and the filters allow, else live."""
    overview = counted_overview(filters=filters) if counted_at else None
    if overview is None:
        return compliance_overview(filters=filters, now=now), now
    return overview, counted_at


def report_trend(
    *, filters: ReportFilters, now: datetime, counted_at: datetime | None
) -> list[TrendPoint]:
    """The weekly trend as HR's pages and exports show it: from the counts when they are fresh
    and every week has been counted, else live (kept for 15 minutes)."""
    trend = counted_trend(filters=filters, now=now) if counted_at else None
    return trend if trend is not None else compliance_trend_cached(filters=filters, now=now)


OVERDUE_VALUES = (
    "pk",
    "user_id",
    "user__full_name",
    "user__email",
    "user__employee_number",
    "user__department__path",
    "user__line_manager__full_name",
    "module__title",
    "due_on",
)


def overdue_assignments(*, filters: ReportFilters, now: datetime) -> QuerySet:
    """Overdue assignments, longest overdue first and one person's modules together, as tuples
    of OVERDUE_VALUES (plain values keep a full export fast and its memory flat)."""
    if filters.status and filters.status != Status.OVERDUE:
        return Assignment.objects.none().values_list(*OVERDUE_VALUES)
    return (
        report_assignments(filters=replace(filters, status=""), now=now)
        .overdue(now)
        .order_by("due_on", "user_id", "pk")
        .values_list(*OVERDUE_VALUES)
    )


@dataclass
class PersonRecord:
    person: User
    department: str
    assignments: list[Assignment]
    closed_assignments: list[Assignment]
    completions: list[ModuleCompletion]
    quiz_passes: list[QuizPass]
    lessons: list[LessonProgress]


def person_record(*, person: User, now: datetime) -> PersonRecord:
    """Everything held on one person's training (HR queries, subject access): six queries."""
    open_assignments = list(
        Assignment.objects.open()
        .with_status(now)
        .filter(user=person)
        .select_related("module", "exempted_by")
        .order_by("due_on")
    )
    closed = list(
        Assignment.objects.filter(user=person, closed_at__isnull=False)
        .select_related("module")
        .order_by("-closed_at")
    )
    completions = list(
        ModuleCompletion.objects.filter(user=person)
        .select_related("module")
        .order_by("-completed_at")
    )
    passes = list(
        QuizPass.objects.filter(user=person).select_related("module").order_by("-passed_at")
    )
    lessons = list(
        LessonProgress.objects.filter(user=person)
        .select_related("lesson", "module")
        .order_by("module__path", "lesson__path")
    )
    department = ""
    if person.department_id:
        department = department_names().get(person.department.path, ("",))[0]
    return PersonRecord(person, department, open_assignments, closed, completions, passes, lessons)


def people_matching(*, text: str, councillors_only: bool, limit: int = 25) -> list[User]:
    """People whose name, email or employee number contains the text: one query."""
    people = User.objects.filter(
        Q(full_name__icontains=text) | Q(email__icontains=text) | Q(employee_number=text)
    )
    if councillors_only:
        people = people.filter(person_type=PersonType.COUNCILLOR)
    return list(people.select_related("department").order_by("full_name")[:limit])


# EXPORT TABLES: a heading row and a stream of rows, shared by downloads, queued exports and
# the HR pack. Row generators read with .iterator() so memory stays flat.


@dataclass
class ExportTable:
    title: str
    headings: list[str]
    rows: Callable[[], Iterator[list]]
    count: Callable[[], int]


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
                filters=filters, now=now, counted_at=counts_fresh(now=now)
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
    ]
    queryset = (
        report_assignments(filters=filters, now=now)
        .select_related("user", "user__department", "user__line_manager", "module")
        .order_by("user__full_name", "user_id", "module__title")
    )

    def rows() -> Iterator[list]:
        names = department_names()
        for a in queryset.iterator(chunk_size=2000):
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
        timezone.localtime(reminder).strftime("%d %b %Y") if reminder else "—",
    ]


def overdue_table(*, filters: ReportFilters, now: datetime, chunk: int = 2000) -> ExportTable:
    """The whole overdue list, streamed in chunks (reminder dates asked for once per chunk)."""
    queryset = overdue_assignments(filters=filters, now=now)
    today = timezone.localdate(now)

    def rows() -> Iterator[list]:
        names = department_names()
        batch: list[dict] = []
        for row in queryset.iterator(chunk_size=chunk):
            batch.append(row)
            if len(batch) == chunk:
                yield from _overdue_batch(batch, names=names, today=today)
                batch = []
        yield from _overdue_batch(batch, names=names, today=today)

    return ExportTable("Overdue", OVERDUE_HEADINGS, rows, queryset.count)


def _overdue_batch(batch: list[dict], *, names: dict, today: date) -> Iterator[list]:
    if not batch:
        return
    reminders = reminders_last_sent(assignment_users={row[0]: row[1] for row in batch})
    for row in batch:
        yield overdue_line(row, names=names, reminders=reminders, today=today)


def trend_table(*, filters: ReportFilters, now: datetime) -> ExportTable:
    points: list = []

    def lines() -> list[list]:
        if not points:
            for p in report_trend(filters=filters, now=now, counted_at=counts_fresh(now=now)):
                rate = "" if p.rate is None else round(p.rate, 1)
                points.append([p.week_ending, p.assigned, p.compliant, rate])
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
                f"{c.score}% ({c.source}) code {c.verification_code}",
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
