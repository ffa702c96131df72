"""Reads for training: catalogue, module progress, audiences; query counts stay flat."""

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Count, Max, Prefetch, Q, Subquery
from django.utils import timezone
from django.utils.html import strip_tags
from wagtail import hooks
from wagtail.models import Page, PageViewRestriction

from accounts.models import PersonType, User
from accounts.selectors import user_group_ids_and_names
from cms.selectors import reporting_route_list
from cms.site_cache import cached
from cms.site_settings import ReportingRoute
from training.checkpoints import Checkpoint
from training.hashing import RecordsKeyUnknown
from training.models import (
    Assignment,
    Audience,
    LessonPage,
    LessonProgress,
    ModuleCompletion,
    ModuleIndexPage,
    ModulePage,
    ModuleVersion,
    QuizPass,
    RetakeRequest,
    Status,
)


def audience_ids_for_user(*, user: User, audiences: list[Audience] | None = None) -> set[int]:
    """The audiences a person belongs to, worked out in two queries whatever their number; one
    when given the audiences to test (with their departments prefetched)."""
    if audiences is None:
        audiences = list(Audience.objects.prefetch_related("departments"))
    if not audiences or not user.is_authenticated:
        return set()
    flags = User.objects.filter(pk=user.pk).aggregate(
        **{f"a{a.pk}": Count("pk", filter=a.member_filter(), distinct=True) for a in audiences}
    )
    return {a.pk for a in audiences if flags[f"a{a.pk}"]}


PARTNER_NOT_ASSIGNED = (
    "This module has not been assigned to you. Partners and contractors see only the modules "
    "the council asked them to take: if you think you need this one, ask the person at the "
    "council who invited you. Nothing has been recorded."
)


def is_partner(user: User) -> bool:
    """A partner, contractor or agency worker HR invited with their organisation (an
    "associated person"): they see only the modules assigned to them, and public ones."""
    return (
        user.is_authenticated and user.person_type == PersonType.OTHER and bool(user.organisation)
    )


def module_open_to_partner(*, user: User, module: ModulePage) -> bool:
    """Whether this person may open the module: anyone but a partner may; a partner only a
    public module or one assigned to them (an open assignment, or one they completed)."""
    if not is_partner(user) or module.public:
        return True
    return Assignment.objects.filter(user=user, module=module).exists()


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
    """Live modules: those assigned to the learner and for their audiences first, most urgent
    first (as My training orders them); then the rest of theirs, then the others, mandatory
    ones first among each. A partner (is_partner) sees only their assigned and public modules.

    Only the modules' own audiences are tested, read with the modules (and their departments)."""
    modules = list(
        ModulePage.objects.child_of(index)
        .live()
        .prefetch_related(
            Prefetch("audiences", queryset=Audience.objects.prefetch_related("departments"))
        )
        .order_by("path")
    )
    totals = lesson_totals_shown()
    progress = {
        row["module_id"]: row
        for row in LessonProgress.objects.filter(
            user=user, lesson__live=True, lesson__refresher=False
        )
        .values("module_id")
        .annotate(started=Count("pk"), done=Count("pk", filter=Q(completed_at__isnull=False)))
    }
    audiences = {a.pk: a for module in modules for a in module.audiences.all()}
    mine = audience_ids_for_user(user=user, audiences=list(audiences.values()))
    entries = [
        CatalogueEntry(
            module=module,
            for_you=any(a.pk in mine for a in module.audiences.all()),
            lessons_total=totals.get(module.pk, 0),
            lessons_done=progress.get(module.pk, {}).get("done", 0),
            lessons_started=progress.get(module.pk, {}).get("started", 0),
        )
        for module in modules
    ]
    if is_partner(user):
        theirs = set(Assignment.objects.filter(user=user).values_list("module_id", flat=True))
        entries = [e for e in entries if e.module.public or e.module.pk in theirs]
    assigned = {
        a.module_id: AssignmentState(assignment=a)
        for a in _open_assignments(user_ids=[user.pk] if user.pk else [], now=timezone.now())
    }

    def order(entry: CatalogueEntry) -> tuple:
        # The learner's own modules first, most urgent first; then the rest, mandatory first.
        state = assigned.get(entry.module.pk)
        if not entry.for_you:
            return (2, not entry.module.mandatory)
        if state is None:
            return (1, not entry.module.mandatory)
        return (0, *_urgency_key(state))

    return sorted(entries, key=order)


@dataclass
class LessonState:
    lesson: LessonPage
    started: bool
    done: bool
    changed: bool = False  # on a delta path: to (re)read, changed or the refresher


READ = object()  # an argument the function reads from the database when not given


@dataclass
class DeltaPath:
    """The short way through a module for someone who completed it before, in one of two cases.

    An update: they completed an earlier version, still valid, and the versions since marked the
    lessons they changed: they read again only those, then take a short quiz on them (none when
    the bank has no questions on them). A refresher: they are renewing (their completion has
    expired or is in its reopen window) a module with refresher lessons: they read only those,
    then take a fresh draw of the whole quiz (quizzes leaves out the questions they were asked
    before). Either way passing completes the module's current version."""

    passed: ModuleCompletion  # their latest completion
    lessons: list[LessonPage]  # the live lessons to read, in order
    changed_since: dict[int, datetime]  # lesson id -> counts done when completed from then on
    version: ModuleVersion | None = None  # an update: the module's current version
    refresher: bool = False
    expired: bool = False  # a refresher: `passed` has expired (else it is in its reopen window)
    questions: int = 0  # how many the quiz draws

    @property
    def lesson_ids(self) -> list[int]:
        return [lesson.pk for lesson in self.lessons]

    @property
    def question_lesson_ids(self) -> list[int] | None:
        """The lessons the quiz draws on: an update's changed lessons; None (the whole bank)
        for a refresher."""
        return None if self.refresher else self.lesson_ids


