"""What a report shows: the categories, a compliance row, the overview and a trend point.

Every figure comes from `Assignment.objects.open().with_status(now)` (the one place status is
worked out), counted in the database with GROUP BY (live.py), or read from the same groups
counted ahead (snapshot.py). Definitions (the README repeats them for HR):
- assigned: open assignments of active people (leavers are excluded); one per person and module,
  so a person in two audiences counts once per module;
- compliant: completed and still valid, including people in their recertification window
  ("due soon" with a valid completion); expired completions are not compliant;
- in progress / not started: not complete, not yet overdue, with or without a lesson opened;
- compliance rate: compliant / (assigned - exempt); exempt people are out of the denominator;
- department rows include every service below them (treebeard path prefix), by the person's
  department today, so someone who moves is counted where they are now;
- the weekly trend is history rebuilt from dates, the assignments' and the completion records'
  (imported ones too): see live.trend_assignments and live.trend_counts. A week with nobody to
  count has no rate ("No data"), never 0%.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from accounts.models import Department, PersonType
from training.models import ModulePage
from training.reports.filters import NO_DEPARTMENT, NO_DEPARTMENT_PARAM, department_names

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


@dataclass
class ComplianceRow:
    """One line of the overview: a module, optionally for one group (department, audience…)."""

    module_id: int
    module_title: str
    group: str = "All"
    depth: int = 0
    counts: dict = field(default_factory=lambda: dict.fromkeys(CATEGORIES, 0))
    # The report filters that select this row's people (the drill-down list's query string).
    drill: dict = field(default_factory=dict)

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


def overview_from_groups(groups: list[dict]) -> ComplianceOverview:
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

    def add(rows: dict, key, group: str, depth: int, g: dict, **drill) -> None:
        if key not in rows:
            rows[key] = ComplianceRow(
                g["module_id"],
                titles[g["module_id"]],
                group,
                depth,
                drill={"module": g["module_id"], **drill},
            )
        for category, n in g["counts"].items():
            rows[key].add(category, n)

    for g in groups:
        module_id = g["module_id"]
        add(modules, module_id, "All", 0, g)
        kind = g["person_type"]
        add(person_types, (module_id, kind), type_labels.get(kind, kind), 0, g, person_type=kind)
        path = paths.get(g["department_id"], "")
        # Each person counts in their own department and every department above it.
        for end in range(Department.steplen, len(path) + 1, Department.steplen) if path else [0]:
            label, depth, pk = names.get(path[:end], (NO_DEPARTMENT, 1, None))
            department = pk or NO_DEPARTMENT_PARAM
            add(departments, (module_id, path[:end]), label, depth - 1, g, department=department)
        for audience in g["audiences"]:
            add(audience_rows, (module_id, audience.pk), audience.name, 0, g, audience=audience.pk)

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
    """Who had to comply at the end of a week (in scope, not exempt) and who did; no rate when
    nobody had to (the page and exports say "No data", the line leaves a gap)."""

    week_ending: date
    must_comply: int
    compliant: int

    @property
    def rate(self) -> float | None:
        return 100 * self.compliant / self.must_comply if self.must_comply else None


def week_endings(*, now: datetime, weeks: int = TREND_WEEKS) -> list[date]:
    """The last `weeks` Sundays that have ended (local time), oldest first."""
    today = timezone.localdate(now)
    last = today - timedelta(days=today.weekday() + 1)
    return [last - timedelta(weeks=w) for w in range(weeks - 1, -1, -1)]


def week_end_moment(week_ending: date) -> datetime:
    """The moment a week ends: midnight (local) at the start of the Monday after it."""
    return timezone.make_aware(datetime.combine(week_ending + timedelta(days=1), time.min))
