"""Writes for training: lesson progress, completions, assignments and module versions."""

import calendar
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Min
from django.utils import timezone
from wagtail.models import Revision

from accounts.models import PersonType, User
from training.models import (
    Assignment,
    AssignmentRule,
    LessonPage,
    LessonProgress,
    ModuleCompletion,
    ModulePage,
    ModuleVersion,
    QuizPass,
)
from training.report_services import report_counts_refresh_soon
from training.selectors import page_is_open_to

COMPLETION_CHAIN_LOCK = 7_242_001  # PostgreSQL advisory lock id for appending completions


class LessonUnavailable(Exception):
    """The lesson is not live, or its module is not open to this learner."""


def lesson_check_available(*, user: User, lesson: LessonPage) -> ModulePage:
    """Raise LessonUnavailable unless the learner may record progress on the lesson."""
    module = lesson.get_parent().specific
    if not lesson.live or not module.live or not isinstance(module, ModulePage):
        raise LessonUnavailable("This lesson is not published, so progress cannot be recorded.")
    if not page_is_open_to(user=user, page=lesson):
        raise LessonUnavailable("This module is not open to you, so nothing was recorded.")
    return module


@transaction.atomic
def lesson_open(*, user: User, lesson: LessonPage, now: datetime | None = None) -> LessonProgress:
    """Record that the learner opened the lesson: one row per learner and lesson, ever."""
    module = lesson_check_available(user=user, lesson=lesson)
    existing = LessonProgress.objects.filter(user=user, lesson=lesson).first()
    if existing is not None:
        return existing
    now = now or timezone.now()
    Assignment.objects.open().filter(user=user, module=module, started_at__isnull=True).update(
        started_at=now
    )
    try:
        with transaction.atomic():
            return LessonProgress.objects.create(
                user=user,
                lesson=lesson,
                module=module,
                module_version=module.version,
                started_at=now,
            )
    except IntegrityError:
        # Another request created the row first (a double click, two tabs).
        return LessonProgress.objects.get(user=user, lesson=lesson)


@transaction.atomic
def lesson_complete(
    *, user: User, lesson: LessonPage, now: datetime | None = None
) -> LessonProgress:
    """Mark the lesson complete for the learner. Repeating it changes nothing."""
    now = now or timezone.now()
    progress = lesson_open(user=user, lesson=lesson, now=now)
    if progress.completed_at is None:
        LessonProgress.objects.filter(pk=progress.pk, completed_at__isnull=True).update(
            completed_at=now, module_version=progress.module.version
        )
        progress.refresh_from_db()
        module_completion_check(user=user, module=progress.module, now=now)
    return progress


@transaction.atomic
def module_version_publish(
    *, module: ModulePage, revision: Revision | None, user: User | None = None
) -> ModuleVersion | None:
    """Record a module's version when it is published.

    The first publish records version 1. Later, only a publish marked "learners must retake"
    raises the version; other edits keep it. Past progress and completions are not touched.
    """
    latest = module.versions.aggregate(n=Max("number"))["n"]
    if latest is not None and not module.learners_must_retake:
        return None
    number = 1 if latest is None else latest + 1
    version = ModuleVersion.objects.create(
        module=module,
        number=number,
        change_note=module.change_note,
        revision=revision,
        published_at=timezone.now(),
        published_by=user,
    )
    ModulePage.objects.filter(pk=module.pk).update(version=number, learners_must_retake=False)
    if revision is not None:
        # The next draft starts from this revision: it must not carry the flag forward.
        revision.content.update(version=number, learners_must_retake=False)
        revision.save(update_fields=["content"])
    module.version, module.learners_must_retake = number, False
    if number > 1:
        assignments_supersede(module=module, version=number)
    return version