@dataclass
class ModuleProgress:
    lessons: list[LessonState] = field(default_factory=list)
    delta: DeltaPath | None = None
    # The lessons the learner has a progress row for in this module (opened at least once).
    opened_ids: frozenset[int] = field(default_factory=frozenset, repr=False)
    # The learner's latest completion, read once for this snapshot (progress_completion_latest).
    completion_read: bool = field(default=False, repr=False)
    completion: "ModuleCompletion | None" = field(default=None, repr=False)

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


def module_lessons_shown(*, module: ModulePage) -> list[LessonPage]:
    """The module's live lessons in order, without their bodies, for the learner's pages: kept in
    the site cache (cms.site_cache), which forgets it whenever an editor publishes, unpublishes,
    moves or deletes a page. Never for a record: completing reads the database."""
    return cached(("lessons", module.pk), lambda: _module_lessons_live(module))


def lesson_module_shown(*, lesson: LessonPage) -> ModulePage | None:
    """The module a lesson sits in, for the learner's pages (the site cache, as above)."""
    return cached(("module-of", lesson.pk), lambda: ModulePage.objects.parent_of(lesson).first())


def _module_lessons_live(module: ModulePage) -> list[LessonPage]:
    return list(LessonPage.objects.child_of(module).live().defer("body").order_by("path"))


def module_list_public() -> list[ModulePage]:
    """The live public modules (ModulePage.public), for the home page of people not signed in:
    kept in the site cache (cms.site_cache), as module_lessons_shown."""
    return cached(
        ("public-modules",),
        lambda: list(ModulePage.objects.live().filter(public=True).order_by("path")),
    )


def module_progress_unrecorded(*, lessons: list[LessonPage]) -> ModuleProgress:
    """A public module's lessons (module_lessons_shown's) with no ticks: nothing is recorded
    about who reads a public module, signed in or not. No query."""
    return ModuleProgress(
        lessons=[LessonState(lesson, False, False) for lesson in lessons if not lesson.refresher]
    )


def module_progress_for_user(
    *, user: User, module: ModulePage, lessons: list[LessonPage] | None = None
) -> ModuleProgress:
    """Each live lesson of the module (or `lessons`, module_lessons_shown's) with the learner's
    ticks: two queries, one with `lessons` (from version 2 on, or with refresher lessons, one
    more for their latest completion when they have one or have opened no lesson, and a few
    more to find a delta path once they have completed).

    The refresher lessons are only on a refresher path: everyone else's lessons leave them out.
    On a delta path (module_delta_for_user) the other lessons count as done, and one to read
    only if completed since it was changed (an update) or since the completion being renewed (a
    refresher)."""
    if lessons is None:
        lessons = _module_lessons_live(module)
    needs_completion = _module_has_paths(module, lessons)
    progress_rows = LessonProgress.objects.filter(user=user, module=module)
    fields = ["lesson_id", "completed_at"]
    if needs_completion:
        # Which completion is the latest comes with the ticks, so a learner who has none (most
        # of those reading) costs no query more.
        latest = ModuleCompletion.objects.filter(user=user, module=module).order_by("-completed_at")
        progress_rows = progress_rows.annotate(latest_completion=Subquery(latest.values("pk")[:1]))
        fields.append("latest_completion")
    found = list(progress_rows.values(*fields))
    rows = {row["lesson_id"]: row["completed_at"] for row in found}
    progress = ModuleProgress(opened_ids=frozenset(rows))
    if needs_completion:
        # The latest completion, read once: the delta path and the assessment step both ask.
        if not found:
            progress.completion = module_completion_latest(user=user, module=module)
        elif completion_id := found[0]["latest_completion"]:
            progress.completion = ModuleCompletion.objects.filter(pk=completion_id).first()
        progress.completion_read = True
    progress.delta = module_delta_for_user(
        module=module, lessons=lessons, passed=progress.completion
    )
    progress.lessons = _lesson_states(lessons=lessons, rows=rows, delta=progress.delta)
    return progress


def _module_has_paths(module: ModulePage, lessons: list[LessonPage]) -> bool:
    """Whether a delta path can exist: a later version, or refresher lessons."""
    return module.version > 1 or any(lesson.refresher for lesson in lessons)


def _lesson_states(
    *, lessons: list[LessonPage], rows: dict[int, datetime | None], delta: DeltaPath | None
) -> list[LessonState]:
    """The lessons' ticks from their progress rows ({lesson id: completed at}), as the delta
    path counts them (see module_progress_for_user). No query."""
    if delta is None or not delta.refresher:
        lessons = [lesson for lesson in lessons if not lesson.refresher]
    states = []
    for lesson in lessons:
        completed_at = rows.get(lesson.pk)
        if delta is None:
            states.append(LessonState(lesson, lesson.pk in rows, completed_at is not None))
            continue
        since = delta.changed_since.get(lesson.pk)
        if since is None:
            states.append(LessonState(lesson, True, True))
            continue
        redone = completed_at is not None and completed_at >= since
        states.append(LessonState(lesson, redone, redone, changed=True))
    return states


def module_delta_for_user(
    *,
    module: ModulePage,
    lessons: list[LessonPage],
    passed: ModuleCompletion | None,
    now: datetime | None = None,
    recertify_from: datetime | object | None = READ,
    count_questions: bool = True,
) -> DeltaPath | None:
    """The learner's delta path to the module's current version, given its live `lessons`
    (refresher lessons included) and their latest completion (`passed`), or None when they take
    the whole module. An update first (module_update_path); failing that, a refresher
    (module_refresher_path). The quiz's size comes from the `training_delta_quiz_questions`
    hooks (quizzes registers one), as training never imports quizzes, unless `count_questions`
    is false (My training needs only the lessons). `recertify_from`: the open assignment's, when
    the caller has it (else it is read). A few queries; none without a completion."""
    if passed is None:
        return None
    now = now or timezone.now()
    delta = module_update_path(module=module, passed=passed, lessons=lessons, now=now)
    if delta is None:
        delta = module_refresher_path(
            user_id=passed.user_id,
            module=module,
            passed=passed,
            lessons=lessons,
            now=now,
            recertify_from=recertify_from,
        )
    if delta is not None and count_questions:
        delta.questions = sum(
            hook(module=module, lesson_ids=delta.question_lesson_ids)
            for hook in hooks.get_hooks("training_delta_quiz_questions")
        )
    return delta


