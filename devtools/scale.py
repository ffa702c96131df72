"""A synthetic council for benchmarks: people CSV, lesson progress and completion records."""

import csv
import io
import random
from datetime import date, timedelta

from django.db.models import Count
from django.utils import timezone

from accounts.importers import COLUMNS as PEOPLE_COLUMNS
from accounts.models import ServiceArea, User
from training.models import Assignment, AssignmentRule, LessonPage, LessonProgress, ModulePage
from training.services.completion import CompletionDraft, completion_records_append

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


def activity_seed(*, seed: int = 1, batch: int = 5000) -> tuple[int, int]:
    """Progress on about half the open assignments and completions for about a third, `batch`
    assignments at a time. The completions go through the chain's one writer
    (completion_records_append), which also marks the assignments complete and queues a report
    count. Returns (progress rows, completion records)."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
    now = timezone.now()
    lessons: dict[int, list[int]] = {}
    for module in ModulePage.objects.all():
        lessons[module.pk] = list(
            LessonPage.objects.child_of(module).live().values_list("pk", flat=True)
        )
    progress_count = record_count = 0
    last_pk = 0
    # Keyset pages rather than one streaming cursor: the appends update the rows being read.
    while page := list(
        Assignment.objects.open()
        .filter(pk__gt=last_pk)
        .order_by("pk")
        .values_list("pk", "user_id", "module_id", "required_version")[:batch]
    ):
        last_pk = page[-1][0]
        progress: list[LessonProgress] = []
        drafts: list[CompletionDraft] = []
        for _, user_id, module_id, version in page:
            roll = rng.random()
            if roll > 0.5 or not lessons[module_id]:
                continue
            module_lessons = lessons[module_id]
            done = len(module_lessons) if roll < 0.33 else rng.randrange(1, len(module_lessons) + 1)
            started = now - timedelta(days=rng.randrange(1, 300))
            progress.extend(
                LessonProgress(
                    user_id=user_id,
                    lesson_id=lesson_id,
                    module_id=module_id,
                    module_version=version,
                    started_at=started,
                    completed_at=started,
                )
                for lesson_id in module_lessons[:done]
            )
            if roll < 0.33:
                drafts.append(
                    CompletionDraft(
                        user_id=user_id,
                        module_id=module_id,
                        module_version=version,
                        score=80,
                        completed_at=started,
                        expires_at=started + timedelta(days=730),
                        source="seed",
                    )
                )
        LessonProgress.objects.bulk_create(progress, ignore_conflicts=True)
        progress_count += len(progress)
        record_count += len(completion_records_append(drafts=drafts))
    return progress_count, record_count


def busiest_learner() -> User:
    """The active officer with the most open assignments."""
    return (
        User.objects.filter(is_active=True, person_type="officer")
        .annotate(n=Count("assignments"))
        .order_by("-n")
        .first()
    )
