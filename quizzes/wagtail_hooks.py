"""Wagtail wiring for quizzes: the question bank, quizzes and extra time in the admin, quiz
insights in the reports, and what training's module page and compliance overview show of quizzes."""

import django_filters
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.views.generic import FormView, TemplateView
from wagtail import hooks
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.reports import ReportView
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from accounts.personal_data import PERSONAL_DATA_ERASE_HOOK, PERSONAL_DATA_HOOK
from cms.choosers import ListingPermissionChooserViewSet
from cms.menus import PermittedMenuItem
from quizzes.bank import BankFileError, rows_from_file, rows_to_csv, rows_to_json
from quizzes.models import AttemptQuestion, ExtraTime, Question, Quiz
from quizzes.privacy import quizzes_personal_data, quizzes_personal_data_erase
from quizzes.selectors import (
    bank_check_all,
    delta_question_count,
    is_flagged,
    percent_correct,
    question_bank_rows,
    question_choice_counts,
    question_statistics,
    quiz_for_module_shown,
    quiz_status_for_user,
    team_attempts,
    toolbox_check_draw,
)
from quizzes.services import question_bank_import
from training.models import ModulePage


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
    chooser_viewset_class = ListingPermissionChooserViewSet
    menu_label = "Extra time"
    list_display = ["user", "percent", "updated_at"]
    search_fields = ["user__full_name", "user__email"]


class QuizzesGroup(SnippetViewSetGroup):
    menu_label = "Quizzes"
    menu_icon = "help"
    menu_order = 310
    items = (QuestionViewSet, QuizViewSet, ExtraTimeViewSet)

    def get_submenu_items(self):
        return [
            *super().get_submenu_items(),
            PermittedMenuItem(
                "Item statistics",
                reverse("quizzes_statistics"),
                icon_name="table",
                order=10,
                permissions=("quizzes.view_question",),
            ),
            PermittedMenuItem(
                "Bank check",
                reverse("quizzes_bank_check"),
                icon_name="tick-inverse",
                order=12,
                permissions=("quizzes.view_question",),
            ),
            PermittedMenuItem(
                "Import or export",
                reverse("quizzes_bank"),
                icon_name="download",
                order=11,
                permissions=("quizzes.change_question",),
            ),
        ]


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


# Quiz insights (the item statistics): HR holds "statistics", editors reach them through the bank.
QUIZ_INSIGHTS_PERMISSIONS = (
    "quizzes.statistics_question",
    "quizzes.view_question",
    "quizzes.change_question",
)


@hooks.register("register_reports_menu_item")
def quiz_insights_menu_item():
    return PermittedMenuItem(
        "Quiz insights",
        reverse("quizzes_statistics"),
        icon_name="help",
        order=104,
        permissions=QUIZ_INSIGHTS_PERMISSIONS,
    )


@hooks.register("training_report_overview_links")
def quiz_insights_overview_link(request, modules) -> dict | None:
    """The compliance overview links to the item statistics, for all questions and per module."""
    if not any(request.user.has_perm(p) for p in QUIZ_INSIGHTS_PERMISSIONS):
        return None
    url = reverse("quizzes_statistics")
    return {
        "label": "Quiz insights",
        "url": url,
        "description": "item statistics for each module's questions",
        "per_module": [(title, f"{url}?module={module_id}") for module_id, title in modules],
    }


@hooks.register("training_module_assessment")
def module_assessment(request, module, progress) -> dict | None:
    """The module page's assessment step: rules, where the learner stands, and what to do next."""
    quiz = quiz_for_module_shown(module=module)
    if quiz is None:
        return None
    delta = progress.delta
    if delta is not None and not delta.questions:
        return None  # no questions to ask: reading the delta path's lessons completes it
    quiz.module = module
    status = quiz_status_for_user(
        user=request.user, quiz=quiz, progress=progress, now=timezone.now()
    )
    short = ""
    if delta is not None:
        questions = f"{delta.questions} question{'' if delta.questions == 1 else 's'}"
        short = (
            f"A fresh set for your renewal: {questions} you have not been asked before, as "
            "far as the question bank allows."
            if delta.refresher
            else f"A short quiz for your update: {questions} on the changed lessons."
        )
    text = " ".join(part for part in [short, status.rules, status.state, status.reason] if part)
    actionable = status.open_attempt is not None or status.can_start
    return {
        "title": "Assessment",
        "status": text,
        "url": reverse("quizzes:start", kwargs={"quiz_id": quiz.pk}) if actionable else "",
        "action": status.action,
    }


@hooks.register("training_team_attempts")
def team_quiz_attempts(assignments, now) -> dict:
    """My team's quiz attempts for each (person id, module id), with where to give another:
    `assignments` maps each pair to its assignment's id."""
    return {
        pair: {
            **summary,
            "grant_url": reverse(
                "quizzes:team_attempt_grant", kwargs={"assignment_id": assignments[pair]}
            ),
        }
        for pair, summary in team_attempts(pairs=set(assignments), now=now).items()
    }


@hooks.register("training_delta_quiz_questions")
def delta_quiz_questions(module, lesson_ids) -> int:
    """How many questions the quiz of a module's delta path draws (training asks): on the
    changed lessons, or the whole bank when `lesson_ids` is None (a refresher)."""
    return delta_question_count(module=module, lesson_ids=lesson_ids)


class StatisticsFilterSet(WagtailFilterSet):
    module = django_filters.ModelChoiceFilter(
        queryset=ModulePage.objects.order_by("path"), empty_label="All modules"
    )
    retired = django_filters.BooleanFilter()

    class Meta:
        model = Question
        fields = ["module", "retired"]


