"""Learner views: what the training pages show (through the training_page_context hook), lesson
progress, My training, My team, certificates and the reminder previews (thin: one call each)."""

import re

from allauth.account.adapter import get_adapter
from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from wagtail import hooks
from wagtail.models import Page

from accounts.models import User
from cms.models import CouncilSettings
from cms.offline import offline_sync_requested, prefetch_requested
from training.certificates import certificate_pdf
from training.forms import (
    DueExtendForm,
    ExemptionRequestForm,
    ToolboxCheckForm,
    ToolboxPresentForm,
    ToolboxStartForm,
)
from training.models import (
    Assignment,
    LessonPage,
    ModuleCompletion,
    ModuleIndexPage,
    ModulePage,
    SentMessage,
    ToolboxSession,
)
from training.qr import qr_svg
from training.reminders.emails import TEMPLATES, reminder_sample_context
from training.reports.permissions import HR_PERMISSION
from training.selectors import (
    TEAM_DEPTH,
    ModuleProgress,
    assignment_due_next,
    assignment_states_for_users,
    assignments_in_urgency_order,
    certificate_check,
    completion_history,
    delta_next_lessons_apply,
    lesson_module_shown,
    module_catalogue_for_user,
    module_lessons_shown,
    module_list_public,
    module_progress_for_user,
    module_progress_unrecorded,
    module_update_for_user,
    progress_completion_latest,
    retake_preview,
    retake_request_pending,
    team_assignment,
    team_overview,
    toolbox_check_refusal,
    toolbox_may_run,
    toolbox_modules,
    toolbox_roster,
    toolbox_session_is_open,
    toolbox_talk_content,
    toolbox_team_leads,
)
from training.services.progress import LessonUnavailable, lesson_complete, lesson_open
from training.services.team import (
    TeamActionRefused,
    assignment_due_extend,
    assignment_nudge,
    exemption_request_create,
    exemption_request_pending,
    extension_base,
    extension_limit_days,
)
from training.services.toolbox import (
    ToolboxRefused,
    toolbox_answer,
    toolbox_present_tick,
    toolbox_session_close,
    toolbox_session_start,
)
from training.services.versions import retake_request_withdraw

CODE_PATTERN = re.compile(r"[0-9A-F]{10}")
TEAM_PAGE_SIZE = 50  # assignments a page of My team shows


def learner_page_context(*, page: Page, request) -> dict:
    """What the catalogue, a module and a lesson show the signed-in learner (or an editor's
    preview): the `training_page_context` hook."""
    user = request.user
    if isinstance(page, ModuleIndexPage):
        return {"catalogue": module_catalogue_for_user(user=user, index=page)}
    if isinstance(page, ModulePage) and page.public:
        return {"progress": module_progress_unrecorded(lessons=module_lessons_shown(module=page))}
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
        module, progress = lesson_module_progress(request, lesson=page)
        previous_lesson, next_lesson = progress.neighbours_of(page)
        return {
            "module": module,
            "module_progress": progress,
            "previous_lesson": previous_lesson,
            "next_lesson": next_lesson,
            "lesson_done": progress.is_done(page),
        }
    return {}


def home_page_context(*, request) -> dict:
    """What the home page shows a signed-in learner: the training due next (the
    `aware_home_page_context` hook); to people not signed in, the modules anyone may read."""
    if not request.user.is_authenticated:
        return {"public_modules": module_list_public()}
    return {"due_next": assignment_due_next(user=request.user)}


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


def lesson_module_progress(request, *, lesson: LessonPage) -> tuple[ModulePage, ModuleProgress]:
    """The lesson's module and the learner's progress in it, read once per request: recording
    the opening and showing the lesson both need them."""
    memo = getattr(request, "_aware_lesson_progress", None)
    if memo is None or memo[0] != lesson.pk:
        module = lesson_module_shown(lesson=lesson) or lesson.get_parent().specific
        lessons = module_lessons_shown(module=module)
        if module.public:
            progress = module_progress_unrecorded(lessons=lessons)
        else:
            progress = module_progress_for_user(user=request.user, module=module, lessons=lessons)
        memo = request._aware_lesson_progress = (lesson.pk, module, progress)
    return memo[1], memo[2]


