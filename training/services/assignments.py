"""Writes for assignments: bringing them in line with the rules, copying completions onto them,
and moving a due date.

The sync is run by a Celery task, so it queues nothing (the task queues any follow-up)."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from accounts.models import PersonType, User
from cms.audit import (
    ACTION_EDIT,
    ACTION_EXTEND,
    audit_changes,
    audit_entries_save,
    audit_entry,
    audit_record,
    audit_snapshot,
)
from training.models import Assignment, AssignmentRule, LessonProgress, ModuleCompletion
from training.tasks import report_counts_refresh_soon


def assignment_completion_apply(
    *, assignment: Assignment, completion: ModuleCompletion | None
) -> None:
    """Copy what status needs from the completion onto the assignment (not saved)."""
    if completion is None:
        assignment.completed_at = assignment.valid_until = assignment.recertify_from = None
        return
    assignment.completed_at = completion.completed_at
    assignment.valid_until = completion.expires_at
    assignment.recertify_from = (
        completion.expires_at - timedelta(days=assignment.reopen_days)
        if completion.expires_at
        else None
    )


@dataclass
class SyncResult:
    created: int = 0
    closed: int = 0


def assignment_due_on(*, rule: AssignmentRule, person: User, today: date) -> date:
    """Officers: N days after they start or are assigned, whichever is later. Councillors: N weeks
    after their election, or N days from today if that date has already passed."""
    if person.person_type == PersonType.COUNCILLOR and person.start_date:
        after_election = person.start_date + timedelta(weeks=rule.councillor_due_weeks)
        if after_election >= today:
            return after_election
    start = max(person.start_date or today, today)
    return start + timedelta(days=rule.due_days)


@transaction.atomic
def assignments_due_on_recalculate(*, user_ids: list[int], by: User | None = None) -> int:
    """After people's election dates changed: each of their open, unfinished assignments made by
    a rule gets the due date its rule gives now, worked out as on the day it was assigned.
    Completed, exempt and hand-made assignments keep theirs. Each moved due date goes to the
    audit trail with before and after. Returns how many moved; three queries (read, write,
    audit). Sends no email and queues nothing."""
    assignments = list(
        Assignment.objects.open()
        .filter(
            user_id__in=user_ids,
            rule__isnull=False,
            completed_at__isnull=True,
            exempt_reason="",
        )
        .select_related("rule", "user")
    )
    moved, entries = [], []
    for assignment in assignments:
        due_on = assignment_due_on(
            rule=assignment.rule,
            person=assignment.user,
            today=timezone.localdate(assignment.assigned_at),
        )
        if due_on == assignment.due_on:
            continue
        before = audit_snapshot(assignment, fields=["due_on"])
        assignment.due_on = due_on
        changes = audit_changes(before=before, after=audit_snapshot(assignment, fields=["due_on"]))
        entries.append(
            audit_entry(
                instance=assignment,
                action=ACTION_EDIT,
                user=by,
                changes=changes,
                via="change of election date",
            )
        )
        moved.append(assignment)
    Assignment.objects.bulk_update(moved, ["due_on"], batch_size=1000)
    audit_entries_save(entries)
    return len(moved)


@transaction.atomic
def assignments_sync(
    *, user_ids: list[int] | None = None, now: datetime | None = None
) -> SyncResult:
    """Make open assignments match the active rules.

    Creates missing assignments, closes rule-made ones whose person left every matching audience
    or was deactivated (kept as history), and never opens a second assignment for one person and
    module (a database constraint backs this). Limit it to some people with `user_ids`.
    Queries: a few per rule, not per person. Sends no email and queues nothing
    (assignments_sync_task queues a count of the report figures when something changed).
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    result = SyncResult()
    rules = list(
        AssignmentRule.objects.filter(active=True, module__live=True)
        .select_related("audience", "module")
        .prefetch_related("audience__departments")
    )
    people = User.objects.all() if user_ids is None else User.objects.filter(pk__in=user_ids)
    wanted: dict[tuple[int, int], AssignmentRule] = {}
    persons: dict[int, User] = {}
    for rule in rules:
        for person in (
            people.filter(rule.audience.member_filter())
            .distinct()
            .only("pk", "person_type", "start_date")
        ):
            key = (person.pk, rule.module_id)
            current = wanted.get(key)
            if current is None or (rule.mandatory and not current.mandatory):
                wanted[key] = rule
            persons[person.pk] = person
    open_assignments = Assignment.objects.filter(closed_at__isnull=True)
    if user_ids is not None:
        open_assignments = open_assignments.filter(user_id__in=user_ids)
    existing = {
        (a.user_id, a.module_id): a
        for a in open_assignments.only(
            "pk", "user_id", "module_id", "rule_id", "user__is_active"
        ).select_related("user")
    }
    to_close = [a for key, a in existing.items() if key not in wanted and a.rule_id is not None]
    for assignment in to_close:
        assignment.closed_at = now
        assignment.closed_reason = (
            Assignment.Closed.LEFT_AUDIENCE
            if assignment.user.is_active
            else Assignment.Closed.DEACTIVATED
        )
    Assignment.objects.bulk_update(to_close, ["closed_at", "closed_reason"], batch_size=1000)
    result.closed = len(to_close)
    new = [
        Assignment(
            user_id=user_id,
            module_id=module_id,
            rule=rule,
            mandatory=rule.mandatory,
            required_version=rule.module.version,
            assigned_at=now,
            due_on=assignment_due_on(rule=rule, person=persons[user_id], today=today),
            valid_months=rule.valid_months,
            reopen_days=rule.reopen_days,
        )
        for (user_id, module_id), rule in wanted.items()
        if (user_id, module_id) not in existing
    ]
    assignments_fill_from_records(assignments=new)
    Assignment.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
    result.created = len(new)
    return result