class ItemStatisticsView(ReportView):
    """Per question: how often served and answered correctly, which distractors were chosen.

    Questions almost everyone gets wrong are flagged for the editors to check.
    """

    page_title = "Item statistics"
    header_icon = "table"
    index_url_name = "quizzes_statistics"
    index_results_url_name = "quizzes_statistics_results"
    filterset_class = StatisticsFilterSet
    permission_policy = ModelPermissionPolicy(Question)
    # "statistics" lets HR read the figures (quiz insights) without opening the question bank.
    any_permission_required = ["view", "change", "statistics"]
    figure_columns = [
        Column("module", label="Module"),
        Column("served_count", label="Served"),
        Column("marked_count", label="Answered"),
        Column("percent_label", label="Correct"),
        Column("flag", label="Flag"),
        Column("distractors", label="Wrong answers chosen"),
    ]

    @property
    def columns(self):
        """The question links to its edit form only for people who may edit questions."""
        if self.permission_policy.user_has_permission(self.request.user, "change"):
            question = TitleColumn(
                "text",
                label="Question",
                get_url=lambda q: reverse("wagtailsnippets_quizzes_question:edit", args=[q.pk]),
            )
        else:
            question = Column("text", label="Question")
        return [question, *self.figure_columns]

    list_export = [
        "pk",
        "module",
        "text",
        "served_count",
        "marked_count",
        "percent",
        "flag",
        "distractors",
    ]
    export_headings = {
        "pk": "Question id",
        "module": "Module",
        "text": "Question",
        "flag": "Flag",
        "served_count": "Served",
        "marked_count": "Answered",
        "percent": "Correct (%)",
        "distractors": "Wrong answers chosen",
    }

    def get_queryset(self):
        return question_statistics(
            questions=Question.objects.select_related("module").order_by("module__path", "pk")
        )

    def decorate_paginated_queryset(self, object_list):
        questions = list(object_list)
        counts = question_choice_counts(questions=questions)
        for q in questions:
            q.percent = percent_correct(marked=q.marked_count, correct=q.correct_count)
            q.percent_label = "not yet answered" if q.percent is None else f"{q.percent}%"
            q.flag = (
                "Almost everyone gets this wrong: check it"
                if is_flagged(marked=q.marked_count, correct=q.correct_count)
                else ""
            )
            q.distractors = "; ".join(
                f"{c.text} ({c.chosen})" for c in counts[q.pk] if not c.is_correct and c.chosen
            )
        return questions


class BankCheckView(WagtailAdminTemplateMixin, TemplateView):
    """Each module's bank held to the question-writing standard (README, "Writing questions"):
    the surface cues that let someone pass without reading, and the gaps in coverage."""

    template_name = "quizzes/admin/bank_check.html"
    page_title = "Bank check"
    header_icon = "tick-inverse"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perm("quizzes.view_question"):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "reports": bank_check_all()}


class BankImportForm(forms.Form):
    file = forms.FileField(help_text="A .csv or .json file in the format the export writes.")
    dry_run = forms.BooleanField(
        label="Check only", required=False, help_text="Report problems without changing anything."
    )


class BankImportView(WagtailAdminTemplateMixin, FormView):
    """Upload a CSV or JSON bank: every bad row is listed, and any bad row means nothing changes."""

    template_name = "quizzes/admin/bank_import.html"
    form_class = BankImportForm
    page_title = "Import or export questions"
    header_icon = "download"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perms(["quizzes.add_question", "quizzes.change_question"]):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["modules"] = ModulePage.objects.order_by("path").only("title", "slug")
        return context

    def form_valid(self, form):
        upload = form.cleaned_data["file"]
        try:
            rows = rows_from_file(content=upload.read(), filename=upload.name)
        except BankFileError as exc:
            form.add_error("file", str(exc))
            return self.form_invalid(form)
        report = question_bank_import(rows=rows, dry_run=form.cleaned_data["dry_run"])
        status = 200 if report.ok else 400
        return self.render_to_response(
            self.get_context_data(form=form, report=report), status=status
        )


def bank_export(request):
    """Download the bank (or one module's questions) as CSV or JSON."""
    if not request.user.has_perm("quizzes.view_question"):
        raise PermissionDenied
    module = None
    if request.GET.get("module"):
        module = ModulePage.objects.filter(slug=request.GET["module"]).first()
    rows = question_bank_rows(module=module)
    as_json = request.GET.get("format") == "json"
    response = HttpResponse(
        rows_to_json(rows) if as_json else rows_to_csv(rows),
        content_type="application/json" if as_json else "text/csv; charset=utf-8",
    )
    filename = f"question-bank{'-' + module.slug if module else ''}.{'json' if as_json else 'csv'}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@hooks.register("register_admin_urls")
def quizzes_admin_urls():
    return [
        path("quizzes/statistics/", ItemStatisticsView.as_view(), name="quizzes_statistics"),
        path(
            "quizzes/statistics/results/",
            ItemStatisticsView.as_view(results_only=True),
            name="quizzes_statistics_results",
        ),
        path("quizzes/bank/", BankImportView.as_view(), name="quizzes_bank"),
        path("quizzes/bank/check/", BankCheckView.as_view(), name="quizzes_bank_check"),
        path("quizzes/bank/export/", bank_export, name="quizzes_bank_export"),
    ]


hooks.register(PERSONAL_DATA_HOOK, quizzes_personal_data, order=20)
hooks.register(PERSONAL_DATA_ERASE_HOOK, quizzes_personal_data_erase, order=20)


@hooks.register("training_toolbox_check")
def toolbox_check(module) -> dict | None:
    """A toolbox talk's three-question check, from the module's question bank."""
    return toolbox_check_draw(module=module)
