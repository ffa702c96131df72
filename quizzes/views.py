"""Learners' quiz pages: a start page, the questions of one attempt, and its result; and a line
manager's "give another attempt" (thin views)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from cms.offline import offline_sync_requested
from quizzes.forms import AttemptForm
from quizzes.models import AttemptStatus, Quiz
from quizzes.selectors import (
    attempt_for_user,
    attempt_is_overdue,
    attempt_items,
    attempt_result,
    extra_time_percent,
    local_time,
    quiz_for_module,
    quiz_is_open_to,
    quiz_status_for_user,
)
from quizzes.services import (
    AnswersRejected,
    AttemptNotAllowed,
    GrantRefused,
    QuizUnavailable,
    attempt_answers_save,
    attempt_expire,
    attempt_grant,
    attempt_start,
    attempt_submit,
)
from training.selectors import (
    PARTNER_NOT_ASSIGNED,
    module_open_to_partner,
    module_progress_for_user,
    team_assignment,
)


def _open_quiz(request, quiz_id: int) -> Quiz:
    quiz = get_object_or_404(Quiz.objects.select_related("module"), pk=quiz_id)
    if not quiz.module.live:
        raise Http404("This assessment's module is not published.")
    if not quiz_is_open_to(user=request.user, quiz=quiz):
        raise PermissionDenied("This module is only open to some roles. Nothing was recorded.")
    if not module_open_to_partner(user=request.user, module=quiz.module):
        raise PermissionDenied(PARTNER_NOT_ASSIGNED)
    return quiz


@login_required
def quiz_start_page(request, quiz_id: int):
    """What the assessment involves, and the button that starts (or continues) an attempt."""
    quiz = _open_quiz(request, quiz_id)
    progress = module_progress_for_user(user=request.user, module=quiz.module)
    status = quiz_status_for_user(
        user=request.user, quiz=quiz, progress=progress, now=timezone.now()
    )
    return render(request, "quizzes/quiz_start.html", {"quiz": quiz, "status": status})


@login_required
@require_POST
def attempt_start_view(request, quiz_id: int):
    quiz = _open_quiz(request, quiz_id)
    try:
        attempt = attempt_start(user=request.user, quiz=quiz)
    except (AttemptNotAllowed, QuizUnavailable) as exc:
        messages.error(request, str(exc))
        return redirect("quizzes:start", quiz_id=quiz.pk)
    return redirect("quizzes:attempt", attempt_id=attempt.pk)


def _synced(attempt, message: str, *, status: int = 200) -> JsonResponse:
    """The answer to answers sent from the phone's queue when the signal returned: what became
    of them, and the page to show next (the result once the attempt is closed)."""
    name = "quizzes:attempt" if attempt.is_open else "quizzes:result"
    url = reverse(name, kwargs={"attempt_id": attempt.pk})
    return JsonResponse({"message": message, "url": url}, status=status)


def _synced_message(attempt) -> str:
    if attempt.is_open:
        return "Your answers are saved. Submit them when ready."
    if attempt.status == AttemptStatus.EXPIRED:
        return (
            "Your answers arrived after the time limit, so they were not marked. The result "
            "counts only the answers saved in time."
        )
    return "Your answers were sent and marked."


@login_required
def attempt_page(request, attempt_id: int):
    """GET shows the attempt's fixed questions; POST saves them for later or submits them.
    Answers kept on the phone while offline arrive as the same POST, sent from its queue
    (answered in JSON), and are judged against the attempt's deadline like any other."""
    sync = request.method == "POST" and offline_sync_requested(request)
    attempt = attempt_for_user(user=request.user, attempt_id=attempt_id)
    if not attempt.is_open:
        if sync:
            return _synced(attempt, "These answers had already been sent. Nothing was changed.")
        return redirect("quizzes:result", attempt_id=attempt.pk)
    if not quiz_is_open_to(user=request.user, quiz=attempt.quiz):
        raise PermissionDenied(
            "This assessment is not open: its module is not published. Nothing was recorded."
        )
    if attempt_is_overdue(attempt=attempt, now=timezone.now()):
        attempt_expire(attempt=attempt)
        if sync:
            return _synced(attempt, _synced_message(attempt))
        return redirect("quizzes:result", attempt_id=attempt.pk)
    items = attempt_items(attempt=attempt)
    status = 200
    if request.method == "POST":
        submit = request.POST.get("action") != "save"
        form = AttemptForm(request.POST, items=items, submit=submit)
        if form.is_valid():
            service = attempt_submit if submit else attempt_answers_save
            try:
                attempt = service(attempt=attempt, answers=form.answers())
            except QuizUnavailable as exc:
                if sync:
                    return _synced(attempt, str(exc), status=403)
                raise PermissionDenied(str(exc)) from exc
            except AnswersRejected as exc:
                form.add_error(None, str(exc))
            else:
                if sync:
                    return _synced(attempt, _synced_message(attempt))
                if attempt.is_open:
                    messages.success(request, "Your answers are saved. Submit them when ready.")
                    return redirect("quizzes:attempt", attempt_id=attempt.pk)
                return redirect("quizzes:result", attempt_id=attempt.pk)
        status = 400 if form.tampered else 200
        if sync:
            problems = " ".join(str(e) for errors in form.errors.values() for e in errors)
            return _synced(
                attempt, f"Your answers were not sent. {problems} Nothing was recorded.", status=400
            )
    else:
        form = AttemptForm(items=items)
    context = {
        "attempt": attempt,
        "quiz": attempt.quiz,
        "form": form,
        "deadline": local_time(attempt.deadline) if attempt.deadline else "",
        "seconds_left": (
            max(0, int((attempt.deadline - timezone.now()).total_seconds()))
            if attempt.deadline
            else None
        ),
        "extra_percent": extra_time_percent(user=request.user) if attempt.deadline else 0,
    }
    return render(request, "quizzes/attempt.html", context, status=status)


@login_required
def attempt_result_page(request, attempt_id: int):
    attempt = attempt_for_user(user=request.user, attempt_id=attempt_id)
    if attempt.is_open:
        return redirect("quizzes:attempt", attempt_id=attempt.pk)
    quiz = attempt.quiz
    status = None
    if quiz_is_open_to(user=request.user, quiz=quiz):
        progress = module_progress_for_user(user=request.user, module=quiz.module)
        status = quiz_status_for_user(
            user=request.user, quiz=quiz, progress=progress, now=timezone.now()
        )
    context = {
        "attempt": attempt,
        "quiz": quiz,
        "status": status,
        "result": attempt_result(attempt=attempt),
        "expired": attempt.status == AttemptStatus.EXPIRED,
    }
    return render(request, "quizzes/result.html", context)


@login_required
def team_attempt_grant(request, assignment_id: int):
    """A line manager gives a report who is locked out of the module's quiz one more attempt
    (GET asks, POST does it: attempt_grant). Only for assignments in the manager's tree."""
    assignment = team_assignment(manager=request.user, assignment_id=assignment_id)
    quiz = quiz_for_module(module=assignment.module) if assignment else None
    if quiz is None:
        raise Http404("That training is not for anyone in your team, or it has no quiz.")
    quiz.module = assignment.module
    if request.method == "POST":
        try:
            attempt_grant(user=assignment.user, quiz=quiz, by=request.user)
        except GrantRefused as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                f"{assignment.user.full_name} can now make one more attempt at the "
                f"“{assignment.module.title}” assessment.",
            )
        return redirect("training:my_team")
    return render(request, "quizzes/team_attempt_grant.html", {"assignment": assignment})
