"""Writes for toolbox talks: start a session, tick who is present, record each check, close."""

import secrets
from collections.abc import Sequence
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from wagtail import hooks

from accounts.models import User
from cms.audit import ACTION_CREATE, ACTION_EDIT, audit_record
from training.models import (
    Assignment,
    CompletionSource,
    ModulePage,
    ToolboxAttendance,
    ToolboxPresence,
    ToolboxSession,
)
from training.selectors import (
    toolbox_check_refusal,
    toolbox_may_run,
    toolbox_roster,
    toolbox_session_is_open,
)
from training.services.completion import completion_record_create


class ToolboxRefused(Exception):
    """What the supervisor or attendee is told; nothing was recorded."""


@transaction.atomic
def toolbox_session_start(
    *, module: ModulePage, supervisor: User, team_of: User, now: datetime | None = None
) -> ToolboxSession:
    """Open a toolbox talk on `module` for `team_of`'s reports, run (and witnessed) by
    `supervisor`: a line manager for their own team, HR for anyone's. Draws the three-question
    check from the module's question bank (the training_toolbox_check hook). ToolboxRefused,
    writing nothing, when it cannot be run."""
    now = now or timezone.now()
    if not toolbox_may_run(user=supervisor):
        raise ToolboxRefused("Toolbox talks are run by line managers and HR.")
    if team_of != supervisor and not supervisor.has_perm("training.view_hr_reports"):
        raise ToolboxRefused("You can run a toolbox talk for your own team only.")
    if module.public or not module.live:
        raise ToolboxRefused(f"“{module.title}” is not a module whose completions are recorded.")
    if not toolbox_roster(manager=team_of):
        raise ToolboxRefused(f"Nobody reports to {team_of.full_name}: there is no team to train.")
    check = next(
        (found for hook in hooks.get_hooks("training_toolbox_check") if (found := hook(module))),
        None,
    )
    if check is None:
        raise ToolboxRefused(
            f"“{module.title}” has no quiz with three questions a crew can answer in turn "
            "(one right answer each). Ask the module's editors to add them."
        )
    session = ToolboxSession.objects.create(
        module=module,
        module_version=module.version,
        supervisor=supervisor,
        team_of=team_of,
        token=secrets.token_urlsafe(32),
        questions=check["questions"],
        pass_mark=check["pass_mark"],
        started_at=now,
    )
    audit_record(
        instance=session,
        action=ACTION_CREATE,
        user=supervisor,
        module=module.title,
        team_of=team_of.email,
    )
    return session


@transaction.atomic
def toolbox_present_tick(
    *, session: ToolboxSession, attendee_ids: Sequence[int], now: datetime | None = None
) -> int:
    """Record the people the supervisor ticked present (those already ticked stay so); returns
    how many were added. ToolboxRefused, writing nothing, for a closed talk or anyone not on
    the team's roster."""
    now = now or timezone.now()
    session = _session_locked(session)
    if not toolbox_session_is_open(session=session, now=now):
        raise ToolboxRefused("This toolbox talk has closed. Nothing was changed.")
    roster = {person.pk for person in toolbox_roster(manager=session.team_of)}
    wanted = set(attendee_ids)
    if wanted - roster:
        raise ToolboxRefused(
            "Only people in the team HR imported can be ticked present. Nothing was changed."
        )
    already = set(session.present.values_list("attendee_id", flat=True))
    added = [
        ToolboxPresence(session=session, attendee_id=pk, ticked_at=now)
        for pk in sorted(wanted - already)
    ]
    ToolboxPresence.objects.bulk_create(added)
    return len(added)


@transaction.atomic
def toolbox_answer(
    *,
    session: ToolboxSession,
    attendee: User,
    answers: Sequence[int],
    on_own_device: bool,
    now: datetime | None = None,
) -> ToolboxAttendance:
    """Mark one attendee's check (each answer the index of the choice picked) and record their
    attendance, witnessed by the supervisor; a pass also appends a toolbox completion to the
    evidence chain. ToolboxRefused, writing nothing, for a closed talk, someone not ticked
    present on the roster, a second answer, or an answer of the wrong shape."""
    now = now or timezone.now()
    session = _session_locked(session)
    refusal = toolbox_check_refusal(session=session, attendee=attendee, now=now)
    if refusal:
        raise ToolboxRefused(refusal)
    questions = session.questions
    if len(answers) != len(questions) or any(
        not 0 <= picked < len(question["choices"])
        for picked, question in zip(answers, questions, strict=False)
    ):
        raise ToolboxRefused("Answer every question. Nothing was recorded.")
    right = sum(
        question["choices"][picked]["correct"]
        for picked, question in zip(answers, questions, strict=True)
    )
    score = round(100 * right / len(questions))
    passed = score >= session.pass_mark
    completion = None
    if passed:
        assignment = Assignment.objects.filter(
            user=attendee, module=session.module, closed_at__isnull=True
        ).first()
        completion = completion_record_create(
            user=attendee,
            module=session.module,
            module_version=session.module_version,
            score=score,
            completed_at=now,
            valid_months=assignment.valid_months if assignment else None,
            source=CompletionSource.TOOLBOX,
        )
    try:
        with transaction.atomic():
            return ToolboxAttendance.objects.create(
                session=session,
                attendee=attendee,
                witness=session.supervisor,
                answers=list(answers),
                score=score,
                passed=passed,
                completion=completion,
                on_own_device=on_own_device,
                answered_at=now,
            )
    except IntegrityError as exc:  # a double submit got there first: its completion stands
        raise ToolboxRefused(
            f"{attendee.full_name} has already answered. Nothing more was recorded."
        ) from exc


@transaction.atomic
def toolbox_session_close(*, session: ToolboxSession, now: datetime | None = None) -> bool:
    """Close the talk: its QR code and check take no more answers. False if already closed."""
    now = now or timezone.now()
    session = _session_locked(session)
    if session.closed_at is not None:
        return False
    session.closed_at = now
    session.save(update_fields=["closed_at"])
    audit_record(
        instance=session,
        action=ACTION_EDIT,
        user=session.supervisor,
        changes=[{"field": "closed_at", "label": "Closed", "before": "", "after": now.isoformat()}],
    )
    return True


def _session_locked(session: ToolboxSession) -> ToolboxSession:
    """The session read again under a row lock, so two answers or a close cannot interleave."""
    return (
        ToolboxSession.objects.select_for_update()
        .select_related("module", "supervisor")
        .get(pk=session.pk)
    )