@transaction.atomic
def quiz_pass_record(
    *,
    user: User,
    module: ModulePage,
    score: int,
    attempt_id: int,
    module_version: int,
    now: datetime | None = None,
) -> tuple[QuizPass, ModuleCompletion | None]:
    """Record a passed assessment, then complete the module if its lessons are done too.

    Reporting the same attempt again returns the first record and creates nothing.
    """
    quiz_pass, _ = QuizPass.objects.get_or_create(
        attempt_id=attempt_id,
        defaults={
            "user": user,
            "module": module,
            "module_version": module_version,
            "score": score,
            "passed_at": now or timezone.now(),
        },
    )
    completion = module_completion_check(user=user, module=module, now=now)
    return quiz_pass, completion


def module_completion_check(
    *, user: User, module: ModulePage, now: datetime | None = None
) -> ModuleCompletion | None:
    """Complete the module once every live lesson is done and the current version's quiz passed.

    Creates at most one completion per pass; returns the existing or new completion, or None.
    """
    module = ModulePage.objects.select_for_update().get(pk=module.pk)
    lesson_ids = set(LessonPage.objects.child_of(module).live().values_list("pk", flat=True))
    done_ids = set(
        LessonProgress.objects.filter(
            user=user, lesson_id__in=lesson_ids, completed_at__isnull=False
        ).values_list("lesson_id", flat=True)
    )
    if not lesson_ids or done_ids != lesson_ids:
        return None
    quiz_pass = (
        QuizPass.objects.filter(user=user, module=module, module_version=module.version)
        .order_by("-passed_at")
        .first()
    )
    if quiz_pass is None:
        return None
    existing = ModuleCompletion.objects.filter(quiz_pass=quiz_pass).first()
    if existing is not None:
        return existing
    assignment = Assignment.objects.filter(user=user, module=module, closed_at__isnull=True).first()
    return completion_record_create(
        user=user,
        module=module,
        module_version=quiz_pass.module_version,
        score=quiz_pass.score,
        attempt_id=quiz_pass.attempt_id,
        quiz_pass=quiz_pass,
        completed_at=now or timezone.now(),
        valid_months=assignment.valid_months if assignment else None,
    )


@transaction.atomic
def completion_record_create(
    *,
    user: User,
    module: ModulePage,
    module_version: int,
    score: int,
    completed_at: datetime,
    attempt_id: int | None = None,
    quiz_pass: QuizPass | None = None,
    valid_months: int | None = None,
    expires_at: datetime | None = None,
    source: str = "aware",
) -> ModuleCompletion:
    """Append a completion record to the evidence chain. Nothing else is written."""
    if connection.vendor == "postgresql":
        # One writer at a time, so each record's previous_hash is the chain's real head.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [COMPLETION_CHAIN_LOCK])
    head = ModuleCompletion.objects.order_by("-pk").values_list("record_hash", flat=True).first()
    record = ModuleCompletion(
        user=user,
        module=module,
        module_version=module_version,
        quiz_pass=quiz_pass,
        attempt_id=attempt_id,
        score=score,
        completed_at=completed_at,
        expires_at=expires_at or (add_months(completed_at, valid_months) if valid_months else None),
        verification_code=secrets.token_hex(5).upper(),
        source=source,
        previous_hash=head or "",
    )
    record.record_hash = record.compute_hash()
    record.save()
    for assignment in Assignment.objects.open().filter(
        user=user, module=module, required_version__lte=module_version
    ):
        if assignment.completed_at is None or assignment.completed_at < record.completed_at:
            assignment_completion_apply(assignment=assignment, completion=record)
            assignment.save(update_fields=["completed_at", "valid_until", "recertify_from"])
    report_counts_refresh_soon()
    return record


def assignment_completion_apply(
    *, assignment: Assignment, completion: ModuleCompletion | None
) -> None:
    """Copy what status needs from the completion onto the assignment (not saved)."""
    if completion is None:
        assignment.completed_at = assignment.valid_until = assignment.recertify_from = None
        return
    assignment.completed_at = completion.completed_at
    assignment.valid_until = completion.expires_at
    assignment.recertify_from = (
        completion.expires_at - timedelta(days=assignment.reopen_days)
        if completion.expires_at
        else None
    )


