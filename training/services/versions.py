"""Writes for module versions: recording a publish, and a retake publish superseding assignments."""

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from wagtail.models import Revision

from accounts.models import User
from cms.services import task_enqueue_each_on_commit
from training.models import (
    Assignment,
    LessonPage,
    ModulePage,
    ModuleVersion,
    RetakeRequest,
    SentMessage,
)
from training.tasks import reminder_send_task, report_counts_refresh_soon

MODULE_UPDATED = "module-updated"


@transaction.atomic
def module_version_publish(
    *, module: ModulePage, revision: Revision | None, user: User | None = None
) -> ModuleVersion | None:
    """Record a module's version when it is published.

    The first publish records version 1. Later, a publish raises the version when the published
    revision is marked "learners must retake" or a retake request is pending (one was saved or
    submitted with the tick on and not withdrawn, whatever revision is published now); other
    edits keep it. Past progress and completions are not touched. A raised version moves
    assignments on (assignments_supersede) and logs one "module updated" email to each person
    asked to update, queued for sending after commit.
    """
    latest = module.versions.aggregate(n=Max("number"))["n"]
    pending = RetakeRequest.objects.pending().select_for_update().filter(module=module).first()
    if latest is not None and not module.learners_must_retake and pending is None:
        return None
    number = 1 if latest is None else latest + 1
    change_note = module.change_note
    tick_kept = module.learners_must_retake
    if pending is not None and not module.learners_must_retake:
        # The published revision lost the tick: it carries the note from before it too.
        change_note = pending.change_note
    now = timezone.now()
    version = ModuleVersion.objects.create(
        module=module,
        number=number,
        change_note=change_note,
        revision=revision,
        published_at=now,
        published_by=user,
        update_by=(
            timezone.localdate(now) + timedelta(days=module.update_by_days) if number > 1 else None
        ),
    )
    if pending is not None:
        pending.version = version
        pending.save(update_fields=["version"])
    if number > 1:
        version.changed_lessons.set(
            module_changed_lessons_marked(module=module, pending=pending, tick_kept=tick_kept)
        )
    # The next version's marks start empty, like the tick.
    ModulePage.changed_lessons.through.objects.filter(modulepage_id=module.pk).delete()
    module.changed_lessons.set([])
    ModulePage.objects.filter(pk=module.pk).update(
        version=number, learners_must_retake=False, change_note=change_note
    )
    if revision is not None:
        # The next draft starts from this revision: it must not carry the flag forward.
        revision.content.update(
            version=number, learners_must_retake=False, change_note=change_note, changed_lessons=[]
        )
        revision.save(update_fields=["content"])
    module.version, module.learners_must_retake, module.change_note = number, False, change_note
    if number > 1:
        updates = assignments_supersede(module=module, version=version, now=now)
        message_ids = module_update_messages_log(version=version, assignments=updates, now=now)
        task_enqueue_each_on_commit(reminder_send_task, [(pk,) for pk in message_ids])
    return version


def module_changed_lessons_marked(
    *, module: ModulePage, pending: RetakeRequest | None, tick_kept: bool
) -> list[LessonPage]:
    """The module's own lessons the editor marked as changed in the published revision, or, when
    that revision lost the retake tick, in the revision the pending request came from."""
    lesson_ids = [lesson.pk for lesson in module.changed_lessons.all()]
    if not lesson_ids and not tick_kept and pending is not None and pending.revision is not None:
        lesson_ids = (pending.revision.content or {}).get("changed_lessons") or []
    return list(LessonPage.objects.child_of(module).filter(pk__in=lesson_ids))


def retake_request_record(*, revision: Revision) -> RetakeRequest | None:
    """Keep an editor's "learners must retake" from a saved revision of a module (autosave, save
    draft, submit) until a publish or an explicit withdrawal: the pending request takes the
    revision's change note. Race-safe: one pending request per module is a constraint."""
    content = revision.content or {}
    if not content.get("learners_must_retake"):
        return None
    module_id = int(revision.object_id)
    fields = {
        "revision": revision,
        "change_note": content.get("change_note", ""),
    }
    try:
        with transaction.atomic():
            request, created = RetakeRequest.objects.pending().get_or_create(
                module_id=module_id,
                defaults={
                    **fields,
                    "requested_by_id": revision.user_id,
                    "requested_at": revision.created_at or timezone.now(),
                },
            )
    except IntegrityError:
        request, created = RetakeRequest.objects.pending().get(module_id=module_id), False
    if not created:
        RetakeRequest.objects.filter(pk=request.pk).update(**fields)
    return request


