"""What the quizzes hold on one person, for the subject access export and for erasure
(registered on accounts' PERSONAL_DATA_HOOK and PERSONAL_DATA_ERASE_HOOK in wagtail_hooks.py)."""

from datetime import datetime

from accounts.models import User
from accounts.personal_data import PersonalTable
from quizzes.models import Attempt, AttemptGrant, AttemptQuestion, ExtraTime


def quizzes_personal_data(person: User) -> list[PersonalTable]:
    """Each quiz attempt with its score, each question as it was shown with the answers the
    person chose, any extra time they have and extra attempts given. Four queries, whatever the
    number of rows."""
    attempts = PersonalTable(
        name="20-quiz-attempts",
        title="Each assessment you started: when, its score and whether you passed",
        headers=[
            "Attempt",
            "Module",
            "Attempt number",
            "Module version",
            "Pass mark (%)",
            "Status",
            "Started",
            "Finished",
            "Score (%)",
            "Passed",
        ],
        rows=[
            [
                a.pk,
                a.quiz.module.title,
                a.number,
                a.module_version,
                a.pass_mark,
                a.get_status_display(),
                a.started_at,
                a.finished_at,
                a.score,
                a.passed,
            ]
            for a in Attempt.objects.filter(user=person)
            .select_related("quiz__module")
            .order_by("started_at", "pk")
        ],
    )
    answers = PersonalTable(
        name="21-quiz-answers",
        title="Each question you were asked, the answers you chose and whether they were right",
        headers=["Attempt", "Question number", "Question", "Answers chosen", "Right"],
        rows=[
            [
                item.attempt_id,
                item.position,
                item.snapshot.get("text", ""),
                "; ".join(
                    choice["text"]
                    for choice in item.snapshot.get("choices", [])
                    if choice["id"] in (item.selected or [])
                ),
                item.is_correct,
            ]
            for item in AttemptQuestion.objects.filter(attempt__user=person).order_by(
                "attempt__started_at", "attempt_id", "position"
            )
        ],
    )
    extra = PersonalTable(
        name="22-extra-time",
        title="Extra time on timed assessments (an adjustment HR recorded for you)",
        headers=["Extra time (%)", "Note", "Last changed"],
        rows=[[e.percent, e.note, e.updated_at] for e in ExtraTime.objects.filter(user=person)],
    )
    grants = PersonalTable(
        name="23-extra-attempts",
        title="Extra attempts your line manager gave you after you had used yours",
        headers=["Module", "Module version", "After attempts", "Given on"],
        rows=[
            [g.quiz.module.title, g.module_version, g.after_attempts, g.granted_at]
            for g in AttemptGrant.objects.filter(user=person)
            .select_related("quiz__module")
            .order_by("granted_at", "pk")
        ],
    )
    return [attempts, answers, extra, grants]


def quizzes_personal_data_erase(*, person: User, now: datetime) -> dict[str, int]:
    """The quizzes' part of an erasure: the note on an extra-time adjustment (it may say why)
    is cleared. Attempts and answers stay: they are the evidence behind a pass."""
    return {
        "extra_time_notes": ExtraTime.objects.filter(user=person).exclude(note="").update(note="")
    }