def add_months(moment: datetime, months: int) -> datetime:
    """The same day-of-month `months` later (the last day when the month is shorter)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


@dataclass
class SyncResult:
    created: int = 0
    closed: int = 0


def assignment_due_on(*, rule: AssignmentRule, person: User, today: date) -> date:
    """Officers: N days after they start or are assigned, whichever is later. Councillors: N weeks
    after their election, or N days from today if that date has already passed."""
    if person.person_type == PersonType.COUNCILLOR and person.start_date:
        after_election = person.start_date + timedelta(weeks=rule.councillor_due_weeks)
        if after_election >= today:
            return after_election
    start = max(person.start_date or today, today)
    return start + timedelta(days=rule.due_days)


@transaction.atomic
def assignments_sync(
    *, user_ids: list[int] | None = None, now: datetime | None = None
) -> SyncResult:
    """Make open assignments match the active rules.

    Creates missing assignments, closes rule-made ones whose person left every matching audience
    or was deactivated (kept as history), and never opens a second assignment for one person and
    module (a database constraint backs this). Limit it to some people with `user_ids`.
    Queries: a few per rule, not per person. Sends no email.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    result = SyncResult()
    rules = list(
        AssignmentRule.objects.filter(active=True, module__live=True)
        .select_related("audience", "module")
        .prefetch_related("audience__departments")
    )
    people = User.objects.all() if user_ids is None else User.objects.filter(pk__in=user_ids)
    wanted: dict[tuple[int, int], AssignmentRule] = {}
    persons: dict[int, User] = {}
    for rule in rules:
        for person in (
            people.filter(rule.audience.member_filter())
            .distinct()
            .only("pk", "person_type", "start_date")
        ):
            key = (person.pk, rule.module_id)
            current = wanted.get(key)
            if current is None or (rule.mandatory and not current.mandatory):
                wanted[key] = rule
            persons[person.pk] = person
    open_assignments = Assignment.objects.filter(closed_at__isnull=True)
    if user_ids is not None:
        open_assignments = open_assignments.filter(user_id__in=user_ids)
    existing = {
        (a.user_id, a.module_id): a
        for a in open_assignments.only(
            "pk", "user_id", "module_id", "rule_id", "user__is_active"
        ).select_related("user")
    }
    to_close = [a for key, a in existing.items() if key not in wanted and a.rule_id is not None]
    for assignment in to_close:
        assignment.closed_at = now
        assignment.closed_reason = (
            Assignment.Closed.LEFT_AUDIENCE
            if assignment.user.is_active
            else Assignment.Closed.DEACTIVATED
        )
    Assignment.objects.bulk_update(to_close, ["closed_at", "closed_reason"], batch_size=1000)
    result.closed = len(to_close)
    new = [
        Assignment(
            user_id=user_id,
            module_id=module_id,
            rule=rule,
            mandatory=rule.mandatory,
            required_version=rule.module.version,
            assigned_at=now,
            due_on=assignment_due_on(rule=rule, person=persons[user_id], today=today),
            valid_months=rule.valid_months,
            reopen_days=rule.reopen_days,
        )
        for (user_id, module_id), rule in wanted.items()
        if (user_id, module_id) not in existing
    ]
    assignments_fill_from_records(assignments=new)
    Assignment.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
    result.created = len(new)
    if result.created or result.closed:
        report_counts_refresh_soon()
    return result


