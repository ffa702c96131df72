"""Learner-facing request handling that Wagtail pages hand over to (thin: one service each)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect

from training.models import LessonPage
from training.selectors import module_progress_for_user
from training.services import LessonUnavailable, lesson_complete, lesson_open


def lesson_serve(request, *, lesson: LessonPage, render):
    """GET records that the lesson was opened; POST marks it complete and moves on."""
    try:
        if request.method == "POST":
            lesson_complete(user=request.user, lesson=lesson)
        else:
            lesson_open(user=request.user, lesson=lesson)
    except LessonUnavailable as exc:
        raise PermissionDenied(str(exc)) from exc
    if request.method != "POST":
        return render(request)
    module = lesson.get_parent().specific
    _, following = module_progress_for_user(user=request.user, module=module).neighbours_of(lesson)
    if following is not None:
        messages.success(request, f"“{lesson.title}” is complete. Next: {following.title}.")
        return redirect(following.get_url(request))
    messages.success(request, f"“{lesson.title}” is complete. You have finished every lesson.")
    return redirect(module.get_url(request))
