"""A synthetic council for benchmarks: people CSV, lesson progress and completion records."""

import csv
import io
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import connection
from django.db.models import Count
from django.utils import timezone

from accounts.importers import COLUMNS as PEOPLE_COLUMNS
from accounts.models import PersonType, ServiceArea, User
from cms.audit import ACTION_EXEMPT, audit_changes, audit_entries_save, audit_entry, audit_snapshot
from cms.services import rows_update
from training.models import Assignment, AssignmentRule, LessonPage, LessonProgress, ModulePage
from training.reports.figures import CATEGORIES
from training.services.completion import CompletionDraft, add_months, completion_records_append
from training.services.exemptions import EXEMPTION_FIELDS

DIRECTORATES = {
    "Neighbourhoods": ["Housing", "Environmental Health", "Licensing", "Trading Standards"],
    "Place": ["Waste Services", "Planning", "Highways", "Estates"],
    "Resources": ["Procurement", "Finance", "Revenues and Benefits", "Human Resources"],
    "Adults and Health": ["Adult Social Care", "Public Health"],
    "Children and Families": ["Children's Social Care", "Early Help"],
    "Chief Executive's": ["Democratic Services", "Communications", "Legal"],
}
AREAS = {
    "Housing": ServiceArea.HOUSING,
    "Environmental Health": ServiceArea.ENVIRONMENTAL_HEALTH,
    "Licensing": ServiceArea.LICENSING,
    "Trading Standards": ServiceArea.TRADING_STANDARDS,
    "Waste Services": ServiceArea.WASTE,
    "Planning": ServiceArea.PLANNING,
    "Highways": ServiceArea.HIGHWAYS,
    "Estates": ServiceArea.ESTATES,
    "Procurement": ServiceArea.PROCUREMENT,
    "Finance": ServiceArea.FINANCE,
    "Revenues and Benefits": ServiceArea.REVENUES,
    "Adult Social Care": ServiceArea.SOCIAL_CARE,
    "Children's Social Care": ServiceArea.SOCIAL_CARE,
    "Democratic Services": ServiceArea.DEMOCRATIC_SERVICES,
}
# Demo people, tests and the synthetic council (scale.example.gov.uk) all have addresses here;
# a council's real people never do.
SYNTHETIC_DOMAIN = "example.gov.uk"
TEAM_SIZE = 12
COUNCILLOR_SHARE = 50  # one councillor per 50 people
# The scale: about a dozen modules, so 100,000 learners hold over a million assignments.
SCALE_MODULES = 13


def real_people_count() -> int:
    """People, leavers included, whose email is on neither SYNTHETIC_DOMAIN nor a subdomain of
    it: a council's real staff and councillors, whom no synthetic data may touch."""
    return (
        User.objects.exclude(email__iendswith=f"@{SYNTHETIC_DOMAIN}")
        .exclude(email__iendswith=f".{SYNTHETIC_DOMAIN}")
        .count()
    )


def scale_modules(*, total: int = SCALE_MODULES) -> int:
    """Copies of the first module (lessons and assignment rules too) until the catalogue has
    `total` modules. Returns how many were added."""
    original = ModulePage.objects.order_by("path").first()
    rules = list(AssignmentRule.objects.filter(module=original))
    added = 0
    for n in range(ModulePage.objects.count() + 1, total + 1):
        copy = original.copy(
            recursive=True,
            keep_live=True,
            update_attrs={"title": f"{original.title} (scale copy {n})", "slug": f"scale-{n}"},
            log_action=None,
        )
        for rule in rules:
            rule.pk = None
            rule.module = copy
            rule.save()
        added += 1
    return added