def lesson_progress_record(request, *, lesson: LessonPage) -> HttpResponse | None:
    """GET records that the lesson was opened, the first time only (Wagtail then serves it),
    unless the service worker fetched it ahead to read offline; POST marks it complete and moves
    on to the next lesson, or, sent from the phone's queue when the signal returns, answers with
    JSON (a repeat is harmless: one row per learner and lesson). A public module's lessons
    record nothing."""
    module = lesson_module_shown(lesson=lesson)
    if module is not None and module.public:
        return None
    sync = offline_sync_requested(request)
    try:
        if request.method == "POST":
            lesson_complete(user=request.user, lesson=lesson)
        elif (
            not prefetch_requested(request)
            and lesson.pk not in lesson_module_progress(request, lesson=lesson)[1].opened_ids
        ):
            lesson_open(user=request.user, lesson=lesson)
            del request._aware_lesson_progress  # the page shows the row just written
    except LessonUnavailable as exc:
        if sync:
            return JsonResponse(
                {"recorded": False, "message": f"“{lesson.title}” was not recorded. {exc}"},
                status=403,
            )
        raise PermissionDenied(str(exc)) from exc
    if request.method != "POST":
        return None
    if sync:
        return JsonResponse({"recorded": True, "message": f"“{lesson.title}” is complete."})
    module = lesson.get_parent().specific
    _, following = module_progress_for_user(user=request.user, module=module).neighbours_of(lesson)
    if following is not None:
        messages.success(request, f"“{lesson.title}” is complete. Next: {following.title}.")
        return redirect(following.get_url(request))
    messages.success(request, f"“{lesson.title}” is complete. You have finished every lesson.")
    return redirect(module.get_url(request))


@login_required
def my_training(request):
    """Everything the learner must do, most urgent first, with status and the next action; then
    their certificates."""
    completions = completion_history(user=request.user)
    states = assignment_states_for_users(user_ids=[request.user.pk], completions=completions)[
        request.user.pk
    ]
    delta_next_lessons_apply(user=request.user, states=states, completions=completions)
    states = assignments_in_urgency_order(states=states)
    return render(
        request,
        "training/my_training.html",
        {
            "to_do": [s for s in states if s.needs_action],
            # A completion still valid while an update or renewal is asked for is in both.
            "done": [s for s in states if s.up_to_date],
            "completions": completions,
        },
    )


@login_required
def my_team(request):
    """A line manager's team (reports, and their reports in turn) and where each stands, most
    urgent first; nobody else's."""
    overview = team_overview(manager=request.user)
    if not overview.members:
        raise PermissionDenied("“My team” is for line managers. Nobody reports to you here.")
    page = Paginator(overview.rows, TEAM_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "training/my_team.html",
        {"team": overview, "team_page": page, "team_depth": TEAM_DEPTH},
    )


def _team_assignment(request, assignment_id: int) -> Assignment:
    """An open assignment of someone in the signed-in manager's tree, or 404."""
    assignment = team_assignment(manager=request.user, assignment_id=assignment_id)
    if assignment is None:
        raise Http404("That training is not for anyone in your team.")
    return assignment


@login_required
def team_nudge(request, assignment_id: int):
    """GET asks; POST emails the person one reminder (assignment_nudge)."""
    assignment = _team_assignment(request, assignment_id)
    if request.method == "POST":
        person = assignment.user.full_name
        try:
            sent = assignment_nudge(assignment=assignment, by=request.user)
        except TeamActionRefused as exc:
            messages.error(request, str(exc))
        else:
            if sent:
                messages.success(request, f"Reminder sent to {person}.")
            else:
                messages.info(
                    request,
                    f"The reminder to {person} could not be sent just now. It will be sent "
                    "automatically when the mail server answers.",
                )
        return redirect("training:my_team")
    return render(request, "training/team_nudge.html", {"assignment": assignment})


@login_required
def team_extend(request, assignment_id: int):
    """GET shows the form; POST moves the due date later (assignment_due_extend)."""
    assignment = _team_assignment(request, assignment_id)
    base = extension_base(assignment=assignment, today=timezone.localdate())
    form = DueExtendForm(
        request.POST or None,
        limit=extension_limit_days(),
        base=base,
        initial={"due_on_was": assignment.due_on},
    )
    if request.method == "POST" and form.is_valid():
        try:
            assignment = assignment_due_extend(
                assignment=assignment,
                days=form.cleaned_data["days"],
                reason=form.cleaned_data["reason"],
                due_on_was=form.cleaned_data["due_on_was"],
                by=request.user,
            )
        except TeamActionRefused as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                f"{assignment.user.full_name} now has until {assignment.due_on:%-d %B %Y} "
                f"for “{assignment.module.title}”.",
            )
        return redirect("training:my_team")
    return render(request, "training/team_extend.html", {"assignment": assignment, "form": form})


