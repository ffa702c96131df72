"""Reads for quizzes: what a learner may do next, attempts and results, item statistics."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Max, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import User
from cms.site_cache import cached
from quizzes.bank_check import (
    CheckChoice,
    CheckQuestion,
    Finding,
    bank_findings,
    bank_statistics,
)
from quizzes.models import (
    Attempt,
    AttemptGrant,
    AttemptQuestion,
    Choice,
    ExtraTime,
    Question,
    QuestionKind,
    Quiz,
    ShowAnswers,
)
from training.models import LessonPage, ModuleCompletion, ModulePage
from training.selectors import (
    ModuleProgress,
    page_is_open_to,
    progress_completion_latest,
)

# Time a submission may take to arrive after the deadline (a slow phone connection).
SUBMIT_GRACE = timedelta(seconds=30)


def quiz_for_module(*, module: ModulePage) -> Quiz | None:
    return Quiz.objects.filter(module=module).first()


def quiz_for_module_shown(*, module: ModulePage) -> Quiz | None:
    """quiz_for_module for the module page: kept in the site cache (cms.site_cache), which
    forgets it whenever an editor publishes a page or saves or deletes a quiz (quizzes.signals).
    Never for an attempt: starting and marking read the database."""
    # A list, so that a module without a quiz is remembered too (the cache never keeps None).
    quizzes = cached(("quiz-of", module.pk), lambda: list(Quiz.objects.filter(module=module)[:1]))
    return quizzes[0] if quizzes else None


def quiz_is_open_to(*, user: User, quiz: Quiz) -> bool:
    """The quiz can be taken only while its module is published and open to this person."""
    module = quiz.module
    return module.live and page_is_open_to(user=user, page=module)


def extra_time_percent(*, user: User) -> int:
    return ExtraTime.objects.filter(user=user).values_list("percent", flat=True).first() or 0


def time_allowed(*, quiz: Quiz, extra_percent: int) -> timedelta | None:
    """The quiz's time limit stretched by the learner's extra-time adjustment, or None."""
    if not quiz.time_limit_minutes:
        return None
    return timedelta(minutes=quiz.time_limit_minutes) * (100 + extra_percent) / 100


def attempt_is_overdue(*, attempt: Attempt, now: datetime) -> bool:
    return attempt.deadline is not None and now > attempt.deadline + SUBMIT_GRACE


def plural(count: int, word: str) -> str:
    """ "1 minute", "3 minutes"."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def local_time(value: datetime) -> str:
    return date_format(timezone.localtime(value), "H:i \\o\\n j F Y")


@dataclass
class QuizStatus:
    """Where a learner stands with a quiz, and why they may not start (no reason: they may)."""

    quiz: Quiz
    attempts: list[Attempt]
    attempts_in_cycle: int
    extra_percent: int
    open_attempt: Attempt | None = None
    reason: str = ""
    passed_attempt: Attempt | None = None
    last_finished: Attempt | None = None
    # When the attempts are used up: when a new set may start (None: only with help).
    retry_at: datetime | None = None
    needs_help: bool = False

    @property
    def attempts_left(self) -> int | None:
        """Attempts left in the current set. A set restarts once its wait is over."""
        allowed = self.quiz.attempts_allowed
        if allowed is None:
            return None
        used = self.attempts_in_cycle % allowed
        if used == 0 and self.attempts_in_cycle:
            # A full set: none left while waiting (or needing help), else a new set begins.
            return 0 if self.retry_at or self.needs_help else allowed
        return allowed - used

    @property
    def can_start(self) -> bool:
        return self.open_attempt is None and not self.reason

    @property
    def time_allowed(self) -> timedelta | None:
        return time_allowed(quiz=self.quiz, extra_percent=self.extra_percent)

    @property
    def rules(self) -> str:
        quiz = self.quiz
        parts = [f"Pass mark {quiz.pass_mark}%.", f"{quiz.questions_to_draw} questions."]
        if quiz.attempts_allowed is None:
            parts.append("As many attempts as you need.")
        else:
            wait = (
                f", then a wait of {plural(quiz.retry_after_hours, 'hour')} before the next set"
                if quiz.retry_after_hours
                else ""
            )
            parts.append(
                f"{plural(quiz.attempts_allowed, 'attempt')} in a row{wait}; you have "
                f"{self.attempts_left} left."
            )
        allowed = self.time_allowed
        if allowed is not None:
            minutes = round(allowed.total_seconds() / 60)
            extra = " (with your extra time)" if self.extra_percent else ""
            parts.append(f"Time limit {plural(minutes, 'minute')}{extra}.")
        return " ".join(parts)

    @property
    def state(self) -> str:
        if self.open_attempt is not None:
            return "You have an attempt in progress."
        if self.passed_attempt is not None:
            finished = date_format(timezone.localtime(self.passed_attempt.finished_at), "j F Y")
            return f"You passed with {self.passed_attempt.score}% on {finished}."
        last = self.last_finished
        if last is not None and last.passed and last.module_version != self.quiz.module.version:
            finished = date_format(timezone.localtime(last.finished_at), "j F Y")
            return (
                f"You passed version {last.module_version} on {finished}. "
                f"Version {self.quiz.module.version} has been published since: take the "
                "assessment again to stay up to date."
            )
        if last is not None:
            return f"Your last attempt scored {last.score}%, which is not a pass."
        return ""

    @property
    def action(self) -> str:
        if self.open_attempt is not None:
            return "Continue the assessment"
        if self.last_finished is not None:
            return "Retake the assessment"
        return "Start the assessment"


