"""Writes for lesson progress: a learner opening and completing lessons."""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from training.models import Assignment, LessonPage, LessonProgress, ModuleCompletion, ModulePage
from training.selectors import page_is_open_to
from training.services.completion import module_completion_check


class LessonUnavailable(Exception):
    """The lesson is not live, or its module is not open to this learner."""


def lesson_check_available(*, user: User, lesson: LessonPage) -> ModulePage:
    """Raise LessonUnavailable unless the learner may record progress on the lesson."""
    module = ModulePage.objects.parent_of(lesson).first() or lesson.get_parent().specific
    if not lesson.live or not module.live or not isinstance(module, ModulePage):
        raise LessonUnavailable("This lesson is not published, so progress cannot be recorded.")
    if not page_is_open_to(user=user, page=lesson):
        raise LessonUnavailable("This module is not open to you, so nothing was recorded.")
    return module


def lesson_open(*, user: User, lesson: LessonPage, now: datetime | None = None) -> LessonProgress:
    """Record that the learner opened the lesson: one row per learner and lesson, ever. Opening
    it again reads that row and writes nothing (no transaction either): one query."""
    existing = LessonProgress.objects.filter(user=user, lesson=lesson).first()
    if existing is not None:
        return existing
    return _lesson_open_first(user=user, lesson=lesson, now=now)


@transaction.atomic
def _lesson_open_first(*, user: User, lesson: LessonPage, now: datetime | None) -> LessonProgress:
    module = lesson_check_available(user=user, lesson=lesson)
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
    """Mark the lesson complete for the learner. Repeating it in the same module version changes
    nothing; completing it again after a new version is published records the new time and
    version (a delta path counts a changed lesson only when completed after its publish), and so
    does completing a refresher lesson again after a later completion of the module (each
    renewal reads it again)."""
    now = now or timezone.now()
    lesson_check_available(user=user, lesson=lesson)
    progress = lesson_open(user=user, lesson=lesson, now=now)
    version = progress.module.version
    again = (
        lesson.refresher
        and progress.completed_at is not None
        and ModuleCompletion.objects.filter(
            user=user, module=progress.module, completed_at__gt=progress.completed_at
        ).exists()
    )
    if progress.completed_at is None or progress.module_version < version or again:
        # Only if no other request recorded it meanwhile (a double click, two tabs).
        LessonProgress.objects.filter(
            pk=progress.pk,
            module_version=progress.module_version,
            completed_at=progress.completed_at,
        ).update(completed_at=now, module_version=version)
        progress.refresh_from_db()
        module_completion_check(user=user, module=progress.module, now=now)
    return progress
