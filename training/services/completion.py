"""Writes to the evidence: quiz passes and the completion chain (every append takes its lock)."""

import calendar
import secrets
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from cms.services import rows_update
from training.hashing import RecordsKeyUnknown, records_key_current
from training.locks import Lock, advisory_lock
from training.models import (
    Assignment,
    ModuleCompletion,
    ModulePage,
    QuizPass,
)
from training.selectors import module_progress_for_user
from training.services.assignments import assignment_completion_apply
from training.tasks import report_counts_refresh_soon

# Rows or ids per query: well inside SQLite's limit on parameters.
QUERY_CHUNK = 2000


@transaction.atomic
def quiz_pass_record(
    *,
    user: User,
    module: ModulePage,
    score: int,
    attempt_id: int,
    module_version: int,
    now: datetime | None = None,
) -> tuple[QuizPass, ModuleCompletion | None]:
    """Record a passed assessment, then complete the module if its lessons are done too.

    Reporting the same attempt again returns the first record and creates nothing.
    """
    quiz_pass, _ = QuizPass.objects.get_or_create(
        attempt_id=attempt_id,
        defaults={
            "user": user,
            "module": module,
            "module_version": module_version,
            "score": score,
            "passed_at": now or timezone.now(),
        },
    )
    completion = module_completion_check(user=user, module=module, now=now)
    return quiz_pass, completion


def module_completion_check(
    *, user: User, module: ModulePage, now: datetime | None = None
) -> ModuleCompletion | None:
    """Complete the module once every live lesson is done and the current version's quiz passed.

    On a delta path (see module_progress_for_user) only its lessons must be (re)read and the
    pass is its quiz's: an update's short quiz, or a refresher's fresh draw (a pass since the
    completion being renewed). With no questions to ask, reading the lessons completes the
    current version, keeping the earlier completion's score. Creates at most one completion per
    pass; returns the existing or new completion, or None. Side effects as
    completion_records_append.
    """
    module = ModulePage.objects.select_for_update().get(pk=module.pk)
    progress = module_progress_for_user(user=user, module=module)
    if not progress.all_done:
        return None
    assignment = Assignment.objects.filter(user=user, module=module, closed_at__isnull=True).first()
    delta = progress.delta
    if delta is not None and not delta.questions:
        # A delta path whose changed lessons have no questions: the lessons are the update.
        return completion_record_create(
            user=user,
            module=module,
            module_version=module.version,
            score=delta.passed.score,
            completed_at=now or timezone.now(),
            valid_months=assignment.valid_months if assignment else None,
        )
    passes = QuizPass.objects.filter(user=user, module=module, module_version=module.version)
    if delta is not None and delta.refresher:
        passes = passes.filter(passed_at__gt=delta.passed.completed_at)
    quiz_pass = passes.order_by("-passed_at").first()
    if quiz_pass is None:
        return None
    existing = ModuleCompletion.objects.filter(quiz_pass=quiz_pass).first()
    if existing is not None:
        return existing
    return completion_record_create(
        user=user,
        module=module,
        module_version=quiz_pass.module_version,
        score=quiz_pass.score,
        attempt_id=quiz_pass.attempt_id,
        quiz_pass=quiz_pass,
        completed_at=now or timezone.now(),
        valid_months=assignment.valid_months if assignment else None,
    )


@dataclass(frozen=True)
class CompletionDraft:
    """What one completion record will say; its verification code and hashes come from the
    chain when it is appended."""

    user_id: int
    module_id: int
    module_version: int
    score: int
    completed_at: datetime
    expires_at: datetime | None = None
    attempt_id: int | None = None
    quiz_pass_id: int | None = None
    source: str = "aware"


def completion_record_create(
    *,
    user: User,
    module: ModulePage,
    module_version: int,
    score: int,
    completed_at: datetime,
    attempt_id: int | None = None,
    quiz_pass: QuizPass | None = None,
    valid_months: int | None = None,
    expires_at: datetime | None = None,
    source: str = "aware",
) -> ModuleCompletion:
    """Append one completion record to the evidence chain, expiring `valid_months` after
    `completed_at` unless `expires_at` is given. Side effects as completion_records_append."""
    draft = CompletionDraft(
        user_id=user.pk,
        module_id=module.pk,
        module_version=module_version,
        score=score,
        completed_at=completed_at,
        expires_at=expires_at or (add_months(completed_at, valid_months) if valid_months else None),
        attempt_id=attempt_id,
        quiz_pass_id=quiz_pass.pk if quiz_pass else None,
        source=source,
    )
    (record,) = completion_records_append(drafts=[draft])
    # The caller's objects, so reading them from the record costs no query.
    record.user, record.module, record.quiz_pass = user, module, quiz_pass
    return record


