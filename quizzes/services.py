"""Writes for quizzes: starting attempts (a fixed snapshot), saving answers, marking, reporting."""

import random
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from cms.audit import ACTION_ATTEMPT_GRANT, audit_record
from quizzes.bank import CleanRow, RowError, row_clean
from quizzes.grading import (
    Candidate,
    fresh_draw_candidates,
    is_pass,
    item_is_correct,
    questions_draw,
    score_percent,
)
from quizzes.models import (
    Attempt,
    AttemptGrant,
    AttemptQuestion,
    AttemptStatus,
    Choice,
    Question,
    QuestionKind,
    Quiz,
)
from quizzes.selectors import (
    attempt_is_overdue,
    attempt_items,
    bank_lookups,
    question_last_seen,
    question_pool,
    question_seen_counts,
    quiz_is_open_to,
    quiz_status_for_user,
    time_allowed,
)
from training.selectors import module_progress_for_user
from training.services.completion import quiz_pass_record

Answers = dict[int, list[int]]  # question id -> chosen choice ids


class QuizUnavailable(Exception):
    """The quiz's module is not published, or not open to this person: nothing is recorded."""


class AttemptNotAllowed(Exception):
    """Starting now is against the quiz's rules (attempts used, cooldown, lessons first)."""


class AnswersRejected(Exception):
    """The answers do not fit the attempt (forged or stale form): nothing is recorded."""


def answers_problems(*, items: list[AttemptQuestion], answers: Answers) -> list[str]:
    """Why the answers cannot belong to this attempt; empty when every part is one it served."""
    served = {item.question_id: item for item in items}
    problems = []
    for question_id, choice_ids in answers.items():
        item = served.get(question_id)
        if item is None:
            problems.append("An answer was sent for a question that is not in this attempt.")
            continue
        allowed = {c["id"] for c in item.snapshot["choices"]}
        if not set(choice_ids) <= allowed:
            problems.append(f"Question {item.position}: that answer is not one of its choices.")
        elif item.snapshot["kind"] != QuestionKind.MULTIPLE and len(choice_ids) > 1:
            problems.append(f"Question {item.position}: choose only one answer.")
    return problems


def question_snapshot(*, question: Question, rng: random.Random, shuffle: bool) -> dict:
    """What the learner is shown and marked against, frozen for this attempt."""
    choices = list(question.choices.all())  # prefetched, in the editor's order
    if shuffle and question.kind != QuestionKind.TRUE_FALSE:
        rng.shuffle(choices)
    return {
        "kind": question.kind,
        "scenario": question.scenario,
        "text": question.text,
        "explanation": question.explanation,
        "lesson_id": question.lesson_id,
        "outcome": question.outcome,
        "choices": [
            {"id": c.pk, "text": c.text, "correct": c.is_correct, "feedback": c.feedback}
            for c in choices
        ],
    }


def quiz_check_available(*, user: User, quiz: Quiz) -> None:
    if not quiz_is_open_to(user=user, quiz=quiz):
        raise QuizUnavailable(
            "This assessment is not open: its module is not published or not for you. "
            "Nothing was recorded."
        )