def people_csv(*, learners: int, seed: int = 1) -> str:
    """HR's CSV for `learners` people: teams of 12 under a manager, and some councillors."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
    services = [(d, s) for d, names in DIRECTORATES.items() for s in names]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(PEOPLE_COLUMNS)
    manager_email = ""
    for n in range(learners):
        email = f"person{n}@scale.{SYNTHETIC_DOMAIN}"
        start = date(2015, 1, 1) + timedelta(days=rng.randrange(4000))
        if n % COUNCILLOR_SHARE == COUNCILLOR_SHARE - 1:
            writer.writerow(
                [
                    "",
                    email,
                    f"Councillor {n}",
                    "councillor",
                    "",
                    "",
                    "Councillor",
                    "",
                    date(2025, 5, 1).isoformat(),
                    "",
                    "yes",
                ]
            )
            continue
        directorate, service = services[(n // TEAM_SIZE) % len(services)]
        is_manager = n % TEAM_SIZE == 0
        writer.writerow(
            [
                f"S{n:06d}",
                email,
                f"Person {n}",
                "officer",
                f"{directorate} > {service}",
                AREAS.get(service, ServiceArea.OTHER),
                "Team Manager" if is_manager else "Officer",
                "" if is_manager else manager_email,
                start.isoformat(),
                "",
                "yes",
            ]
        )
        if is_manager:
            manager_email = email
    return out.getvalue()


# The spread of a real council, as shares of each person type's open assignments: most
# compliant, some in progress, some overdue, a few expired and exempt, councillors behind
# officers. The one place the proportions are stated; activity_seed deals them out.
SPREAD = {
    PersonType.OFFICER: {
        "compliant": 0.74,
        "in_progress": 0.08,
        "not_started": 0.05,
        "overdue": 0.08,
        "expired": 0.03,
        "exempt": 0.02,
    },
    PersonType.COUNCILLOR: {
        "compliant": 0.48,
        "in_progress": 0.10,
        "not_started": 0.07,
        "overdue": 0.26,
        "expired": 0.07,
        "exempt": 0.02,
    },
}
SEED_EXEMPT_REASON = "Synthetic council: seconded to another authority"


@dataclass
class SeedSpread:
    """What activity_seed made: rows written, and open assignments by person type and the
    overview's category (training.reports.figures.CATEGORIES)."""

    progress: int = 0
    records: int = 0
    exemptions: int = 0
    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, person_type: str, category: str) -> None:
        row = self.counts.setdefault(person_type, dict.fromkeys(CATEGORIES, 0))
        row[category] += 1

    def lines(self) -> list[str]:
        """One line per person type: each category's count and share of its assignments."""
        out = []
        for person_type, row in sorted(self.counts.items()):
            assigned = sum(row.values())
            shares = ", ".join(
                f"{category.replace('_', ' ')} {n} ({100 * n / assigned:.0f}%)"
                for category, n in row.items()
            )
            out.append(f"{person_type}s, {assigned} assignments: {shares}")
        return out


def _outcome(rng: random.Random, person_type: str) -> str:
    shares = SPREAD.get(person_type, SPREAD[PersonType.OFFICER])
    return rng.choices(list(shares), weights=list(shares.values()))[0]