@transaction.atomic
def completion_records_append(*, drafts: Sequence[CompletionDraft]) -> list[ModuleCompletion]:
    """The one writer of the completion chain: append `drafts` in order and return the records.

    Takes the chain lock once, so each record's previous_hash is the hash of the record before
    it (the chain's head for the first), signs each with the current records key (HMAC) and
    gives each a verification code no record holds. Raises ImproperlyConfigured, writing
    nothing, when the current key is not configured or does not verify the chain's head.
    Side effects: each person's open assignments for the module, at or below the record's
    version, take the latest completion's dates (one bulk update); the report counts are
    queued to run again soon (report_counts_refresh_soon, once per call). Callers with very
    many records call it in batches of a few thousand, so memory stays flat."""
    if not drafts:
        return []
    # Before anything is written: a missing key stops here with the settings to fix.
    key_id, _ = records_key_current()
    # One writer at a time, so each record's previous_hash is the chain's real head.
    advisory_lock(Lock.COMPLETION_CHAIN)
    head = ModuleCompletion.objects.order_by("-pk").first()
    _chain_head_check(head=head, key_id=key_id)
    previous = head.record_hash if head else ""
    records = []
    for draft, code in zip(drafts, _verification_codes_unused(count=len(drafts)), strict=True):
        record = ModuleCompletion(
            user_id=draft.user_id,
            module_id=draft.module_id,
            module_version=draft.module_version,
            quiz_pass_id=draft.quiz_pass_id,
            attempt_id=draft.attempt_id,
            score=draft.score,
            completed_at=draft.completed_at,
            expires_at=draft.expires_at,
            verification_code=code,
            source=draft.source,
            previous_hash=previous,
            key_id=key_id,
        )
        record.record_hash = previous = record.compute_hash()
        records.append(record)
    # In list order, so primary keys (the order verify_records walks) follow the chain.
    ModuleCompletion.objects.bulk_create(records, batch_size=QUERY_CHUNK)
    _assignments_complete(records=records)
    report_counts_refresh_soon()
    return records


def _chain_head_check(*, head: ModuleCompletion | None, key_id: str) -> None:
    """Refuse to extend a chain whose head the configured keys cannot verify: a wrong or
    dropped key would otherwise sign new records that no later check can tie to the old ones."""
    if head is None or head.is_legacy:
        return
    try:
        valid = head.record_hash == head.compute_hash()
    except RecordsKeyUnknown:
        raise ImproperlyConfigured(
            f"The newest completion record ({head.pk}) was signed with records key "
            f"{head.key_id!r}, which AWARE_RECORDS_KEYS no longer holds: keep every key that "
            "ever signed a record. Nothing was written."
        ) from None
    if not valid:
        raise ImproperlyConfigured(
            f"The newest completion record ({head.pk}) does not verify under records key "
            f"{head.key_id!r}: the key in AWARE_RECORDS_KEYS is wrong, or the record was "
            "altered (run verify_records). Nothing was written."
        )


def _verification_codes_unused(*, count: int) -> list[str]:
    """`count` distinct codes (40 random bits each) that no record holds yet. Call under the
    chain lock, so none is taken between the check and the insert."""
    codes: set[str] = set()
    while len(codes) < count:
        fresh = list({secrets.token_hex(5).upper() for _ in range(count - len(codes))} - codes)
        for start in range(0, len(fresh), QUERY_CHUNK):
            chunk = fresh[start : start + QUERY_CHUNK]
            taken = set(
                ModuleCompletion.objects.filter(verification_code__in=chunk).values_list(
                    "verification_code", flat=True
                )
            )
            codes.update(code for code in chunk if code not in taken)
    return list(codes)


def _assignments_complete(*, records: list[ModuleCompletion]) -> None:
    """Give open assignments the dates of the latest new completion that covers them (same
    person and module, required version at most the record's), as one record at a time would."""
    changed: dict[int, Assignment] = {}
    for start in range(0, len(records), QUERY_CHUNK):
        chunk = records[start : start + QUERY_CHUNK]
        users_by_module: dict[int, set[int]] = defaultdict(set)
        for record in chunk:
            users_by_module[record.module_id].add(record.user_id)
        covers = Q()
        for module_id, user_ids in users_by_module.items():
            covers |= Q(module_id=module_id, user_id__in=user_ids)
        assignments: dict[tuple[int, int], list[Assignment]] = defaultdict(list)
        for fetched in Assignment.objects.open().filter(covers):
            # One updated for an earlier chunk keeps its new dates.
            assignment = changed.get(fetched.pk, fetched)
            assignments[assignment.user_id, assignment.module_id].append(assignment)
        for record in chunk:
            for assignment in assignments[record.user_id, record.module_id]:
                if assignment.required_version > record.module_version:
                    continue
                if assignment.completed_at is None or assignment.completed_at < record.completed_at:
                    assignment_completion_apply(assignment=assignment, completion=record)
                    changed[assignment.pk] = assignment
    rows_update(Assignment, changed.values(), ["completed_at", "valid_until", "recertify_from"])


def add_months(moment: datetime, months: int) -> datetime:
    """The same day-of-month and wall-clock time `months` later (the last day when the month is
    shorter), in local time for an aware `moment`: a completion's expiry, and so its renewal's
    due date, falls on its local anniversary even when the clocks have changed in between."""
    aware = timezone.is_aware(moment)
    local = timezone.localtime(moment).replace(tzinfo=None) if aware else moment
    month_index = local.month - 1 + months
    year, month = local.year + month_index // 12, month_index % 12 + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    later = local.replace(year=year, month=month, day=day)
    return timezone.make_aware(later) if aware else later