@dataclass
class AttemptsLock:
    """How many attempts count against the current set, and whether they are used up: until a
    new set may start (retry_at), or until someone gives another (needs_help)."""

    used: int
    retry_at: datetime | None = None
    needs_help: bool = False

    @property
    def locked(self) -> bool:
        return self.needs_help or self.retry_at is not None


def attempts_cycle(*, quiz: Quiz, items: list, completed_at: datetime | None, at: str) -> list:
    """Attempts (or extra attempts given, with at="granted_at") of the module's current
    version since the learner last completed it: a cycle restarts with each completion."""
    version = quiz.module.version
    return [
        item
        for item in items
        if item.module_version == version
        and (completed_at is None or getattr(item, at) > completed_at)
    ]


def attempts_lock(*, quiz: Quiz, cycle: list[Attempt], granted: int, now: datetime) -> AttemptsLock:
    """Whether a full set of attempts (each extra attempt given takes one back) is used without
    a pass. `cycle` is newest first."""
    lock = AttemptsLock(used=len(cycle) - granted)
    allowed = quiz.attempts_allowed
    if not allowed or lock.used <= 0 or lock.used % allowed:
        return lock
    if not quiz.retry_after_hours:
        lock.needs_help = True
        return lock
    last_in_set = max((a.finished_at for a in cycle[:allowed] if a.finished_at), default=None)
    if last_in_set is not None and now < last_in_set + timedelta(hours=quiz.retry_after_hours):
        lock.retry_at = last_in_set + timedelta(hours=quiz.retry_after_hours)
    return lock


