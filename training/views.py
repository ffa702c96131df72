"""Learner views: what the training pages show (through the training_page_context hook), lesson
progress, My training, My team, certificates and the reminder previews (thin: one call each)."""

import re

from allauth.account.adapter import get_adapter
from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from wagtail import hooks
from wagtail.models import Page

from cms.models import CouncilSettings
from training.certificates import certificate_pdf
from training.models import LessonPage, ModuleCompletion, ModuleIndexPage, ModulePage, SentMessage
from training.reminders.emails import TEMPLATES, reminder_sample_context
from training.selectors import (
    assignment_states_for_users,
    certificate_check,
    completion_history,
    delta_next_lessons_apply,
    lesson_module_shown,
    module_catalogue_for_user,
    module_lessons_shown,
    module_progress_for_user,
    module_update_for_user,
    progress_completion_latest,
    retake_preview,
    retake_request_pending,
    team_members,
)
from training.services.progress import LessonUnavailable, lesson_complete, lesson_open
from training.services.versions import retake_request_withdraw

CODE_PATTERN = re.compile(r"[0-9A-F]{10}")


def learner_page_context(*, page: Page, request) -> dict:
    """What the catalogue, a module and a lesson show the signed-in learner (or an editor's
    preview): the `training_page_context` hook."""
    user = request.user
    if isinstance(page, ModuleIndexPage):
        return {"catalogue": module_catalogue_for_user(user=user, index=page)}
    if isinstance(page, ModulePage):
        progress = module_progress_for_user(
            user=user, module=page, lessons=module_lessons_shown(module=page)
        )
        # Other apps (quizzes) add the module's assessment through this hook, so that training
        # never imports them: each returns None or {"title", "url", "status", "action"}.
        assessments = [
            step
            for hook in hooks.get_hooks("training_module_assessment")
            if (step := hook(request=request, module=page, progress=progress))
        ]
        return {
            "progress": progress,
            "completion": progress_completion_latest(user=user, module=page, progress=progress),
            "module_update": module_update_for_user(user=user, module=page),
            "assessments": assessments,
        }
    if isinstance(page, LessonPage):
        module = lesson_module_shown(lesson=page) or page.get_parent().specific
        progress = module_progress_for_user(
            user=user, module=module, lessons=module_lessons_shown(module=module)
        )
        previous_lesson, next_lesson = progress.neighbours_of(page)
        return {
            "module": module,
            "module_progress": progress,
            "previous_lesson": previous_lesson,
            "next_lesson": next_lesson,
            "lesson_done": progress.is_done(page),
        }
    return {}


def version_panel_context(*, module: ModulePage) -> dict:
    """What the module editor's Version panel shows: the `training_version_panel_context` hook."""
    if module.pk is None:
        return {}
    return {
        "module": module,
        "retake_preview": retake_preview(module=module),
        "retake_request": retake_request_pending(module=module),
    }


def retake_request_withdraw_view(request, module_id: int):
    """Admin: an editor withdraws the module's pending retake request (GET asks, POST does it)."""
    module = get_object_or_404(ModulePage, pk=module_id)
    if not module.permissions_for_user(request.user).can_edit():
        raise PermissionDenied
    pending = retake_request_pending(module=module)
    edit_url = reverse("wagtailadmin_pages:edit", args=[module.pk])
    if pending is None:
        messages.info(request, "There is no retake request to withdraw.")
        return redirect(edit_url)
    if request.method == "POST":
        retake_request_withdraw(request=pending, by=request.user)
        messages.success(
            request, f"Withdrawn: publishing “{module.title}” keeps version {module.version}."
        )
        return redirect(edit_url)
    return render(
        request,
        "training/admin/retake_request_withdraw.html",
        {"module": module, "retake_request": pending, "edit_url": edit_url},
    )