def assignments_fill_from_records(*, assignments: list[Assignment]) -> None:
    """Set started and completion fields on new (unsaved) assignments from existing records, for
    people who began or finished the module before it was assigned: two queries."""
    if not assignments:
        return
    user_ids = {a.user_id for a in assignments}
    module_ids = {a.module_id for a in assignments}
    started = {
        (row["user_id"], row["module_id"]): row["first"]
        for row in LessonProgress.objects.filter(user_id__in=user_ids, module_id__in=module_ids)
        .values("user_id", "module_id")
        .annotate(first=Min("started_at"))
    }
    completions: dict[tuple[int, int], list[ModuleCompletion]] = {}
    for completion in ModuleCompletion.objects.filter(
        user_id__in=user_ids, module_id__in=module_ids
    ).only("user_id", "module_id", "module_version", "completed_at", "expires_at"):
        completions.setdefault((completion.user_id, completion.module_id), []).append(completion)
    for assignment in assignments:
        key = (assignment.user_id, assignment.module_id)
        assignment.started_at = started.get(key)
        counting = [
            c for c in completions.get(key, []) if c.module_version >= assignment.required_version
        ]
        latest = max(counting, key=lambda c: c.completed_at, default=None)
        assignment_completion_apply(assignment=assignment, completion=latest)


@transaction.atomic
def assignment_due_date_extend(
    *, assignment: Assignment, new_due_on: date, reason: str, by: User
) -> Assignment:
    """Give a person until `new_due_on` (later than the current due date) for an open assignment,
    recorded in the audit trail with before, after and the reason. Queues a recount of the
    report figures; no email. Raises ValueError, changing nothing, on a bad request."""
    if not reason.strip():
        raise ValueError("Give a reason for the extension.")
    if assignment.closed_at is not None:
        raise ValueError("This assignment is closed: its due date cannot change.")
    if new_due_on <= assignment.due_on:
        raise ValueError(
            f"The new due date must be after the current one ({assignment.due_on:%-d %B %Y})."
        )
    before = audit_snapshot(assignment, fields=["due_on"])
    assignment.due_on = new_due_on
    assignment.save(update_fields=["due_on"])
    audit_record(
        instance=assignment,
        action=ACTION_EXTEND,
        user=by,
        changes=audit_changes(before=before, after=audit_snapshot(assignment, fields=["due_on"])),
        reason=reason.strip(),
    )
    report_counts_refresh_soon()
    return assignment