def quiz_status_for_user(
    *, user: User, quiz: Quiz, progress: ModuleProgress, now: datetime
) -> QuizStatus:
    """The learner's attempts, open attempt, cooldown and whether they may start: three queries
    (one more with a time limit: the learner's extra time; one more once a full set of attempts
    is used: the extra attempts given).

    A cycle is the module's current version, restarting after each completion of the module
    (a refresher starts a new cycle): only attempts in the cycle count towards the limit, less
    the extra attempts their line manager gave in it.
    """
    module = quiz.module
    attempts = list(Attempt.objects.filter(quiz=quiz, user=user).order_by("-number"))
    completion = progress_completion_latest(user=user, module=module, progress=progress)
    completed_at = completion.completed_at if completion else None
    cycle = attempts_cycle(quiz=quiz, items=attempts, completed_at=completed_at, at="started_at")
    granted = []
    # An extra attempt is only ever given once a full set is used: before that, none to read.
    if quiz.attempts_allowed and len(cycle) >= quiz.attempts_allowed:
        granted = attempts_cycle(
            quiz=quiz,
            items=list(AttemptGrant.objects.filter(quiz=quiz, user=user)),
            completed_at=completed_at,
            at="granted_at",
        )
    lock = attempts_lock(quiz=quiz, cycle=cycle, granted=len(granted), now=now)
    status = QuizStatus(
        quiz=quiz,
        attempts=attempts,
        attempts_in_cycle=lock.used,
        # Extra time only stretches a time limit: without one there is nothing to read.
        extra_percent=extra_time_percent(user=user) if quiz.time_limit_minutes else 0,
        open_attempt=next((a for a in attempts if a.is_open), None),
        passed_attempt=next(
            (a for a in attempts if a.passed and a.module_version == module.version), None
        ),
        last_finished=next((a for a in attempts if not a.is_open), None),
    )
    last_finish = max((a.finished_at for a in attempts if a.finished_at), default=None)
    cooldown_ends = (
        last_finish + timedelta(minutes=quiz.cooldown_minutes)
        if last_finish and quiz.cooldown_minutes
        else None
    )
    used = plural(quiz.attempts_allowed or 0, "attempt")
    if not quiz_is_open_to(user=user, quiz=quiz):
        status.reason = "This assessment is not open: its module is not published or not for you."
    elif quiz.lessons_first and not progress.all_done:
        status.reason = (
            f"Finish every lesson first; you have {progress.total - progress.done} left. Then "
            "you can take the assessment."
        )
    elif lock.needs_help:
        status.needs_help = True
        status.reason = (
            f"You have used your {used} for this version of the module. Ask "
            f"{module.owning_team} or your line manager for help: they can give you more."
        )
    elif lock.retry_at is not None:
        status.retry_at = lock.retry_at
        status.reason = (
            f"You have used your {used} in a row. You can start a new set from "
            f"{local_time(status.retry_at)}. Until then, revisit the lessons behind the "
            "questions you missed."
        )
    elif cooldown_ends is not None and now < cooldown_ends:
        status.reason = f"You can try again from {local_time(cooldown_ends)}."
    return status


def team_attempts(*, pairs: set[tuple[int, int]], now: datetime) -> dict[tuple[int, int], dict]:
    """For My team: for each (person id, module id) whose module has a quiz with an attempt
    limit, the attempts used of the set, the limit, and whether the person is locked out (and
    until when). Four queries, whatever the number of people."""
    if not pairs:
        return {}
    user_ids = {user_id for user_id, _ in pairs}
    quizzes = {
        quiz.module_id: quiz
        for quiz in Quiz.objects.filter(
            module_id__in={module_id for _, module_id in pairs}, attempts_allowed__isnull=False
        ).select_related("module")
    }
    if not quizzes:
        return {}
    attempts: dict[tuple[int, int], list[Attempt]] = {}
    for attempt in Attempt.objects.filter(quiz__in=quizzes.values(), user_id__in=user_ids).order_by(
        "-number"
    ):
        attempts.setdefault((attempt.user_id, attempt.quiz_id), []).append(attempt)
    grants: dict[tuple[int, int], list[AttemptGrant]] = {}
    for grant in AttemptGrant.objects.filter(quiz__in=quizzes.values(), user_id__in=user_ids):
        grants.setdefault((grant.user_id, grant.quiz_id), []).append(grant)
    completed = dict(
        ((row["user_id"], row["module_id"]), row["last"])
        for row in ModuleCompletion.objects.filter(user_id__in=user_ids, module_id__in=quizzes)
        .values("user_id", "module_id")
        .annotate(last=Max("completed_at"))
    )
    summaries = {}
    for user_id, module_id in pairs:
        quiz = quizzes.get(module_id)
        if quiz is None:
            continue
        completed_at = completed.get((user_id, module_id))
        cycle = attempts_cycle(
            quiz=quiz,
            items=attempts.get((user_id, quiz.pk), []),
            completed_at=completed_at,
            at="started_at",
        )
        granted = attempts_cycle(
            quiz=quiz,
            items=grants.get((user_id, quiz.pk), []),
            completed_at=completed_at,
            at="granted_at",
        )
        lock = attempts_lock(quiz=quiz, cycle=cycle, granted=len(granted), now=now)
        allowed = quiz.attempts_allowed
        summaries[(user_id, module_id)] = {
            "used": allowed if lock.locked else lock.used % allowed,
            "allowed": allowed,
            "locked": lock.locked,
            "retry_at": lock.retry_at,
        }
    return summaries