@transaction.atomic
def attempt_start(
    *, user: User, quiz: Quiz, now: datetime | None = None, rng: random.Random | None = None
) -> Attempt:
    """Start an attempt: draw its questions and fix their order and choice order on the server.

    An attempt already in progress is returned instead (reloads and double clicks start nothing);
    one whose time has run out is closed and marked first. On a delta path: an update (someone
    who completed an earlier version) draws only questions on the changed lessons; a refresher
    (someone renewing) draws afresh, none of the questions they were asked before where the
    bank has enough (else the least recently seen). Raises QuizUnavailable or AttemptNotAllowed,
    recording nothing.
    """
    now = now or timezone.now()
    rng = rng or random.SystemRandom()
    quiz_check_available(user=user, quiz=quiz)
    open_attempt = (
        Attempt.objects.select_for_update()
        .filter(quiz=quiz, user=user, status=AttemptStatus.IN_PROGRESS)
        .first()
    )
    if open_attempt is not None:
        if not attempt_is_overdue(attempt=open_attempt, now=now):
            return open_attempt
        attempt_expire(attempt=open_attempt, now=now)
    progress = module_progress_for_user(user=user, module=quiz.module)
    status = quiz_status_for_user(user=user, quiz=quiz, progress=progress, now=now)
    if status.reason:
        raise AttemptNotAllowed(status.reason)
    candidates = question_pool(quiz=quiz)
    delta = progress.delta
    if delta is not None and delta.question_lesson_ids is not None:
        # An update's short quiz: only questions on the lessons changed since their version.
        candidates = candidates.filter(lesson_id__in=delta.question_lesson_ids)
    pool = {q.pk: q for q in candidates.prefetch_related("choices") if len(q.choices.all()) >= 2}
    if not pool:
        raise AttemptNotAllowed("This assessment has no questions yet. Nothing was recorded.")
    drawable = [Candidate(q.pk, tuple(q.service_areas or ()), q.outcome) for q in pool.values()]
    if delta is not None and delta.refresher:
        drawable, seen = fresh_draw_candidates(
            candidates=drawable,
            count=quiz.questions_to_draw,
            last_seen=question_last_seen(user=user, quiz=quiz),
        )
    else:
        seen = question_seen_counts(user=user, quiz=quiz)
    drawn = questions_draw(
        candidates=drawable,
        count=quiz.questions_to_draw,
        seen=seen,
        service_area=user.service_area,
        rng=rng,
    )
    if quiz.shuffle_questions:
        rng.shuffle(drawn)
    else:
        drawn.sort()
    allowed = time_allowed(quiz=quiz, extra_percent=status.extra_percent)
    try:
        with transaction.atomic():
            attempt = Attempt.objects.create(
                quiz=quiz,
                user=user,
                number=(status.attempts[0].number + 1) if status.attempts else 1,
                module_version=quiz.module.version,
                pass_mark=quiz.pass_mark,
                started_at=now,
                deadline=now + allowed if allowed else None,
            )
            AttemptQuestion.objects.bulk_create(
                AttemptQuestion(
                    attempt=attempt,
                    question_id=question_id,
                    position=position,
                    snapshot=question_snapshot(
                        question=pool[question_id], rng=rng, shuffle=quiz.shuffle_choices
                    ),
                )
                for position, question_id in enumerate(drawn, start=1)
            )
    except IntegrityError:
        # Another request (a second tab, a double click) started one first: use that one.
        return Attempt.objects.get(quiz=quiz, user=user, status=AttemptStatus.IN_PROGRESS)
    return attempt


def _attempt_open_items(
    *, attempt: Attempt, answers: Answers, now: datetime
) -> tuple[Attempt, list[AttemptQuestion] | None]:
    """Lock the attempt and check answers can go into it now.

    Returns the attempt and its items, or the attempt and None when it is already finished (a
    double submit waits on the lock, then sees that) or its time ran out (it is closed here).
    Raises QuizUnavailable or AnswersRejected.
    """
    attempt = Attempt.objects.select_for_update().select_related("quiz__module").get(pk=attempt.pk)
    if not attempt.is_open:
        return attempt, None
    quiz_check_available(user=attempt.user, quiz=attempt.quiz)
    if attempt_is_overdue(attempt=attempt, now=now):
        return attempt_expire(attempt=attempt, now=now), None
    items = attempt_items(attempt=attempt)
    problems = answers_problems(items=items, answers=answers)
    if problems:
        raise AnswersRejected(" ".join(problems))
    return attempt, items