def module_refresher_path(
    *,
    user_id: int,
    module: ModulePage,
    passed: ModuleCompletion,
    lessons: list[LessonPage],
    now: datetime | None = None,
    recertify_from: datetime | object | None = READ,
) -> DeltaPath | None:
    """A renewer's refresher path, or None: they are renewing when their latest completion
    (`passed`) is of the current version and has expired or their open assignment's reopen
    window has begun (Assignment.recertify_from), and the module has live refresher lessons.
    (A completion of an earlier version renews by the update path, or the whole module: a new
    version asks for more than the refresher.) A refresher lesson counts done only when
    completed after `passed`, so each renewal reads it again. One query, for the open
    assignment's recertify_from unless given (none without refresher lessons)."""
    refreshers = [lesson for lesson in lessons if lesson.refresher]
    if not refreshers or passed.module_version < module.version:
        return None
    now = now or timezone.now()
    expired = passed.expires_at is not None and passed.expires_at <= now
    if not expired:
        if recertify_from is READ:
            recertify_from = (
                Assignment.objects.open()
                .filter(user_id=user_id, module=module)
                .values_list("recertify_from", flat=True)
                .first()
            )
        if recertify_from is None or recertify_from > now:
            return None
    return DeltaPath(
        passed=passed,
        lessons=refreshers,
        changed_since={lesson.pk: passed.completed_at for lesson in refreshers},
        refresher=True,
        expired=expired,
    )


def module_update_path(
    *, module: ModulePage, passed: ModuleCompletion, lessons: list[LessonPage], now: datetime
) -> DeltaPath | None:
    """The update path from the learner's latest completion (`passed`) to the module's current
    version, or None: it is of the current version, or has expired; or a version since theirs
    has no changed lessons marked (the editor's way of saying everything changed). Two queries
    (none when `passed` is of the current version)."""
    if passed.module_version >= module.version:
        return None
    if passed.expires_at is not None and passed.expires_at <= now:
        return None
    versions = list(
        ModuleVersion.objects.filter(
            module=module, number__gt=passed.module_version, number__lte=module.version
        )
        .order_by("number")
        .prefetch_related("changed_lessons")
    )
    if not versions or versions[-1].number != module.version:
        return None
    changed_since: dict[int, datetime] = {}
    for version in versions:
        marked = version.changed_lessons.all()
        if not marked:
            return None
        for lesson in marked:
            changed_since[lesson.pk] = version.published_at
    changed = [lesson for lesson in lessons if lesson.pk in changed_since and not lesson.refresher]
    if not changed:
        return None
    return DeltaPath(
        version=versions[-1],
        passed=passed,
        lessons=changed,
        changed_since={lesson.pk: changed_since[lesson.pk] for lesson in changed},
    )