def attempt_for_user(*, user: User, attempt_id: int) -> Attempt:
    """The learner's own attempt, or 404: nobody can open or submit someone else's."""
    attempt = (
        Attempt.objects.select_related("quiz__module").filter(pk=attempt_id, user=user).first()
    )
    if attempt is None:
        raise Http404("No such attempt.")
    return attempt


def attempt_items(*, attempt: Attempt) -> list[AttemptQuestion]:
    """The attempt's questions in the order they were served: one query, whatever their number."""
    return list(attempt.items.order_by("position"))


@dataclass
class ResultItem:
    position: int
    snapshot: dict
    selected: list[int]
    is_correct: bool
    show_answer: bool

    @property
    def choices(self) -> list[dict]:
        """Each choice with whether the learner chose it; "correct" only if answers are shown."""
        return [
            {
                "text": c["text"],
                "chosen": c["id"] in self.selected,
                "correct": c["correct"] if self.show_answer else None,
                # Feedback on what they chose always; on the rest only with the answers.
                "feedback": c["feedback"] if self.show_answer or c["id"] in self.selected else "",
            }
            for c in self.snapshot["choices"]
        ]


@dataclass
class OutcomeScore:
    """How an attempt went on one learning outcome."""

    number: int
    text: str
    right: int
    asked: int

    @property
    def weak(self) -> bool:
        return self.right < self.asked


@dataclass
class AttemptResult:
    attempt: Attempt
    items: list[ResultItem]
    show_answers: bool
    lessons_to_revisit: list[LessonPage] = field(default_factory=list)
    outcomes: list[OutcomeScore] = field(default_factory=list)

    @property
    def weak_outcomes(self) -> list[OutcomeScore]:
        return [o for o in self.outcomes if o.weak]

    @property
    def correct(self) -> int:
        return sum(1 for i in self.items if i.is_correct)


def attempt_result(*, attempt: Attempt) -> AttemptResult:
    """A finished attempt's marks and feedback, how it went on each learning outcome, and the
    lessons behind wrong answers: 2 queries (the quiz and module already loaded).

    Correct answers and explanations appear only as the quiz's "show correct answers" allows;
    feedback on the options the learner chose always appears.
    """
    show = attempt.quiz.show_answers == ShowAnswers.ALWAYS or bool(attempt.passed)
    items = [
        ResultItem(
            position=item.position,
            snapshot=item.snapshot,
            selected=item.selected,
            is_correct=bool(item.is_correct),
            show_answer=show,
        )
        for item in attempt_items(attempt=attempt)
    ]
    lesson_ids = {i.snapshot.get("lesson_id") for i in items if not i.is_correct} - {None}
    lessons = list(LessonPage.objects.live().filter(pk__in=lesson_ids).order_by("path"))
    texts = [block.value for block in attempt.quiz.module.learning_outcomes]
    asked, right = Counter(), Counter()
    for item in items:
        number = item.snapshot.get("outcome")
        if number and number <= len(texts):
            asked[number] += 1
            right[number] += item.is_correct
    outcomes = [
        OutcomeScore(number=n, text=texts[n - 1], right=right[n], asked=asked[n])
        for n in sorted(asked)
    ]
    return AttemptResult(
        attempt=attempt,
        items=items,
        show_answers=show,
        lessons_to_revisit=lessons,
        outcomes=outcomes,
    )


def question_pool(*, quiz: Quiz) -> QuerySet[Question]:
    """Questions a new attempt may draw: the module's bank, not retired, within the draw tags."""
    pool = Question.objects.filter(module_id=quiz.module_id, retired=False)
    tags = [t.name for t in quiz.draw_tags.all()]
    if tags:
        pool = pool.filter(tags__name__in=tags).distinct()
    return pool


def delta_question_count(*, module: ModulePage, lesson_ids: list[int] | None) -> int:
    """How many questions a delta path's quiz draws: the quiz's count, or fewer when the bank
    has fewer on the changed lessons (`lesson_ids`; None: the whole bank, a refresher's) (0
    without a quiz). Two queries."""
    quiz = Quiz.objects.filter(module=module).first()
    if quiz is None:
        return 0
    pool = question_pool(quiz=quiz)
    if lesson_ids is not None:
        pool = pool.filter(lesson_id__in=lesson_ids)
    return min(quiz.questions_to_draw, pool.count())