@transaction.atomic
def attempt_answers_save(
    *, attempt: Attempt, answers: Answers, now: datetime | None = None
) -> Attempt:
    """Keep the learner's answers so far without marking them (to finish later, or in time).

    After the time limit nothing is saved and the attempt is closed and marked instead.
    Raises AnswersRejected or QuizUnavailable, saving nothing.
    """
    attempt, items = _attempt_open_items(
        attempt=attempt, answers=answers, now=now or timezone.now()
    )
    if items is not None:
        for item in items:
            item.selected = sorted(set(answers.get(item.question_id, [])))
        AttemptQuestion.objects.bulk_update(items, ["selected"])
    return attempt


@transaction.atomic
def attempt_submit(*, attempt: Attempt, answers: Answers, now: datetime | None = None) -> Attempt:
    """Mark the attempt on the server and, on a pass, report it to training.

    Submitting a finished attempt again (a double click) returns it unchanged. A submission
    arriving after the time limit (plus a short grace for slow connections) is not accepted:
    the attempt closes as "time ran out" and is marked on the answers saved before then.
    Raises AnswersRejected or QuizUnavailable, recording nothing.
    """
    now = now or timezone.now()
    attempt, items = _attempt_open_items(attempt=attempt, answers=answers, now=now)
    if items is None:
        return attempt
    missing = [item.position for item in items if not answers.get(item.question_id)]
    if missing:
        raise AnswersRejected(f"Questions not answered: {', '.join(map(str, missing))}.")
    for item in items:
        item.selected = sorted(set(answers[item.question_id]))
    return _attempt_mark(attempt=attempt, items=items, status=AttemptStatus.SUBMITTED, now=now)


def attempt_expire(*, attempt: Attempt, now: datetime | None = None) -> Attempt:
    """Close an attempt whose time has run out, marking the answers saved before the deadline."""
    now = now or timezone.now()
    return _attempt_mark(
        attempt=attempt, items=attempt_items(attempt=attempt), status=AttemptStatus.EXPIRED, now=now
    )


def _attempt_mark(
    *, attempt: Attempt, items: list[AttemptQuestion], status: str, now: datetime
) -> Attempt:
    for item in items:
        correct = [c["id"] for c in item.snapshot["choices"] if c["correct"]]
        item.is_correct = item_is_correct(selected=item.selected, correct=correct)
    AttemptQuestion.objects.bulk_update(items, ["selected", "is_correct"])
    right = sum(1 for item in items if item.is_correct)
    attempt.score = score_percent(correct=right, total=len(items))
    attempt.passed = is_pass(correct=right, total=len(items), pass_mark=attempt.pass_mark)
    attempt.status = status
    attempt.finished_at = now
    attempt.save(update_fields=["score", "passed", "status", "finished_at"])
    if attempt.passed:
        quiz_pass_record(
            user=attempt.user,
            module=attempt.quiz.module,
            score=attempt.score,
            attempt_id=attempt.pk,
            module_version=attempt.module_version,
            now=now,
        )
    return attempt


class GrantRefused(Exception):
    """No extra attempt was given; the message says why."""


def attempt_grant(*, user: User, quiz: Quiz, by: User, now: datetime | None = None) -> AttemptGrant:
    """Give a learner who is locked out of a quiz's attempts one more (their line manager, from
    My team), recorded in the audit trail. Once per lock: a double submit or a second manager
    gets the grant already made. Raises GrantRefused when they are not locked out."""
    now = now or timezone.now()
    progress = module_progress_for_user(user=user, module=quiz.module)
    status = quiz_status_for_user(user=user, quiz=quiz, progress=progress, now=now)
    # Attempts only ever grow: how many there are names the lock being answered.
    key = {
        "quiz": quiz,
        "user": user,
        "module_version": quiz.module.version,
        "after_attempts": len(status.attempts),
    }
    already = AttemptGrant.objects.filter(**key).first()
    if already is not None:  # the same lock, answered a moment ago
        return already
    if not (status.needs_help or status.retry_at):
        raise GrantRefused(
            f"{user.full_name} still has attempts left at “{quiz.module.title}”, so there is "
            "no need for another. Nothing was changed."
        )
    try:
        with transaction.atomic():
            grant = AttemptGrant.objects.create(**key, granted_by=by, granted_at=now)
            audit_record(
                instance=grant,
                action=ACTION_ATTEMPT_GRANT,
                user=by,
                person=user.full_name,
                module=quiz.module.title,
            )
    except IntegrityError:
        return AttemptGrant.objects.get(**key)
    return grant


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        if self.errors:
            return (
                f"Nothing was imported: {len(self.errors)} row(s) have problems. Fix them and "
                "upload the file again."
            )
        verb = "would be" if self.dry_run else "were"
        return (
            f"{self.created} question(s) {verb} added, {self.updated} {verb} updated and "
            f"{self.unchanged} unchanged."
        )


