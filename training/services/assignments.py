"""Writes for assignments: bringing them in line with the rules, copying completions onto them,
and moving a due date.

The sync is run by a Celery task, so it queues nothing (the task queues any follow-up)."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from accounts.importers import in_chunks
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
    changed: int = 0  # open assignments whose rule now makes them mandatory or recommended


def assignment_due_on(
    *, rule: AssignmentRule, person_type: str, start_date: date | None, today: date
) -> date:
    """Officers: N days after they start or are assigned, whichever is later. Councillors: N weeks
    after their election, or N days from today if that date has already passed."""
    if person_type == PersonType.COUNCILLOR and start_date:
        after_election = start_date + timedelta(weeks=rule.councillor_due_weeks)
        if after_election >= today:
            return after_election
    start = max(start_date or today, today)
    return start + timedelta(days=rule.due_days)


# Rows per write and per read: memory stays flat whatever the size of the council.
SYNC_BATCH = 2000


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
            person_type=assignment.user.person_type,
            start_date=assignment.user.start_date,
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
    or was deactivated (kept as history), makes open rule-made ones mandatory or recommended as
    their rules now say (the rule's own audit entry records the change), and never opens a
    second assignment for one person and module (a database constraint backs this). Limit it
    to some people with `user_ids`.
    One module at a time, reading tuples and writing SYNC_BATCH rows at a time, so memory holds
    one module's people, not every assignment. Queries: a few per rule and per SYNC_BATCH
    changes, not per person. Sends no email and queues nothing (assignments_sync_task queues a
    count of the report figures when something changed).
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    result = SyncResult()
    rules_by_module: dict[int, list[AssignmentRule]] = defaultdict(list)
    for rule in (
        AssignmentRule.objects.filter(active=True, module__live=True)
        .select_related("audience", "module")
        .prefetch_related("audience__departments")
    ):
        rules_by_module[rule.module_id].append(rule)
    people = User.objects.all() if user_ids is None else User.objects.filter(pk__in=user_ids)
    open_assignments = Assignment.objects.filter(closed_at__isnull=True)
    if user_ids is not None:
        open_assignments = open_assignments.filter(user_id__in=user_ids)
    # Modules whose rules all went (or were switched off) may still hold rule-made assignments.
    modules = set(rules_by_module) | set(
        open_assignments.filter(rule__isnull=False).values_list("module_id", flat=True).distinct()
    )
    for module_id in sorted(modules):
        wanted: dict[int, tuple[AssignmentRule, str, date | None]] = {}  # person's pk -> rule...
        for rule in rules_by_module.get(module_id, []):
            for pk, person_type, start_date in (
                people.filter(rule.audience.member_filter())
                .distinct()
                .values_list("pk", "person_type", "start_date")
                .iterator(chunk_size=SYNC_BATCH)
            ):
                current = wanted.get(pk)
                if current is None or (rule.mandatory and not current[0].mandatory):
                    wanted[pk] = (rule, person_type, start_date)
        existing: set[int] = set()
        to_close: dict[str, list[int]] = defaultdict(list)
        # Rule-made assignments the rules now make mandatory or recommended the other way (HR
        # edited a rule, or an update shipped new defaults): (rule, mandatory) -> assignments.
        to_change: dict[tuple[int, bool], list[int]] = defaultdict(list)
        for pk, user_id, rule_id, mandatory, active in (
            open_assignments.filter(module_id=module_id)
            .values_list("pk", "user_id", "rule_id", "mandatory", "user__is_active")
            .iterator(chunk_size=SYNC_BATCH)
        ):
            existing.add(user_id)
            if rule_id is None:
                continue  # made by hand: HR's choice stands
            if user_id not in wanted:
                reason = (
                    Assignment.Closed.LEFT_AUDIENCE if active else Assignment.Closed.DEACTIVATED
                )
                to_close[reason].append(pk)
            elif wanted[user_id][0].mandatory != mandatory:
                rule = wanted[user_id][0]
                to_change[(rule.pk, rule.mandatory)].append(pk)
        for (rule_id, mandatory), pks in to_change.items():
            for chunk in in_chunks(pks, SYNC_BATCH):
                Assignment.objects.filter(pk__in=chunk).update(rule_id=rule_id, mandatory=mandatory)
            result.changed += len(pks)
        for reason, pks in to_close.items():
            for chunk in in_chunks(pks, SYNC_BATCH):
                Assignment.objects.filter(pk__in=chunk).update(closed_at=now, closed_reason=reason)
            result.closed += len(pks)
        missing = [pk for pk in wanted if pk not in existing]
        if not missing:
            continue
        version = next(iter(wanted.values()))[0].module.version
        # A few missing: their own records; many: the module's (one query each, not per batch).
        started, completed = _module_records(
            module_id=module_id,
            version=version,
            user_ids=missing if len(missing) <= SYNC_BATCH else None,
        )
        for chunk in in_chunks(missing, SYNC_BATCH):
            new = []
            for user_id in chunk:
                rule, person_type, start_date = wanted[user_id]
                assignment = Assignment(
                    user_id=user_id,
                    module_id=module_id,
                    rule=rule,
                    mandatory=rule.mandatory,
                    required_version=version,
                    assigned_at=now,
                    due_on=assignment_due_on(
                        rule=rule, person_type=person_type, start_date=start_date, today=today
                    ),
                    valid_months=rule.valid_months,
                    reopen_days=rule.reopen_days,
                    started_at=started.get(user_id),
                )
                if user_id in completed:
                    completed_at, expires_at = completed[user_id]
                    latest = ModuleCompletion(completed_at=completed_at, expires_at=expires_at)
                    assignment_completion_apply(assignment=assignment, completion=latest)
                new.append(assignment)
            Assignment.objects.bulk_create(new, ignore_conflicts=True)
            result.created += len(new)
    return result


def _module_records(
    *, module_id: int, version: int, user_ids: list[int] | None
) -> tuple[dict[int, datetime], dict[int, tuple[datetime, datetime | None]]]:
    """For people who began or finished the module before it was assigned (all of them, or
    `user_ids`): when each first opened a lesson of it, and the dates of their latest completion
    of `version` or later, as (completed_at, expires_at). Two queries, tuples only."""
    progress = LessonProgress.objects.filter(module_id=module_id)
    completions = ModuleCompletion.objects.filter(module_id=module_id, module_version__gte=version)
    if user_ids is not None:
        progress = progress.filter(user_id__in=user_ids)
        completions = completions.filter(user_id__in=user_ids)
    started = dict(progress.values_list("user_id").annotate(first=Min("started_at")))
    completed: dict[int, tuple[datetime, datetime | None]] = {}
    for user_id, completed_at, expires_at in completions.values_list(
        "user_id", "completed_at", "expires_at"
    ).iterator(chunk_size=SYNC_BATCH):
        if user_id not in completed or completed[user_id][0] < completed_at:
            completed[user_id] = (completed_at, expires_at)
    return started, completed


@transaction.atomic
def assignment_due_date_extend(
    *, assignment: Assignment, new_due_on: date, reason: str, by: User
) -> Assignment:
    """Give a person until `new_due_on` (later than the current due date) for an open assignment,
    recorded in the audit trail with before, after and the reason. No email; the caller queues
    a recount of the report figures (once for many). Raises ValueError, changing nothing, on a
    bad request."""
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
    return assignment
