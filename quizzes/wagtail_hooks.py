"""Wagtail wiring for quizzes: the question bank, quizzes and extra time in the admin, and the
assessment step that training's module page shows."""

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from wagtail import hooks
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from quizzes.models import AttemptQuestion, ExtraTime, Question, Quiz
from quizzes.selectors import quiz_for_module, quiz_status_for_user


class QuestionViewSet(SnippetViewSet):
    model = Question
    icon = "help"
    menu_label = "Question bank"
    list_display = ["__str__", "kind", "module", "retired"]
    list_filter = ["kind", "retired", "module"]
    search_fields = ["text", "scenario"]
    list_per_page = 50


class QuizViewSet(SnippetViewSet):
    model = Quiz
    icon = "tasks"
    menu_label = "Module quizzes"
    list_display = ["__str__", "pass_mark", "questions_to_draw", "attempts_allowed"]


class ExtraTimeViewSet(SnippetViewSet):
    model = ExtraTime
    icon = "time"
    menu_label = "Extra time"
    list_display = ["user", "percent", "updated_at"]
    search_fields = ["user__full_name", "user__email"]


class QuizzesGroup(SnippetViewSetGroup):
    menu_label = "Quizzes"
    menu_icon = "help"
    menu_order = 310
    items = (QuestionViewSet, QuizViewSet, ExtraTimeViewSet)


register_snippet(QuizzesGroup)


@hooks.register("before_delete_snippet")
def refuse_deleting_served_questions(request, instances):
    """A question learners have been served is evidence: retire it instead of deleting it."""
    served = [i for i in instances if isinstance(i, Question)]
    if served and AttemptQuestion.objects.filter(question__in=served).exists():
        messages.error(
            request,
            "Learners have answered this question, so it cannot be deleted. Tick “retired” "
            "instead: it will not be drawn again and past attempts keep it.",
        )
        return redirect(reverse("wagtailsnippets_quizzes_question:list"))
    return None


@hooks.register("training_module_assessment")
def module_assessment(request, module, progress) -> dict | None:
    """The module page's assessment step: rules, where the learner stands, and what to do next."""
    quiz = quiz_for_module(module=module)
    if quiz is None:
        return None
    quiz.module = module
    status = quiz_status_for_user(
        user=request.user,
        quiz=quiz,
        lessons_done=progress.all_done,
        lessons_left=progress.total - progress.done,
        now=timezone.now(),
    )
    text = " ".join(part for part in [status.rules, status.state, status.reason] if part)
    actionable = status.open_attempt is not None or status.can_start
    return {
        "title": "Assessment",
        "status": text,
        "url": reverse("quizzes:start", kwargs={"quiz_id": quiz.pk}) if actionable else "",
        "action": status.action,
    }