def question_differs(*, question: Question, row: CleanRow) -> bool:
    """Whether writing the row would change the question (its choices and tags prefetched)."""
    return (
        any(getattr(question, key) != value for key, value in _question_fields(row).items())
        or sorted(t.name for t in question.tags.all()) != sorted(row.tags)
        or [(c.text, c.is_correct, c.feedback) for c in question.choices.all()]
        != [(c["text"], c["correct"], c["feedback"]) for c in row.choices]
    )


def _question_fields(row: CleanRow) -> dict:
    return {
        "module_id": row.module_id,
        "kind": row.kind,
        "scenario": row.scenario,
        "text": row.text,
        "explanation": row.explanation,
        "service_areas": row.service_areas,
        "lesson_id": row.lesson_id,
        "outcome": row.outcome,
        "retired": row.retired,
    }


def question_write(
    *, question: Question | None, row: CleanRow, source_key: str = "", source_hash: str = ""
) -> Question:
    """Create or update one question and its choices from a checked row.

    Choices are updated in place by position, so item statistics keep following them. The
    starter content loader passes the row's fingerprint as `source_hash`; any other write
    leaves the one recorded, so the loader can tell the question has been changed.
    """
    existing = [] if question is None else list(question.choices.all())
    question = question or Question(source_key=source_key or None)
    if source_hash:
        question.source_hash = source_hash
    for key, value in _question_fields(row).items():
        setattr(question, key, value)
    question.tags.set(row.tags)  # a ClusterableModel keeps them until it is saved
    question.save()
    for position, spec in enumerate(row.choices):
        choice = existing[position] if position < len(existing) else Choice(question=question)
        choice.text, choice.is_correct = spec["text"], spec["correct"]
        choice.feedback, choice.sort_order = spec["feedback"], position
        choice.save()
    Choice.objects.filter(pk__in=[c.pk for c in existing[len(row.choices) :]]).delete()
    return question


@transaction.atomic
def question_bank_import(*, rows: list[tuple[str, dict]], dry_run: bool = False) -> ImportReport:
    """Add or update bank questions from labelled rows (see quizzes.bank).

    All or nothing: if any row has a problem, nothing is written and every bad row is reported.
    With dry_run, checks and counts without writing.
    """
    lookups = bank_lookups()
    report = ImportReport(dry_run=dry_run)
    cleaned: list[CleanRow] = []
    ids: set[int] = set()
    for label, raw in rows:
        row = row_clean(raw, label=label, **lookups)
        if isinstance(row, CleanRow) and row.id is not None and row.id in ids:
            row = RowError(row=label, messages=[f"Question id {row.id} appears twice."])
        if isinstance(row, RowError):
            report.errors.append(row)
            continue
        cleaned.append(row)
        if row.id is not None:
            ids.add(row.id)
    if report.errors:
        return report
    existing = Question.objects.prefetch_related("choices", "tags").in_bulk(ids)
    for row in cleaned:
        question = existing.get(row.id) if row.id is not None else None
        if question is None:
            report.created += 1
        elif question_differs(question=question, row=row):
            report.updated += 1
        else:
            report.unchanged += 1
            continue
        if not dry_run:
            question_write(question=question, row=row)
    return report
