"""Writes to the evidence: quiz passes and the completion chain (every append takes its lock)."""

import calendar
import secrets
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from training.locks import Lock, advisory_lock
from training.models import (
    Assignment,
    LessonPage,
    LessonProgress,
    ModuleCompletion,
    ModulePage,
    QuizPass,
)
from training.services.assignments import assignment_completion_apply
from training.tasks import report_counts_refresh_soon


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
    # One writer at a time, so each record's previous_hash is the chain's real head.
    advisory_lock(Lock.COMPLETION_CHAIN)
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


def add_months(moment: datetime, months: int) -> datetime:
    """The same day-of-month `months` later (the last day when the month is shorter)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


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