def retake_request_withdraw(*, request: RetakeRequest, by: User) -> None:
    """An editor withdraws a pending retake request: publishing keeps the version again (until
    a revision with the tick on is saved). Sends nothing."""
    RetakeRequest.objects.pending().filter(pk=request.pk).update(
        withdrawn_at=timezone.now(), withdrawn_by=by
    )


def assignments_supersede(
    *, module: ModulePage, version: ModuleVersion, now: datetime
) -> list[Assignment]:
    """After a "learners must retake" publish: everyone with an open assignment now needs the new
    version, and nobody's status or figure changes at that moment.

    People whose assignment an earlier version's completion satisfies keep it valid (and counted
    compliant) until it expires or until the module's update-by date, whichever is first: their
    old assignment is closed as history and a new one for the new version carries the
    completion's dates, with valid_until capped at the update-by date, recertification open from
    now ("due soon": an update is asked for) and the update-by date as its due date. Exemptions
    carry over. Everyone else keeps their assignment, which now needs the new version.
    Returns the new assignments. A few queries, however many people."""
    update_by = version.update_by_ends_at
    behind = Assignment.objects.open().filter(module=module, required_version__lt=version.number)
    behind.filter(completed_at__isnull=True).update(required_version=version.number)
    superseded = list(behind.filter(completed_at__isnull=False))
    for assignment in superseded:
        assignment.closed_at, assignment.closed_reason = now, Assignment.Closed.SUPERSEDED
    # Close first: one open assignment per person and module is a database constraint.
    Assignment.objects.bulk_update(superseded, ["closed_at", "closed_reason"], batch_size=1000)
    opened = Assignment.objects.bulk_create(
        [
            Assignment(
                user_id=old.user_id,
                module=module,
                rule_id=old.rule_id,
                mandatory=old.mandatory,
                required_version=version.number,
                assigned_at=now,
                due_on=version.update_by,
                valid_months=old.valid_months,
                reopen_days=old.reopen_days,
                exempt_reason=old.exempt_reason,
                exempted_by_id=old.exempted_by_id,
                exempted_at=old.exempted_at,
                started_at=old.started_at,
                completed_at=old.completed_at,
                valid_until=min(old.valid_until or update_by, update_by),
                recertify_from=min(old.recertify_from or now, now),
            )
            for old in superseded
        ],
        batch_size=1000,
    )
    if superseded:
        report_counts_refresh_soon()
    return opened


def module_update_messages_log(
    *, version: ModuleVersion, assignments: list[Assignment], now: datetime
) -> list[int]:
    """Log one "module updated" email to each active, non-exempt person asked to update, keyed
    by the module version as its period, so nobody is told twice. Returns the ids of those
    waiting to send (the caller queues them). Two queries."""
    period = f"module-{version.module_id}-v{version.number}"
    people = {
        a.pk: a
        for a in Assignment.objects.filter(
            pk__in=[a.pk for a in assignments], exempt_reason="", user__is_active=True
        ).select_related("user")
    }
    SentMessage.objects.bulk_create(
        [
            SentMessage(
                recipient=a.user,
                recipient_email=a.user.email,
                kind=SentMessage.Kind.MODULE_UPDATED,
                period=period,
                items=[
                    {
                        "assignment": a.pk,
                        "reason": MODULE_UPDATED,
                        "days": (a.due_on - timezone.localdate(now)).days,
                        "version": version.number,
                        "change_note": version.change_note,
                    }
                ],
                created_at=now,
            )
            for a in people.values()
            if a.user.email
        ],
        ignore_conflicts=True,
        batch_size=1000,
    )
    return list(
        SentMessage.objects.filter(
            kind=SentMessage.Kind.MODULE_UPDATED, period=period, state=SentMessage.State.PENDING
        ).values_list("pk", flat=True)
    )