def question_last_seen(*, user: User, quiz: Quiz) -> dict[int, datetime]:
    """When the learner was last served each question of this quiz (the start of that
    attempt): one query."""
    rows = (
        AttemptQuestion.objects.filter(attempt__quiz=quiz, attempt__user=user)
        .values("question_id")
        .annotate(last=Max("attempt__started_at"))
    )
    return {row["question_id"]: row["last"] for row in rows}


def question_seen_counts(*, user: User, quiz: Quiz) -> dict[int, int]:
    """How often the learner has been served each question of this quiz: one query."""
    rows = (
        AttemptQuestion.objects.filter(attempt__quiz=quiz, attempt__user=user)
        .values("question_id")
        .annotate(n=Count("pk"))
    )
    return {row["question_id"]: row["n"] for row in rows}


def bank_lookups() -> dict:
    """What checking a bank row needs: module and lesson slugs, question ids and each module's
    number of learning outcomes (five queries)."""
    modules = dict(ModulePage.objects.values_list("slug", "pk"))
    module_by_path = dict(ModulePage.objects.values_list("path", "pk"))
    lessons = {}
    for path, slug, pk in LessonPage.objects.values_list("path", "slug", "pk"):
        module_id = module_by_path.get(path[: -LessonPage.steplen])
        if module_id is not None:
            lessons[(module_id, slug)] = pk
    return {
        "modules": modules,
        "lessons": lessons,
        "question_ids": set(Question.objects.values_list("pk", flat=True)),
        "outcomes": {
            module.pk: len(module.learning_outcomes)
            for module in ModulePage.objects.only("pk", "learning_outcomes")
        },
    }


def question_bank_rows(*, module: ModulePage | None = None) -> list[dict]:
    """The bank (or one module's part of it) as rows for export: three queries in all."""
    questions = Question.objects.select_related("module", "lesson").prefetch_related(
        "choices", "tags"
    )
    if module is not None:
        questions = questions.filter(module=module)
    return [
        {
            "id": q.pk,
            "module": q.module.slug,
            "kind": q.kind,
            "scenario": q.scenario,
            "text": q.text,
            "explanation": q.explanation,
            "tags": sorted(t.name for t in q.tags.all()),
            "service_areas": list(q.service_areas or []),
            "lesson": q.lesson.slug if q.lesson else "",
            "outcome": q.outcome,
            "retired": q.retired,
            "choices": [
                {"text": c.text, "correct": c.is_correct, "feedback": c.feedback}
                for c in q.choices.all()
            ],
        }
        for q in questions.order_by("module__path", "pk")
    ]


# A question is flagged when, after enough answers to mean something, almost nobody gets it right:
# it may be wrongly keyed, ambiguous, or not taught in the lessons.
FLAG_MIN_ANSWERS = 10
FLAG_BELOW_PERCENT = 20


def question_statistics(*, questions: QuerySet[Question]) -> QuerySet[Question]:
    """Annotate each question with how often it was served, marked and answered correctly."""
    return questions.annotate(
        served_count=Count("served", distinct=True),
        marked_count=Count("served", filter=Q(served__is_correct__isnull=False), distinct=True),
        correct_count=Count("served", filter=Q(served__is_correct=True), distinct=True),
    )


@dataclass
class ChoiceCount:
    text: str
    is_correct: bool
    chosen: int


def question_choice_counts(*, questions: list[Question]) -> dict[int, list[ChoiceCount]]:
    """For each question, how often each of its current choices was picked in marked attempts.

    Two queries for any number of questions (choices, then the marked answers).
    """
    ids = [q.pk for q in questions]
    choices = list(Choice.objects.filter(question_id__in=ids).order_by("sort_order", "pk"))
    chosen: Counter[int] = Counter()
    rows = AttemptQuestion.objects.filter(
        question_id__in=ids, is_correct__isnull=False
    ).values_list("selected", flat=True)
    for selected in rows.iterator(chunk_size=2000):
        chosen.update(selected)
    result: dict[int, list[ChoiceCount]] = {pk: [] for pk in ids}
    for choice in choices:
        result[choice.question_id].append(
            ChoiceCount(text=choice.text, is_correct=choice.is_correct, chosen=chosen[choice.pk])
        )
    return result