def lesson_progress_record(request, *, lesson: LessonPage) -> HttpResponse | None:
    """GET records that the lesson was opened (Wagtail then serves it); POST marks it complete
    and moves on to the next lesson."""
    try:
        if request.method == "POST":
            lesson_complete(user=request.user, lesson=lesson)
        else:
            lesson_open(user=request.user, lesson=lesson)
    except LessonUnavailable as exc:
        raise PermissionDenied(str(exc)) from exc
    if request.method != "POST":
        return None
    module = lesson.get_parent().specific
    _, following = module_progress_for_user(user=request.user, module=module).neighbours_of(lesson)
    if following is not None:
        messages.success(request, f"“{lesson.title}” is complete. Next: {following.title}.")
        return redirect(following.get_url(request))
    messages.success(request, f"“{lesson.title}” is complete. You have finished every lesson.")
    return redirect(module.get_url(request))


@login_required
def my_training(request):
    """Everything the learner must do, with status and the next action; then their certificates."""
    states = assignment_states_for_users(user_ids=[request.user.pk])[request.user.pk]
    delta_next_lessons_apply(user=request.user, states=states)
    return render(
        request,
        "training/my_training.html",
        {
            "to_do": [s for s in states if s.needs_action],
            # A completion still valid while an update or renewal is asked for is in both.
            "done": [s for s in states if s.up_to_date],
            "completions": completion_history(user=request.user),
        },
    )


@login_required
def my_team(request):
    """A line manager's direct reports and where each stands; nobody else's."""
    members = team_members(manager=request.user)
    if not members:
        raise PermissionDenied("“My team” is for line managers. Nobody reports to you here.")
    states = assignment_states_for_users(user_ids=[m.pk for m in members])
    return render(
        request,
        "training/my_team.html",
        {"team": [(member, states[member.pk]) for member in members]},
    )


@login_required
def certificate_download(request, pk: int):
    """The certificate PDF, for its owner (and HR, who may see everyone's records)."""
    completion = get_object_or_404(ModuleCompletion.objects.select_related("user", "module"), pk=pk)
    if completion.user_id != request.user.pk and not request.user.has_perm(
        "training.view_modulecompletion"
    ):
        raise Http404
    council = CouncilSettings.for_request(request).council_name
    response = HttpResponse(
        certificate_pdf(completion=completion, council_name=council),
        content_type="application/pdf",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="certificate-{completion.verification_code}.pdf"'
    )
    return response


def certificate_verify(request, code: str | None = None):
    """Public: is this certificate valid, expired or superseded? Shows name, module and dates."""
    code = (code or request.GET.get("code", "")).strip().upper()
    completion = None
    if code and CODE_PATTERN.fullmatch(code):
        completion = (
            ModuleCompletion.objects.select_related("user", "module")
            .filter(verification_code=code)
            .first()
        )
    context = {"code": code, "completion": completion}
    if completion is not None:
        context["check"] = check = certificate_check(completion=completion)
        context["status"] = check.status
    status = 404 if code and completion is None else 200
    return render(request, "training/certificate_verify.html", context, status=status)


# The preview frames the email's HTML (srcdoc), which inherits this page's policy; an email must
# carry its styles inline, so this one admin page allows inline styles.
@csp_update({"style-src": [UNSAFE_INLINE]}, REPORT_ONLY=True)
def reminder_preview(request):
    """Admin: every reminder email rendered with sample data, so editors can check the wording."""
    kinds = list(TEMPLATES)
    kind = request.GET.get("kind", kinds[0])
    if kind not in TEMPLATES:
        raise Http404
    email = get_adapter().render_mail(
        TEMPLATES[kind], "someone@example.gov.uk", reminder_sample_context(kind)
    )
    html = next(content for content, mime in email.alternatives if mime == "text/html")
    return render(
        request,
        "training/reminder_preview.html",
        {
            "kinds": [(k, label) for k, label in SentMessage.Kind.choices if k in TEMPLATES],
            "kind": kind,
            "email": email,
            "html": html,
        },
    )