def assignments_fill_from_records(*, assignments: list[Assignment]) -> None:
    """Set started and completion fields on new (unsaved) assignments from existing records, for
    people who began or finished the module before it was assigned: two queries."""
    if not assignments:
        return
    user_ids = {a.user_id for a in assignments}
    module_ids = {a.module_id for a in assignments}
    started = {
        (row["user_id"], row["module_id"]): row["first"]
        for row in LessonProgress.objects.filter(user_id__in=user_ids, module_id__in=module_ids)
        .values("user_id", "module_id")
        .annotate(first=Min("started_at"))
    }
    completions: dict[tuple[int, int], list[ModuleCompletion]] = {}
    for completion in ModuleCompletion.objects.filter(
        user_id__in=user_ids, module_id__in=module_ids
    ).only("user_id", "module_id", "module_version", "completed_at", "expires_at"):
        completions.setdefault((completion.user_id, completion.module_id), []).append(completion)
    for assignment in assignments:
        key = (assignment.user_id, assignment.module_id)
        assignment.started_at = started.get(key)
        counting = [
            c for c in completions.get(key, []) if c.module_version >= assignment.required_version
        ]
        latest = max(counting, key=lambda c: c.completed_at, default=None)
        assignment_completion_apply(assignment=assignment, completion=latest)


@transaction.atomic
def assignment_exempt(
    *, assignment: Assignment, reason: str, by: User, now: datetime | None = None
) -> Assignment:
    """Exempt a person from an assignment, recording who did it, when and why. No email."""
    if not reason.strip():
        raise ValueError("Give a reason for the exemption.")
    assignment.exempt_reason = reason.strip()
    assignment.exempted_by = by
    assignment.exempted_at = now or timezone.now()
    assignment.save(update_fields=["exempt_reason", "exempted_by", "exempted_at"])
    report_counts_refresh_soon()
    return assignment


def assignments_supersede(*, module: ModulePage, version: int, now: datetime | None = None) -> int:
    """After a "learners must retake" publish: everyone with an open assignment now needs the new
    version. Those who completed an earlier one keep that record (and certificate) until it expires
    and get a new assignment, due after the rule's retake period; the old one is closed as history.
    Returns how many new assignments were opened. A few queries, however many people."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    behind = Assignment.objects.open().filter(module=module, required_version__lt=version)
    completed_users = ModuleCompletion.objects.filter(
        module=module, module_version__lt=version
    ).values("user_id")
    behind.exclude(user_id__in=completed_users).update(required_version=version)
    superseded = list(behind.filter(user_id__in=completed_users).select_related("rule"))
    for assignment in superseded:
        assignment.closed_at, assignment.closed_reason = now, Assignment.Closed.SUPERSEDED
    # Close first: one open assignment per person and module is a database constraint.
    Assignment.objects.bulk_update(superseded, ["closed_at", "closed_reason"], batch_size=1000)
    Assignment.objects.bulk_create(
        [
            Assignment(
                user_id=old.user_id,
                module=module,
                rule=old.rule,
                mandatory=old.mandatory,
                required_version=version,
                assigned_at=now,
                due_on=today + timedelta(days=old.rule.retake_due_days if old.rule else 30),
                valid_months=old.valid_months,
                reopen_days=old.reopen_days,
                started_at=old.started_at,
            )
            for old in superseded
        ],
        batch_size=1000,
    )
    if superseded:
        report_counts_refresh_soon()
    return len(superseded)


@transaction.atomic
def historic_completions_import(*, text: str, import_valid_rows: bool = False) -> tuple[int, list]:
    """Append completions from a previous LMS to the evidence chain (source "import").

    With any bad row nothing is written unless `import_valid_rows`. Returns (imported, errors).
    """
    from training.importers import historic_completions_plan

    plan = historic_completions_plan(text=text)
    if plan.errors and not import_valid_rows:
        return 0, plan.errors
    for row in plan.rows:
        completion_record_create(
            user=row.user,
            module=row.module,
            module_version=row.module_version,
            score=row.score,
            completed_at=row.completed_at,
            source="import",
            expires_at=row.expires_at,
        )
    return len(plan.rows), plan.errors