def percent_correct(*, marked: int, correct: int) -> int | None:
    return round(100 * correct / marked) if marked else None


def is_flagged(*, marked: int, correct: int) -> bool:
    return marked >= FLAG_MIN_ANSWERS and 100 * correct < FLAG_BELOW_PERCENT * marked


@dataclass
class BankCheckReport:
    """One module's bank held to the writing standard (quizzes.bank_check)."""

    quiz: Quiz
    findings: list[Finding]
    statistics: dict

    @property
    def module(self) -> ModulePage:
        return self.quiz.module


def bank_check_questions(
    *, questions: list[Question], lesson_titles: dict[int, str]
) -> list[CheckQuestion]:
    """Questions (choices prefetched) as the bank check sees them, lessons named by title."""
    return [
        CheckQuestion(
            label=str(q.pk),
            kind=q.kind,
            scenario=q.scenario,
            text=q.text,
            outcome=q.outcome,
            lesson=lesson_titles.get(q.lesson_id, ""),
            choices=tuple(CheckChoice(text=c.text, correct=c.is_correct) for c in q.choices.all()),
            feedback_missing=any(not c.feedback.strip() for c in q.choices.all()),
        )
        for q in questions
    ]


def bank_check_all(*, modules: list[ModulePage] | None = None) -> list[BankCheckReport]:
    """Every quiz's bank (the questions a new attempt may draw) checked: four queries."""
    quizzes = Quiz.objects.select_related("module").order_by("module__path")
    if modules is not None:
        quizzes = quizzes.filter(module__in=modules)
    quizzes = list(quizzes)
    questions = (
        Question.objects.filter(module__in=[q.module_id for q in quizzes], retired=False)
        .prefetch_related("choices")
        .order_by("pk")
    )
    by_module: dict[int, list[Question]] = {}
    for question in questions:
        by_module.setdefault(question.module_id, []).append(question)
    lessons: dict[int, list[str]] = {}
    titles: dict[int, str] = {}
    module_by_path = {q.module.path: q.module_id for q in quizzes}
    rows = LessonPage.objects.order_by("path").values_list("path", "pk", "title", "refresher")
    for path, pk, title, refresher in rows:
        module_id = module_by_path.get(path[: -LessonPage.steplen])
        # A refresher lesson is only for renewers: no question needs to send anyone back to it.
        if module_id is not None and not refresher:
            lessons.setdefault(module_id, []).append(title)
            titles[pk] = title
    reports = []
    for quiz in quizzes:
        checked = bank_check_questions(
            questions=by_module.get(quiz.module_id, []), lesson_titles=titles
        )
        outcomes = len(quiz.module.learning_outcomes)
        reports.append(
            BankCheckReport(
                quiz=quiz,
                findings=bank_findings(
                    checked,
                    outcomes=outcomes,
                    lessons=lessons.get(quiz.module_id, []),
                    draw=quiz.questions_to_draw,
                ),
                statistics=bank_statistics(checked, outcomes=outcomes),
            )
        )
    return reports


TOOLBOX_QUESTIONS = 3  # a toolbox talk's check


def toolbox_check_draw(*, module: ModulePage) -> dict | None:
    """Three questions for a toolbox talk's check, drawn at random from the module's live bank
    (those with one right answer, which a crew answers in turn on one screen), with the quiz's
    pass mark; None when the module has no quiz or too few such questions."""
    quiz = quiz_for_module(module=module)
    if quiz is None:
        return None
    questions = list(
        Question.objects.filter(
            module=module,
            retired=False,
            kind__in=[QuestionKind.SINGLE, QuestionKind.TRUE_FALSE, QuestionKind.SCENARIO],
        )
        .order_by("?")
        .prefetch_related("choices")[:TOOLBOX_QUESTIONS]
    )
    if len(questions) < TOOLBOX_QUESTIONS:
        return None
    return {
        "pass_mark": quiz.pass_mark,
        "questions": [
            {
                "scenario": question.scenario,
                "text": question.text,
                "choices": [
                    {"text": choice.text, "correct": choice.is_correct}
                    for choice in question.choices.all()
                ],
            }
            for question in questions
        ],
    }