def page_is_open_to(*, user: User, page: Page) -> bool:
    """Whether the page's view restrictions (its own and its ancestors') let this person in."""
    for restriction in page.get_view_restrictions():
        if restriction.restriction_type == PageViewRestriction.LOGIN:
            allowed = user.is_authenticated
        elif restriction.restriction_type == PageViewRestriction.GROUPS:
            allowed = user.is_authenticated and (
                user.is_superuser
                or not user_group_ids_and_names(user=user)
                .keys()
                .isdisjoint(group.pk for group in restriction.groups.all())
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


def progress_completion_latest(
    *, user: User, module: ModulePage, progress: ModuleProgress
) -> ModuleCompletion | None:
    """module_completion_latest, read once per progress snapshot: the module page and its
    assessment step both ask."""
    if not progress.completion_read:
        progress.completion = module_completion_latest(user=user, module=module)
        progress.completion_read = True
    return progress.completion


@dataclass
class ModuleUpdate:
    """The module's current version when it is not the first, and the learner's latest completion
    of an earlier version (None when they have none, or have completed this one)."""

    version: ModuleVersion
    passed: ModuleCompletion | None = None

    @property
    def valid_until(self) -> datetime | None:
        """Until when the earlier completion counts: its expiry or the update-by date, if sooner."""
        if self.passed is None:
            return None
        ends = [t for t in (self.passed.expires_at, self.version.update_by_ends_at) if t]
        return min(ends, default=None)


def module_update_for_user(*, user: User, module: ModulePage) -> ModuleUpdate | None:
    """What changed in a module since version 1, and whether the learner still has to take the
    new version after passing an earlier one: two queries."""
    if module.version <= 1:
        return None
    version = ModuleVersion.objects.filter(module=module, number=module.version).first()
    if version is None:
        return None
    latest = module_completion_latest(user=user, module=module)
    if latest is not None and latest.module_version >= module.version:
        latest = None
    return ModuleUpdate(version=version, passed=latest)


@dataclass
class RetakePreview:
    """What a "learners must retake" publish of the module would do now."""

    asked_to_update: int  # completed an earlier version: told once, and due by update_by
    stay_valid: int  # of those, certificates still valid, now until update_by at the latest
    still_to_do: int  # not yet completed: they will need the new version
    update_by: date


def retake_preview(*, module: ModulePage, now: datetime | None = None) -> RetakePreview:
    """Counts from the module's open assignments of active people, exemptions left out, as
    assignments_supersede and module_update_messages_log will treat them: one query."""
    now = now or timezone.now()
    completed = Q(completed_at__isnull=False)
    counts = (
        Assignment.objects.open()
        .filter(module=module, exempt_reason="", user__is_active=True)
        .aggregate(
            asked=Count("pk", filter=completed),
            valid=Count(
                "pk", filter=completed & (Q(valid_until__isnull=True) | Q(valid_until__gt=now))
            ),
            to_do=Count("pk", filter=Q(completed_at__isnull=True)),
        )
    )
    return RetakePreview(
        asked_to_update=counts["asked"],
        stay_valid=counts["valid"],
        still_to_do=counts["to_do"],
        update_by=timezone.localdate(now) + timedelta(days=module.update_by_days),
    )


def retake_request_pending(*, module: ModulePage) -> RetakeRequest | None:
    """The module's pending "learners must retake" request, with who made it: one query."""
    return (
        RetakeRequest.objects.pending().filter(module=module).select_related("requested_by").first()
    )


# What needs doing soonest comes first: My training, the home page's "due next", the catalogue.
URGENCY = [
    Status.OVERDUE,
    Status.EXPIRED,
    Status.DUE_SOON,
    Status.IN_PROGRESS,
    Status.NOT_STARTED,
    Status.COMPLETED,
    Status.EXEMPT,
]


STATUS_TAGS = {
    Status.NOT_STARTED: "govuk-tag--grey",
    Status.IN_PROGRESS: "govuk-tag--blue",
    Status.COMPLETED: "govuk-tag--green",
    Status.DUE_SOON: "govuk-tag--yellow",
    Status.OVERDUE: "govuk-tag--red",
    Status.EXPIRED: "govuk-tag--red",
    Status.EXEMPT: "govuk-tag--purple",
}


@dataclass
class AssignmentState:
    assignment: Assignment
    lessons_done: int = 0
    lessons_total: int = 0
    # The version the assignment needs, when the person passed only an earlier one.
    update: ModuleVersion | None = None
    passed_version: int | None = None
    # On a delta path: the first lesson to read (delta_next_lessons_apply).
    next_lesson: LessonPage | None = None

    @property
    def status(self) -> str:
        return self.assignment.status

    @property
    def label(self) -> str:
        return Status(self.status).label

    @property
    def tag(self) -> str:
        return STATUS_TAGS[self.status]

    @property
    def due_on(self) -> date | None:
        """When action is due: the renewal date in a recertification window, else the due date."""
        if self.status in {Status.COMPLETED, Status.EXEMPT}:
            return None
        if self.assignment.valid_until is not None:
            return timezone.localdate(self.assignment.valid_until)
        return self.assignment.due_on

    @property
    def valid_until(self) -> datetime | None:
        return self.assignment.valid_until

    @property
    def needs_action(self) -> bool:
        return self.status not in {Status.COMPLETED, Status.EXEMPT}

    @property
    def up_to_date(self) -> bool:
        """Done, exempt, or a completion still valid while a renewal or an update is due."""
        if not self.needs_action:
            return True
        return (
            self.status == Status.DUE_SOON
            and self.assignment.completed_at is not None
            and self.assignment.valid_until is not None
        )


def assignment_states_for_users(
    *,
    user_ids: list[int],
    now: datetime | None = None,
    completions: list[ModuleCompletion] | None = None,
) -> dict[int, list[AssignmentState]]:
    """Every open assignment of these people with its status, lesson progress and, where they
    passed only an earlier version, the version now needed: three queries, however many people
    or assignments (the lesson totals come from the site cache), two given their `completions`
    (read already, as My training lists them), and one more when someone passed only an earlier
    version."""
    now = now or timezone.now()
    assignments = sorted(
        _open_assignments(user_ids=user_ids, now=now), key=lambda a: (a.due_on, a.module.title)
    )
    module_ids = {a.module_id for a in assignments}
    done = {
        (row["user_id"], row["module_id"]): row["done"]
        for row in LessonProgress.objects.filter(
            user_id__in=user_ids,
            module_id__in=module_ids,
            lesson__live=True,
            lesson__refresher=False,
        )
        .values("user_id", "module_id")
        .annotate(done=Count("pk", filter=Q(completed_at__isnull=False)))
    }
    totals = lesson_totals_shown()
    if completions is None:
        passed = {
            (row["user_id"], row["module_id"]): row["version"]
            for row in ModuleCompletion.objects.filter(
                user_id__in=user_ids, module_id__in=module_ids
            )
            .values("user_id", "module_id")
            .annotate(version=Max("module_version"))
        }
    else:
        passed = {}
        for completion in completions:
            key = (completion.user_id, completion.module_id)
            passed[key] = max(passed.get(key, 0), completion.module_version)
    behind_modules = {
        a.module_id
        for a in assignments
        if passed.get((a.user_id, a.module_id), a.required_version) < a.required_version
    }
    versions = (
        {
            (v.module_id, v.number): v
            for v in ModuleVersion.objects.filter(module_id__in=behind_modules, number__gt=1)
        }
        if behind_modules
        else {}
    )
    states: dict[int, list[AssignmentState]] = {user_id: [] for user_id in user_ids}
    for assignment in assignments:
        key = (assignment.user_id, assignment.module_id)
        passed_version = passed.get(key)
        behind = passed_version is not None and passed_version < assignment.required_version
        states[assignment.user_id].append(
            AssignmentState(
                assignment=assignment,
                lessons_done=done.get(key, 0),
                lessons_total=totals.get(assignment.module_id, 0),
                update=(
                    versions.get((assignment.module_id, assignment.required_version))
                    if behind
                    else None
                ),
                passed_version=passed_version if behind else None,
            )
        )
    return states


def _open_assignments(*, user_ids: list[int], now: datetime) -> list[Assignment]:
    """These people's open assignments with their status, each with its module (from
    modules_shown, with the audience count the urgency order needs): one query."""
    assignments = list(Assignment.objects.open().filter(user_id__in=user_ids).with_status(now))
    modules = modules_shown(module_ids={a.module_id for a in assignments})
    for assignment in assignments:
        assignment.module = modules[assignment.module_id]
    return assignments


def modules_shown(*, module_ids: set[int]) -> dict[int, ModulePage]:
    """Every module page by id, live or not (an assignment or a completion may name one since
    taken down), each with `audience_count`, how many audiences it is for: the fewer, the more
    it is made for the people it is assigned to (zero, "for everyone", counts as the broadest).
    For the learner's pages: kept in the site cache (cms.site_cache), which forgets it whenever
    an editor publishes, unpublishes, moves or deletes a page. No query when warm and holding
    every one of `module_ids`; one for those it lacks (a module made since, where this process
    caches alone while Redis is down)."""
    modules = cached(("modules",), _modules_read)
    missing = module_ids - modules.keys()
    if missing:
        modules |= _modules_read(pk__in=missing)
    return modules


def _modules_read(**filters) -> dict[int, ModulePage]:
    modules = ModulePage.objects.filter(**filters).annotate(audience_count=Count("audiences"))
    return {module.pk: module for module in modules}


def _urgency_key(state: "AssignmentState") -> tuple:
    return (
        URGENCY.index(state.status),
        state.due_on or date.max,
        state.assignment.module.audience_count or 10**6,
        state.assignment.module.title,
    )


def assignments_in_urgency_order(*, states: list[AssignmentState]) -> list[AssignmentState]:
    """One learner's assignments, most urgent first: overdue, expired, due soon, in progress,
    not started, then completed and exempt; the earliest due first within each; at the same
    due date, the modules made for the fewest audiences first, so a councillor's own module
    comes before the ones everybody takes. No query (_open_assignments read what it needs)."""
    return sorted(states, key=_urgency_key)


def assignment_due_next(*, user: User, now: datetime | None = None) -> AssignmentState | None:
    """The learner's most urgent assignment still to do (as My training lists it first), or
    None: for the home page. One query."""
    assignments = _open_assignments(user_ids=[user.pk], now=now or timezone.now())
    to_do = [s for a in assignments if (s := AssignmentState(assignment=a)).needs_action]
    return next(iter(assignments_in_urgency_order(states=to_do)), None)


def delta_next_lessons_apply(
    *,
    user: User,
    states: list[AssignmentState],
    completions: list[ModuleCompletion],
    now: datetime | None = None,
) -> None:
    """For one learner's assignments asking for an update or a renewal, set where the next
    action goes (the first lesson on their delta path still to read: a changed lesson, or the
    refresher) and count their lessons as their delta path does, given the learner's
    `completions`, newest first (completion_history). One query for all of them (their lesson
    progress; lessons from the site cache), and two more per module being updated to a new
    version; none when nothing is being updated or renewed."""
    now = now or timezone.now()
    paths = [
        state
        for state in states
        if state.needs_action
        and (
            state.update is not None
            or (
                state.assignment.recertify_from is not None
                and state.assignment.recertify_from <= now
            )
        )
    ]
    if not paths:
        return
    module_ids = [state.assignment.module_id for state in paths]
    rows: dict[int, dict[int, datetime | None]] = defaultdict(dict)
    for module_id, lesson_id, completed_at in LessonProgress.objects.filter(
        user=user, module_id__in=module_ids
    ).values_list("module_id", "lesson_id", "completed_at"):
        rows[module_id][lesson_id] = completed_at
    latest: dict[int, ModuleCompletion] = {}
    for completion in completions:
        latest.setdefault(completion.module_id, completion)
    for state in paths:
        module = state.assignment.module
        lessons = module_lessons_shown(module=module)
        delta = module_delta_for_user(
            module=module,
            lessons=lessons,
            passed=latest.get(module.pk),
            now=now,
            recertify_from=state.assignment.recertify_from,
            count_questions=False,
        )
        if delta is None:
            continue
        progress = ModuleProgress(
            lessons=_lesson_states(lessons=lessons, rows=rows[module.pk], delta=delta),
            delta=delta,
        )
        state.next_lesson = progress.next_lesson
        state.lessons_done, state.lessons_total = progress.done, progress.total


def lesson_totals(*, module_ids=(), module_paths: dict[str, int] | None = None) -> dict[int, int]:
    """Live lessons per module, refresher lessons left out (only renewers read them): two
    queries (one given the modules' {path: id})."""
    modules = module_paths
    if modules is None:
        modules = dict(ModulePage.objects.filter(pk__in=module_ids).values_list("path", "pk"))
    if not modules:
        return {}
    under_modules = Q()
    for path in modules:
        under_modules |= Q(path__startswith=path)
    totals: Counter = Counter()
    lesson_paths = (
        LessonPage.objects.live()
        .filter(under_modules, refresher=False)
        .values_list("path", flat=True)
    )
    for path in lesson_paths:
        totals[modules[path[: -ModulePage.steplen]]] += 1
    return dict(totals)


def lesson_totals_shown() -> dict[int, int]:
    """lesson_totals for every module, for the learner's pages: kept in the site cache
    (cms.site_cache), which forgets it whenever an editor publishes, unpublishes, moves or
    deletes a page. No query when warm."""
    return cached(
        ("lesson-totals",),
        lambda: lesson_totals(module_paths=dict(ModulePage.objects.values_list("path", "pk"))),
    )


def completion_history(*, user: User) -> list[ModuleCompletion]:
    """A person's completions, newest first, with their modules (modules_shown): one query."""
    completions = list(ModuleCompletion.objects.filter(user=user).order_by("-completed_at"))
    modules = modules_shown(module_ids={c.module_id for c in completions})
    for completion in completions:
        completion.module = modules[completion.module_id]
    return completions


# How far down My team reaches: reports, their reports, and so on, this many levels.
TEAM_DEPTH = 6

_TEAM_TREE_SQL = """
WITH RECURSIVE tree(id, depth) AS (
    SELECT id, 1 FROM accounts_user WHERE line_manager_id = %s
    UNION
    SELECT person.id, tree.depth + 1
    FROM accounts_user person JOIN tree ON person.line_manager_id = tree.id
    WHERE tree.depth < %s
)
SELECT id, MIN(depth) FROM tree WHERE id <> %s GROUP BY id
"""


@dataclass
class TeamMember:
    person: User
    depth: int  # 1: reports to the manager; 2: to one of their reports; ...


def team_members(*, manager: User) -> list[TeamMember]:
    """Everyone under a line manager who is still active, down to TEAM_DEPTH levels (reports of
    reports, ...), each with how far down they are: two queries (a recursive one for the tree),
    whatever the size of the tree. Direct reports first, then by name."""
    if not manager.pk:
        return []
    with connection.cursor() as cursor:
        cursor.execute(_TEAM_TREE_SQL, [manager.pk, TEAM_DEPTH, manager.pk])
        depths = dict(cursor.fetchall())
    if not depths:
        return []
    people = User.objects.filter(pk__in=depths, is_active=True).select_related(
        "department", "line_manager"
    )
    members = [TeamMember(person=p, depth=depths[p.pk]) for p in people]
    return sorted(members, key=lambda m: (m.depth, m.person.full_name))


def team_assignment(*, manager: User, assignment_id: int) -> Assignment | None:
    """One open assignment of someone in the manager's tree, with its person and module, or
    None (not theirs, closed, or no such assignment): three queries."""
    ids = [m.person.pk for m in team_members(manager=manager)]
    return (
        Assignment.objects.open()
        .filter(pk=assignment_id, user_id__in=ids)
        .select_related("user", "module")
        .first()
    )


@dataclass
class TeamRow:
    member: TeamMember
    state: AssignmentState
    # From the quizzes app (the training_team_attempts hook): attempts used and allowed, and
    # whether they are locked out; None for a module without a quiz.
    attempts: dict | None = None

    @property
    def urgency(self) -> tuple:
        """Overdue first (most overdue first), then due soonest, then done."""
        state = self.state
        if state.status in {Status.OVERDUE, Status.EXPIRED}:
            group = 0
        elif state.needs_action:
            group = 1
        else:
            group = 2
        due = state.due_on or date.max
        return (group, due, self.member.person.full_name, state.assignment.module.title)


@dataclass
class TeamOverview:
    members: list[TeamMember]
    rows: list[TeamRow]

    @property
    def people(self) -> int:
        return len(self.members)

    @property
    def deepest(self) -> int:
        return max((m.depth for m in self.members), default=0)

    def count(self, *statuses: str) -> int:
        return sum(1 for row in self.rows if row.state.status in statuses)

    @property
    def assigned(self) -> int:
        return len(self.rows)

    @property
    def compliant(self) -> int:
        """Completed and valid, people in their renewal window included (as the reports)."""
        return sum(
            1 for row in self.rows if row.state.up_to_date and row.state.status != Status.EXEMPT
        )

    @property
    def overdue(self) -> int:
        return self.count(Status.OVERDUE, Status.EXPIRED)

    @property
    def rate(self) -> float | None:
        """Compliant / (assigned - exempt), as the HR reports count it."""
        denominator = self.assigned - self.count(Status.EXEMPT)
        return 100 * self.compliant / denominator if denominator else None


def team_overview(*, manager: User, now: datetime | None = None) -> TeamOverview:
    """Everyone in the manager's tree and each of their open assignments, most urgent first,
    with lesson progress and quiz attempts: a fixed number of queries, whatever the size of the
    team (team_members, assignment_states_for_users, and the training_team_attempts hooks)."""
    now = now or timezone.now()
    members = team_members(manager=manager)
    states = assignment_states_for_users(user_ids=[m.person.pk for m in members], now=now)
    rows = [TeamRow(member=m, state=s) for m in members for s in states[m.person.pk]]
    assignments = {
        (r.state.assignment.user_id, r.state.assignment.module_id): r.state.assignment.pk
        for r in rows
    }
    attempts: dict = {}
    for hook in hooks.get_hooks("training_team_attempts"):
        attempts.update(hook(assignments=assignments, now=now))
    for row in rows:
        row.attempts = attempts.get((row.state.assignment.user_id, row.state.assignment.module_id))
    return TeamOverview(members=members, rows=sorted(rows, key=lambda r: r.urgency))


@dataclass
class CertificateCheck:
    """What the public verify page says: "valid", "expired" or "superseded"; until when it
    counts; the first later version of the module, if any; and whether a later completion of
    the module replaced it."""

    status: str
    valid_until: datetime | None
    newer_version: ModuleVersion | None = None
    replaced: bool = False


def certificate_check(
    *, completion: ModuleCompletion, now: datetime | None = None
) -> CertificateCheck:
    """Whether a certificate still counts: until its expiry, or until the update-by date of the
    first later "learners must retake" version if that is sooner; superseded once a later
    completion of the module replaced it or that update-by date has passed. Two queries."""
    now = now or timezone.now()
    newer_version = (
        ModuleVersion.objects.filter(
            module_id=completion.module_id, number__gt=completion.module_version
        )
        .order_by("number")
        .first()
    )
    update_ends = newer_version.update_by_ends_at if newer_version else None
    ends = [t for t in (completion.expires_at, update_ends) if t]
    check = CertificateCheck(
        status="valid", valid_until=min(ends, default=None), newer_version=newer_version
    )
    check.replaced = ModuleCompletion.objects.filter(
        user_id=completion.user_id,
        module_id=completion.module_id,
        completed_at__gt=completion.completed_at,
    ).exists()
    if completion.expires_at is not None and now >= completion.expires_at:
        check.status = "expired"
    elif check.replaced or (update_ends is not None and now >= update_ends):
        check.status = "superseded"
    return check


def certificate_status(*, completion: ModuleCompletion, now: datetime | None = None) -> str:
    """ "valid", "expired", or "superseded" (see certificate_check)."""
    return certificate_check(completion=completion, now=now).status


@dataclass
class ChainProblem:
    """One thing wrong with the chain: the record it concerns (None for the chain as a whole,
    such as records missing since a checkpoint) and what is wrong, for an auditor."""

    record_id: int | None
    what: str


@dataclass
class ChainReport:
    checked: int = 0
    legacy: int = 0
    problems: list[ChainProblem] = field(default_factory=list)


def completion_chain_problems(*, checkpoint: Checkpoint | None = None) -> ChainReport:
    """Walk the completion records in order, recomputing each HMAC (plain SHA-256 for legacy
    records) and each link, then compare the chain with `checkpoint`. Streams; flat memory.

    Finds: content changed (naming the field when the record's quiz pass disagrees), a record
    signed with a key that is not configured, a broken link (a record before it changed, was
    removed or inserted), a legacy record after keyed ones (forged or downgraded), and against
    the checkpoint: records removed since it, or the chain rewritten up to it."""
    report = ChainReport()
    problems = report.problems
    previous = ""
    keyed_seen = False
    up_to_checkpoint = 0
    checkpoint_record = None
    last_id = checkpoint.last_id if checkpoint else None
    for record in ModuleCompletion.objects.order_by("pk").iterator(chunk_size=2000):
        report.checked += 1
        if record.is_legacy:
            report.legacy += 1
            if keyed_seen or (checkpoint and (last_id is None or record.pk > last_id)):
                problems.append(
                    ChainProblem(
                        record.pk,
                        "unkeyed (legacy) record written after records were keyed: forged",
                    )
                )
        else:
            keyed_seen = True
        try:
            content_matches = record.record_hash == record.compute_hash()
        except RecordsKeyUnknown:
            problems.append(
                ChainProblem(
                    record.pk,
                    f"signed with unknown key {record.key_id!r} (not in AWARE_RECORDS_KEYS)",
                )
            )
        else:
            if not content_matches:
                problems.append(ChainProblem(record.pk, _content_changed(record)))
        if record.previous_hash != previous:
            problems.append(
                ChainProblem(
                    record.pk,
                    "hash chain broken: its previous_hash is not the hash of the record before "
                    "it (a record before it was changed, removed or inserted)",
                )
            )
        if last_id is not None and record.pk <= last_id:
            up_to_checkpoint += 1
            if record.pk == last_id:
                checkpoint_record = record
        previous = record.record_hash
    if checkpoint:
        problems.extend(
            _checkpoint_problems(
                checkpoint=checkpoint, up_to_checkpoint=up_to_checkpoint, record=checkpoint_record
            )
        )
    return report


def _content_changed(record: ModuleCompletion) -> str:
    """'content changed', naming the fields that now disagree with the record's quiz pass."""
    if record.quiz_pass_id is None:
        return "content changed: it no longer matches its hash"
    quiz_pass = QuizPass.objects.filter(pk=record.quiz_pass_id).first()
    if quiz_pass is None:
        return f"content changed (quiz_pass: {record.quiz_pass_id} does not exist)"
    differ = [
        f"{name}: {getattr(record, name)} on the record, {getattr(quiz_pass, name)} on quiz "
        f"pass {quiz_pass.pk}"
        for name in ("score", "attempt_id", "module_version", "user_id", "module_id")
        if getattr(record, name) != getattr(quiz_pass, name)
    ]
    if differ:
        return f"content changed ({'; '.join(differ)})"
    return "content changed: it no longer matches its hash"


def _checkpoint_problems(
    *, checkpoint: Checkpoint, up_to_checkpoint: int, record: ModuleCompletion | None
) -> list[ChainProblem]:
    problems = []
    described = (
        f"checkpoint of {checkpoint.taken_at} (count {checkpoint.count}, "
        f"last id {checkpoint.last_id})"
    )
    try:
        if not checkpoint.signature_valid():
            problems.append(
                ChainProblem(None, f"{described}: signature invalid (the checkpoint was altered)")
            )
    except RecordsKeyUnknown:
        problems.append(
            ChainProblem(None, f"{described}: signed with unknown key {checkpoint.key_id!r}")
        )
    if checkpoint.last_id is None:
        return problems
    if up_to_checkpoint != checkpoint.count:
        problems.append(
            ChainProblem(
                None,
                f"missing after {described}: {up_to_checkpoint} records up to id "
                f"{checkpoint.last_id}, {checkpoint.count - up_to_checkpoint} gone",
            )
        )
    if record is None:
        problems.append(
            ChainProblem(
                checkpoint.last_id,
                f"missing after {described}: the checkpoint's last record is gone",
            )
        )
    elif record.record_hash != checkpoint.last_hash:
        problems.append(
            ChainProblem(
                record.pk,
                f"hash differs from the {described}: the chain up to it was rewritten",
            )
        )
    return problems


LESSON_SOURCES_MAX_AGE = timedelta(days=365)


@dataclass
class ContentReview:
    """What editors must look at again: live modules past their review-by date, reporting routes
    not verified within settings.AWARE_ROUTE_VERIFY_MONTHS (never verified included), and live
    lessons whose sources were last checked over a year ago (or never)."""

    modules: list[ModulePage]
    routes: list[ReportingRoute]
    lessons: list[tuple[LessonPage, ModulePage]]
    verify_months: int

    def __bool__(self) -> bool:
        return bool(self.modules or self.routes or self.lessons)

    def for_owner(self, *, user: User) -> "ContentReview":
        """Only what is about the modules `user` owns (Wagtail's page owner), routes left out."""
        return ContentReview(
            modules=[m for m in self.modules if m.owner_id == user.pk],
            routes=[],
            lessons=[(lesson, m) for lesson, m in self.lessons if m.owner_id == user.pk],
            verify_months=self.verify_months,
        )


def months_before(day: date, months: int) -> date:
    """The same day `months` months earlier (the month's last day when it has fewer days)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    last_day = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last_day))


def content_review_list(*, today: date | None = None) -> ContentReview:
    """What is due for review today (see ContentReview). Three queries and the routes' cache."""
    today = today or timezone.localdate()
    months = settings.AWARE_ROUTE_VERIFY_MONTHS
    verified_since = months_before(today, months)
    modules = list(ModulePage.objects.live().filter(review_by__lt=today).order_by("review_by"))
    routes = [
        r for r in reporting_route_list() if not r.last_verified or r.last_verified < verified_since
    ]
    lessons = list(
        LessonPage.objects.live()
        .filter(Q(last_reviewed__isnull=True) | Q(last_reviewed__lt=today - LESSON_SOURCES_MAX_AGE))
        .order_by("path")
    )
    parent_paths = {lesson.path[: -Page.steplen] for lesson in lessons}
    parents = {m.path: m for m in ModulePage.objects.filter(path__in=parent_paths)}
    return ContentReview(
        modules=modules,
        routes=routes,
        lessons=[
            (lesson, parents[lesson.path[: -Page.steplen]])
            for lesson in lessons
            if lesson.path[: -Page.steplen] in parents
        ],
        verify_months=months,
    )


def module_versions_in_force() -> list[tuple[str, int, datetime | None]]:
    """Each live module's title, the version learners take now, and when that version was
    published (None for a module published before versions were recorded): one query."""
    return [
        (module.title, module.version, module.published)
        for module in ModulePage.objects.live()
        .annotate(published=Max("versions__published_at"))
        .order_by("title")
    ]


# TOOLBOX TALKS -------------------------------------------------------------------------------

TOOLBOX_POINTS = 5  # key points a slide shows at most


def toolbox_may_run(*, user: User) -> bool:
    """Line managers (anyone with an active report) and HR run toolbox talks."""
    return user.is_authenticated and (
        user.has_perm("training.view_hr_reports")
        or User.objects.filter(line_manager=user, is_active=True).exists()
    )


def toolbox_roster(*, manager: User) -> list[User]:
    """The team HR imported for a toolbox talk: the manager's active reports, by name."""
    return list(
        User.objects.filter(line_manager=manager, is_active=True).order_by("full_name", "pk")
    )


def toolbox_team_leads():
    """Everyone with an active report, by name: whose team HR may run a toolbox talk for."""
    leads = User.objects.filter(reports__is_active=True).values("pk")
    return User.objects.filter(is_active=True, pk__in=leads).order_by("full_name", "pk")


def toolbox_modules():
    """The modules a toolbox talk may cover: every live module that records completions."""
    return ModulePage.objects.live().filter(public=False).order_by("title")


TOOLBOX_SESSION_HOURS = 8  # an unclosed talk stops taking answers after a working day


def toolbox_session_is_open(*, session, now: datetime) -> bool:
    return session.closed_at is None and now < session.started_at + timedelta(
        hours=TOOLBOX_SESSION_HOURS
    )


def toolbox_check_refusal(*, session, attendee: User, now: datetime) -> str:
    """Why this person's answers cannot be taken at this talk now ("" when they can): the talk
    has closed, they are not ticked present from the team, or they have answered already."""
    if not toolbox_session_is_open(session=session, now=now):
        return "This toolbox talk has closed, so answers are no longer taken. Nothing was recorded."
    if not session.present.filter(attendee=attendee).exists():
        return (
            f"{attendee.full_name} is not ticked present at this toolbox talk, so their answers "
            "cannot be recorded. Ask the supervisor to tick them present. Nothing was recorded."
        )
    if session.attendances.filter(attendee=attendee).exists():
        return f"{attendee.full_name} has already answered. Nothing more was recorded."
    return ""


@dataclass
class ToolboxSlide:
    title: str
    summary: str
    paragraphs: list[str]
    points: list[str]


@dataclass
class ToolboxScenario:
    lesson_title: str
    situation: str
    question: str
    choices: list[dict]


_PARAGRAPH = re.compile(r"<p\b[^>]*>(.*?)</p>", re.DOTALL)
_LIST_ITEM = re.compile(r"<li\b[^>]*>(.*?)</li>", re.DOTALL)


def toolbox_talk_content(*, module: ModulePage) -> tuple[list[ToolboxSlide], list[ToolboxScenario]]:
    """A module's talk version: a slide per live lesson (its title, summary, the first paragraph
    of its text and the first list's key points, or a warning-signs block's) and every
    "what would you do?" scenario of its lessons, to discuss. One query."""
    slides, scenarios = [], []
    for lesson in LessonPage.objects.child_of(module).live().order_by("path"):
        paragraphs: list[str] = []
        points: list[str] = []
        for block in lesson.body:
            if block.block_type == "rich_text":
                source = str(block.value.source if hasattr(block.value, "source") else block.value)
                if not paragraphs:
                    paragraphs = [_plain(p) for p in _PARAGRAPH.findall(source)[:1]]
                if not points:
                    points = [_plain(li) for li in _LIST_ITEM.findall(source)]
            elif block.block_type == "warning_signs" and not points:
                points = [str(sign) for sign in block.value["signs"]]
            elif block.block_type == "scenario":
                scenarios.append(
                    ToolboxScenario(
                        lesson_title=lesson.title,
                        situation=block.value["situation"],
                        question=block.value["question"],
                        choices=[
                            {"text": c["text"], "feedback": c["feedback"], "best": c["is_best"]}
                            for c in block.value["choices"]
                        ],
                    )
                )
        slides.append(
            ToolboxSlide(
                title=lesson.title,
                summary=lesson.summary,
                paragraphs=[p for p in paragraphs if p],
                points=[p for p in points if p][:TOOLBOX_POINTS],
            )
        )
    return slides, scenarios


def _plain(html: str) -> str:
    return " ".join(strip_tags(html).split())
