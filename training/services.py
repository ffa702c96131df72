"""Writes for training: lesson progress and module versions."""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from wagtail.models import Revision

from accounts.models import User
from training.models import (
    LessonPage,
    LessonProgress,
    ModuleCompletion,
    ModulePage,
    ModuleVersion,
    QuizPass,
)
from training.selectors import page_is_open_to


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
    try:
        with transaction.atomic():
            return LessonProgress.objects.create(
                user=user,
                lesson=lesson,
                module=module,
                module_version=module.version,
                started_at=now or timezone.now(),
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
    return ModuleCompletion.objects.create(
        user=user,
        module=module,
        module_version=quiz_pass.module_version,
        quiz_pass=quiz_pass,
        score=quiz_pass.score,
        completed_at=now or timezone.now(),
    )