def activity_seed(*, seed: int = 1, batch: int = 5000, now: datetime | None = None) -> SeedSpread:
    """Deal each untouched open assignment (nothing started, completed or exempted yet) an
    outcome from SPREAD and write, in bulk, the columns the services would have written on the
    way there, `batch` assignments at a time:
    - lesson progress rows, and the assignment's started_at from the first (as lesson_open);
    - assigned_at and due_on moved back to when it must have been assigned (due_days later, as
      assignments_sync), for the overdue, the in-progress and the completed;
    - completions (valid, or expired by now) through the chain's one writer,
      completion_records_append, which sets completed_at, valid_until and recertify_from;
    - exemptions with their reason, time and an audit trail entry (as assignment_exempt).
    Returns what it made (SeedSpread)."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
    now = now or timezone.now()
    today = timezone.localdate(now)
    lessons: dict[int, list[int]] = {}
    for module in ModulePage.objects.all():
        lessons[module.pk] = list(
            LessonPage.objects.child_of(module).live().values_list("pk", flat=True)
        )
    # Looked up here rather than joined to every page: with the joins, PostgreSQL's plan for a
    # page (its statistics still those of an empty table) took seconds at a million rows.
    person_types = dict(User.objects.values_list("pk", "person_type"))
    due_days_of = dict(AssignmentRule.objects.values_list("pk", "due_days"))
    spread = SeedSpread()
    last_pk = 0
    untouched = Assignment.objects.open().filter(
        started_at__isnull=True, completed_at__isnull=True, exempt_reason=""
    )
    # Keyset pages rather than one streaming cursor: the appends update the rows being read.
    while page := list(untouched.filter(pk__gt=last_pk).order_by("pk").only(*_SEED_FIELDS)[:batch]):
        last_pk = page[-1].pk
        progress: list[tuple] = []
        drafts: list[CompletionDraft] = []
        audit: list = []
        dated: list[Assignment] = []  # assigned_at, due_on or started_at changed
        exempted: list[int] = []
        for assignment in page:
            person_type = person_types[assignment.user_id]
            category = _outcome(rng, person_type)
            module_lessons = lessons[assignment.module_id]
            due_days = due_days_of.get(assignment.rule_id, 28)
            months = assignment.valid_months
            if category == "expired" and not months:
                category = "compliant"  # a completion that never expires cannot lapse
            if category in ("compliant", "expired"):
                if category == "compliant":
                    # Within its validity (some of them in the recertification window).
                    back = rng.randrange(1, 28 * months if months else 700)
                    completed = now - timedelta(days=back, minutes=rng.randrange(600))
                else:
                    completed = add_months(now, -months) - timedelta(days=rng.randrange(5, 180))
                started = completed - timedelta(days=rng.randrange(0, 4), hours=1)
                _assigned_before(assignment, started, rng=rng, due_days=due_days)
                progress += _progress(assignment, module_lessons, started, completed, done=None)
                drafts.append(
                    CompletionDraft(
                        user_id=assignment.user_id,
                        module_id=assignment.module_id,
                        module_version=assignment.required_version,
                        score=rng.randrange(80, 101),
                        completed_at=completed,
                        expires_at=add_months(completed, months) if months else None,
                        source="seed",
                    )
                )
            elif category == "in_progress" or (category == "overdue" and rng.random() < 0.5):
                if category == "overdue":
                    late = rng.randrange(1, 120)
                    assignment.due_on = today - timedelta(days=late)
                    assignment.assigned_at = now - timedelta(days=late + due_days)
                    started = assignment.assigned_at + timedelta(days=rng.randrange(1, due_days))
                else:
                    # Still inside its due_days, so not yet overdue.
                    started = now - timedelta(days=rng.randrange(1, max(due_days - 1, 2)))
                    assignment.assigned_at = started - timedelta(days=1)
                    assignment.due_on = timezone.localdate(assignment.assigned_at) + timedelta(
                        days=due_days
                    )
                done = rng.randrange(0, len(module_lessons)) if module_lessons else 0
                progress += _progress(assignment, module_lessons, started, started, done=done)
            elif category == "overdue":  # never opened it
                late = rng.randrange(1, 120)
                assignment.due_on = today - timedelta(days=late)
                assignment.assigned_at = now - timedelta(days=late + due_days)
            elif category == "exempt":
                before = audit_snapshot(assignment, fields=EXEMPTION_FIELDS)
                assignment.exempt_reason = SEED_EXEMPT_REASON
                assignment.exempted_at = now
                exempted.append(assignment.pk)
                audit.append(
                    audit_entry(
                        instance=assignment,
                        action=ACTION_EXEMPT,
                        changes=audit_changes(
                            before=before, after=audit_snapshot(assignment, fields=EXEMPTION_FIELDS)
                        ),
                        timestamp=now,
                        reason=SEED_EXEMPT_REASON,
                    )
                )
            if category not in ("not_started", "exempt"):
                dated.append(assignment)
            spread.add(person_type, category)
        rows_update(Assignment, dated, _SEED_DATES)
        Assignment.objects.filter(pk__in=exempted).update(
            exempt_reason=SEED_EXEMPT_REASON, exempted_at=now
        )
        _progress_write(progress)
        audit_entries_save(audit)
        spread.progress += len(progress)
        spread.exemptions += len(audit)
        spread.records += len(completion_records_append(drafts=drafts))
    return spread


_SEED_DATES = ["assigned_at", "due_on", "started_at"]
_SEED_FIELDS = [
    "pk",
    "user_id",
    "module_id",
    "rule_id",
    "required_version",
    "valid_months",
    "exempted_by",
    *_SEED_DATES,
    "exempt_reason",
    "exempted_at",
]


_PROGRESS_COLUMNS = [
    "user_id",
    "lesson_id",
    "module_id",
    "module_version",
    "started_at",
    "completed_at",
]


def _progress_write(rows: list[tuple]) -> None:
    """Insert lesson progress rows (tuples in _PROGRESS_COLUMNS' order), leaving any a person
    already has. On PostgreSQL through COPY into a scratch table: millions of model instances
    through bulk_create were most of the seeding's time and memory."""
    if connection.vendor != "postgresql":
        LessonProgress.objects.bulk_create(
            [LessonProgress(**dict(zip(_PROGRESS_COLUMNS, row, strict=True))) for row in rows],
            ignore_conflicts=True,
            batch_size=2000,
        )
        return
    table = LessonProgress._meta.db_table
    columns = ", ".join(_PROGRESS_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS seed_progress AS SELECT {columns} FROM {table} "  # noqa: S608 - fixed names
            "WITH NO DATA"
        )
        with cursor.copy(f"COPY seed_progress ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM seed_progress "  # noqa: S608 - fixed names
            "ON CONFLICT DO NOTHING"
        )
        cursor.execute("TRUNCATE seed_progress")


def _assigned_before(
    assignment: Assignment, started: datetime, *, rng: random.Random, due_days: int
) -> None:
    """Assigned a little before the learner started (due due_days after), unless later."""
    assigned = started - timedelta(days=rng.randrange(1, due_days + 1))
    if assigned < assignment.assigned_at:
        assignment.assigned_at = assigned
        assignment.due_on = timezone.localdate(assigned) + timedelta(days=due_days)


def _progress(
    assignment: Assignment,
    module_lessons: list[int],
    started: datetime,
    completed: datetime,
    *,
    done: int | None,
) -> list[tuple]:
    """Lesson rows as lesson_open and lesson_complete leave them: every lesson completed
    (`done` None), or `done` completed and the next one opened; the assignment's started_at
    is the first lesson's, as lesson_open sets it."""
    if not module_lessons:
        return []
    opened = module_lessons if done is None else module_lessons[: done + 1]
    assignment.started_at = started
    return [
        (
            assignment.user_id,
            lesson_id,
            assignment.module_id,
            assignment.required_version,
            started,
            completed if done is None or n < done else None,
        )
        for n, lesson_id in enumerate(opened)
    ]


def busiest_learner() -> User:
    """The active officer with the most open assignments."""
    return (
        User.objects.filter(is_active=True, person_type="officer")
        .annotate(n=Count("assignments"))
        .order_by("-n")
        .first()
    )