@login_required
def team_exemption_request(request, assignment_id: int):
    """GET shows the form (or the request already waiting); POST asks HR
    (exemption_request_create)."""
    assignment = _team_assignment(request, assignment_id)
    form = ExemptionRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            exemption_request_create(
                assignment=assignment, reason=form.cleaned_data["reason"], by=request.user
            )
        except TeamActionRefused as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                f"HR has been asked to exempt {assignment.user.full_name} from "
                f"“{assignment.module.title}”. They will decide, and My team will show it.",
            )
        return redirect("training:my_team")
    return render(
        request,
        "training/team_exemption_request.html",
        {
            "assignment": assignment,
            "form": form,
            "waiting": exemption_request_pending(assignment=assignment),
        },
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


# TOOLBOX TALKS -------------------------------------------------------------------------------


def _toolbox_refuse_unless_runner(request) -> None:
    if not toolbox_may_run(user=request.user):
        raise PermissionDenied("Toolbox talks are run by line managers and HR.")


def _toolbox_session_run_by(request, token: str) -> ToolboxSession:
    """The talk with this token, for the supervisor running it (403 for anyone who runs no
    talks; 404 for another supervisor's)."""
    _toolbox_refuse_unless_runner(request)
    session = (
        ToolboxSession.objects.select_related("module", "team_of", "supervisor")
        .filter(token=token, supervisor=request.user)
        .first()
    )
    if session is None:
        raise Http404("No toolbox talk of yours has that address.")
    return session


@login_required
def toolbox_start(request):
    """GET: the modules a toolbox talk may cover (and for HR, whose team); POST starts one."""
    _toolbox_refuse_unless_runner(request)
    is_hr = request.user.has_perm(HR_PERMISSION)
    form = ToolboxStartForm(
        request.POST or None,
        modules=toolbox_modules(),
        team_leads=toolbox_team_leads() if is_hr else None,
    )
    if request.method == "POST" and form.is_valid():
        try:
            session = toolbox_session_start(
                module=form.cleaned_data["module"],
                supervisor=request.user,
                team_of=form.cleaned_data.get("team_of") or request.user,
            )
        except ToolboxRefused as exc:
            messages.error(request, str(exc))
        else:
            return redirect("training:toolbox_talk", token=session.token)
    return render(request, "training/toolbox_start.html", {"form": form})


@login_required
def toolbox_talk(request, token: str):
    """The talk on one screen: the slides, the scenarios to discuss, who is here, the QR code
    for phones and each attendee's result."""
    session = _toolbox_session_run_by(request, token)
    roster = toolbox_roster(manager=session.team_of)
    present = set(session.present.values_list("attendee_id", flat=True))
    results = {a.attendee_id: a for a in session.attendances.all()}
    slides, scenarios = toolbox_talk_content(module=session.module)
    check_url = request.build_absolute_uri(
        reverse("training:toolbox_check", kwargs={"token": session.token})
    )
    is_open = toolbox_session_is_open(session=session, now=timezone.now())
    return render(
        request,
        "training/toolbox_talk.html",
        {
            "session": session,
            "is_open": is_open,
            "slides": slides,
            "scenarios": scenarios,
            "crew": [
                {"person": p, "present": p.pk in present, "result": results.get(p.pk)}
                for p in roster
            ],
            "present_form": ToolboxPresentForm(roster=roster, initial={"present": present}),
            "check_url": check_url,
            "qr_svg": mark_safe(qr_svg(check_url)) if is_open else "",  # noqa: S308
        },
    )


@login_required
def toolbox_present(request, token: str):
    """POST: the supervisor ticks who is here."""
    session = _toolbox_session_run_by(request, token)
    if request.method != "POST":
        return redirect("training:toolbox_talk", token=token)
    form = ToolboxPresentForm(request.POST, roster=toolbox_roster(manager=session.team_of))
    if not form.is_valid():
        messages.error(request, "Tick the people from the team who are here. Nothing was changed.")
    else:
        try:
            added = toolbox_present_tick(session=session, attendee_ids=form.cleaned_data["present"])
        except ToolboxRefused as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"{added} more ticked present." if added else "No change.")
    return redirect(reverse("training:toolbox_talk", kwargs={"token": token}) + "#who-is-here")


@login_required
def toolbox_close(request, token: str):
    """POST: the supervisor closes the talk; its QR code stops taking answers."""
    session = _toolbox_session_run_by(request, token)
    if request.method == "POST":
        toolbox_session_close(session=session)
        messages.success(request, "The toolbox talk is closed: no more answers are taken.")
    return redirect("training:toolbox_talk", token=token)


@login_required
def toolbox_check(request, token: str, person_id: int | None = None):
    """The three-question check: on the attendee's own phone (the QR code; they answer as
    themselves), or on the supervisor's device for one attendee in turn (`person_id`)."""
    session = get_object_or_404(
        ToolboxSession.objects.select_related("module", "supervisor"), token=token
    )
    if person_id is None:
        attendee, on_own_device = request.user, True
    else:
        if session.supervisor_id != request.user.pk:
            raise Http404("No toolbox talk of yours has that address.")
        # Someone on the talk's roster only: no one else's name shows here.
        attendee = get_object_or_404(User, pk=person_id, line_manager_id=session.team_of_id)
        on_own_device = False
    form = ToolboxCheckForm(request.POST or None, questions=session.questions)
    context = {"session": session, "attendee": attendee, "form": form, "own": on_own_device}
    refusal = toolbox_check_refusal(session=session, attendee=attendee, now=timezone.now())
    if refusal:
        context["refusal"] = refusal
        return render(request, "training/toolbox_check.html", context, status=403)
    if request.method == "POST" and form.is_valid():
        try:
            attendance = toolbox_answer(
                session=session,
                attendee=attendee,
                answers=form.answers(),
                on_own_device=on_own_device,
            )
        except ToolboxRefused as exc:
            context["refusal"] = str(exc)
            return render(request, "training/toolbox_check.html", context, status=403)
        context["attendance"] = attendance
    return render(request, "training/toolbox_check.html", context)
