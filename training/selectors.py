"""Reads for training: catalogue, module progress, audiences; query counts stay flat."""

from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Count, Q
from wagtail.models import Page, PageViewRestriction

from accounts.models import User
from training.models import (
    Audience,
    LessonPage,
    LessonProgress,
    ModuleCompletion,
    ModuleIndexPage,
    ModulePage,
)


def audience_ids_for_user(*, user: User) -> set[int]:
    """The audiences a person belongs to, worked out in two queries whatever their number."""
    audiences = list(Audience.objects.prefetch_related("departments"))
    if not audiences or not user.is_authenticated:
        return set()
    flags = User.objects.filter(pk=user.pk).aggregate(
        **{f"a{a.pk}": Count("pk", filter=a.member_filter(), distinct=True) for a in audiences}
    )
    return {a.pk for a in audiences if flags[f"a{a.pk}"]}


@dataclass
class CatalogueEntry:
    module: ModulePage
    for_you: bool
    lessons_total: int
    lessons_done: int
    lessons_started: int

    @property
    def percent(self) -> int:
        return round(100 * self.lessons_done / self.lessons_total) if self.lessons_total else 0

    @property
    def status(self) -> str:
        if self.lessons_total and self.lessons_done == self.lessons_total:
            return "Lessons done"
        if self.lessons_started:
            return "In progress"
        return "Not started"


def module_catalogue_for_user(*, user: User, index: ModuleIndexPage) -> list[CatalogueEntry]:
    """Live modules; those for the learner's audiences first, mandatory ones first among them."""
    modules = list(
        ModulePage.objects.child_of(index).live().prefetch_related("audiences").order_by("path")
    )
    lesson_paths = LessonPage.objects.live().descendant_of(index).values_list("path", flat=True)
    module_path_length = ModulePage.steplen * (index.depth + 1)
    totals = Counter(path[:module_path_length] for path in lesson_paths)
    progress = {
        row["module_id"]: row
        for row in LessonProgress.objects.filter(user=user, lesson__live=True)
        .values("module_id")
        .annotate(started=Count("pk"), done=Count("pk", filter=Q(completed_at__isnull=False)))
    }
    mine = audience_ids_for_user(user=user)
    entries = [
        CatalogueEntry(
            module=module,
            for_you=any(a.pk in mine for a in module.audiences.all()),
            lessons_total=totals.get(module.path, 0),
            lessons_done=progress.get(module.pk, {}).get("done", 0),
            lessons_started=progress.get(module.pk, {}).get("started", 0),
        )
        for module in modules
    ]
    return sorted(entries, key=lambda e: (not e.for_you, not e.module.mandatory))


@dataclass
class LessonState:
    lesson: LessonPage
    started: bool
    done: bool


@dataclass
class ModuleProgress:
    lessons: list[LessonState] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.lessons)

    @property
    def done(self) -> int:
        return sum(1 for s in self.lessons if s.done)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0

    @property
    def started(self) -> bool:
        return any(s.started for s in self.lessons)

    @property
    def all_done(self) -> bool:
        return self.total > 0 and self.done == self.total

    @property
    def next_lesson(self) -> LessonPage | None:
        """Where "Start" or "Continue" goes: the first lesson not yet complete."""
        return next((s.lesson for s in self.lessons if not s.done), None)

    def neighbours_of(self, lesson: LessonPage) -> tuple[LessonPage | None, LessonPage | None]:
        """The live lessons before and after this one."""
        ids = [s.lesson.pk for s in self.lessons]
        if lesson.pk not in ids:
            return None, None
        i = ids.index(lesson.pk)
        previous = self.lessons[i - 1].lesson if i > 0 else None
        following = self.lessons[i + 1].lesson if i + 1 < len(ids) else None
        return previous, following

    def is_done(self, lesson: LessonPage) -> bool:
        return any(s.done for s in self.lessons if s.lesson.pk == lesson.pk)

    @property
    def minutes_left(self) -> int:
        return sum(s.lesson.estimated_minutes for s in self.lessons if not s.done)


def module_progress_for_user(*, user: User, module: ModulePage) -> ModuleProgress:
    """Each live lesson of the module with the learner's ticks: two queries."""
    lessons = list(LessonPage.objects.child_of(module).live().defer("body").order_by("path"))
    rows = {
        row["lesson_id"]: row["completed_at"]
        for row in LessonProgress.objects.filter(user=user, module=module).values(
            "lesson_id", "completed_at"
        )
    }
    return ModuleProgress(
        lessons=[
            LessonState(
                lesson=lesson,
                started=lesson.pk in rows,
                done=rows.get(lesson.pk) is not None,
            )
            for lesson in lessons
        ]
    )


def page_is_open_to(*, user: User, page: Page) -> bool:
    """Whether the page's view restrictions (its own and its ancestors') let this person in."""
    for restriction in page.get_view_restrictions():
        if restriction.restriction_type == PageViewRestriction.LOGIN:
            allowed = user.is_authenticated
        elif restriction.restriction_type == PageViewRestriction.GROUPS:
            allowed = user.is_authenticated and (
                user.is_superuser
                or user.groups.filter(pk__in=restriction.groups.values("pk")).exists()
            )
        else:  # password-protected pages are not used for training
            allowed = False
        if not allowed:
            return False
    return True


def module_completion_latest(*, user: User, module: ModulePage) -> ModuleCompletion | None:
    """The learner's most recent completion of the module, any version: one query."""
    return (
        ModuleCompletion.objects.filter(user=user, module=module).order_by("-completed_at").first()
    )
