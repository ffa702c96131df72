"""The delta path: someone who completed an earlier version redoes only the lessons the editor
marked as changed and a short quiz on them, and so completes the new version."""

import datetime as dt

import pytest
import time_machine

from quizzes.models import AttemptQuestion
from quizzes.services import attempt_start, attempt_submit
from tests.factories import lessons_of, module_with_lessons
from tests.quizzes.conftest import add_question, finish_lessons, right_answers
from training.models import Assignment, AssignmentRule, Audience, ModuleCompletion, ModuleVersion
from training.selectors import module_progress_for_user
from training.services.assignments import assignments_sync
from training.services.progress import lesson_complete

pytestmark = pytest.mark.django_db


def at(day: str, hour: int = 9) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{hour:02d}:00:00+00:00")


@pytest.fixture
def module(site):
    return module_with_lessons(4)


@pytest.fixture
def quiz(module):
    """Ten questions drawn from a bank of three on each lesson."""
    from quizzes.models import Quiz

    quiz = Quiz.objects.create(module=module, questions_to_draw=10, pass_mark=80)
    for lesson in lessons_of(module):
        for _ in range(3):
            add_question(module, lesson=lesson)
    return quiz


@pytest.fixture
def officers(module):
    audience = Audience.objects.create(name="Officers", slug="officers-d", person_types=["officer"])
    AssignmentRule.objects.create(module=module, audience=audience, due_days=28, valid_months=12)


def take_quiz(user, quiz, when):
    with time_machine.travel(when, tick=False):
        attempt = attempt_start(user=user, quiz=quiz)
        attempt = attempt_submit(attempt=attempt, answers=right_answers(attempt))
    return attempt


def pass_module(user, module, quiz, when):
    with time_machine.travel(when, tick=False):
        finish_lessons(user, module)
    take_quiz(user, quiz, when)


def publish_retake(module, when, changed=()):
    with time_machine.travel(when, tick=False):
        draft = module.get_latest_revision_as_object()
        draft.learners_must_retake = True
        draft.change_note = "New offences under the 2026 Act."
        draft.changed_lessons.set(changed)
        draft.save_revision().publish()
    module.refresh_from_db()


def to_do(user, module) -> list[str]:
    return [
        s.lesson.title
        for s in module_progress_for_user(user=user, module=module).lessons
        if not s.done
    ]


def test_someone_who_passed_v1_redoes_only_the_changed_lessons_and_a_short_quiz(
    module, quiz, officers, user_factory, client
):
    person = user_factory(email="valid@example.gov.uk")
    with time_machine.travel(at("2026-01-05"), tick=False):
        assignments_sync()
    pass_module(person, module, quiz, at("2026-01-10"))
    _, second, third, _ = lessons_of(module)
    publish_retake(module, at("2026-03-01"), changed=[second, third])

    version = ModuleVersion.objects.get(module=module, number=2)
    assert set(version.changed_lessons.all()) == {second, third}
    # The marks do not carry into the next version's draft.
    assert not module.get_latest_revision_as_object().changed_lessons.all()
    assert to_do(person, module) == [second.title, third.title]

    client.force_login(person)
    with time_machine.travel(at("2026-03-02"), tick=False):
        html = client.get(module.url).content.decode()
        my_training = client.get("/my-training/").content.decode()
    assert (
        f"Version 2 changed 2 lessons: {second.title}, {third.title}. Read them again and take "
        "a short quiz (6 questions) by 30 April 2026." in html
    )
    assert html.count('data-testid="lesson-changed"') == 2
    assert f'href="{second.url}"' in my_training

    with time_machine.travel(at("2026-03-05"), tick=False):
        lesson_complete(user=person, lesson=second)
        lesson_complete(user=person, lesson=third)
    assert to_do(person, module) == []
    attempt = take_quiz(person, quiz, at("2026-03-05", 10))

    served = AttemptQuestion.objects.filter(attempt=attempt).select_related("question")
    assert len(served) == 6
    assert {item.question.lesson_id for item in served} == {second.pk, third.pk}
    assert attempt.passed
    completion = ModuleCompletion.objects.filter(user=person).order_by("-pk").first()
    assert completion.module_version == 2
    assert completion.attempt_id == attempt.pk
    assignment = Assignment.objects.open().get(user=person)
    assert assignment.required_version == 2
    assert assignment.completed_at == completion.completed_at
    assert assignment.valid_until == at("2027-03-05", 10)


def test_someone_who_never_completed_v1_takes_the_whole_module(module, quiz, user_factory):
    person = user_factory(email="new@example.gov.uk")
    second = lessons_of(module)[1]
    publish_retake(module, at("2026-03-01"), changed=[second])

    progress = module_progress_for_user(user=person, module=module)
    assert progress.delta is None
    assert len(to_do(person, module)) == 4
    pass_module(person, module, quiz, at("2026-03-05"))
    items = AttemptQuestion.objects.filter(attempt__user=person)
    assert items.count() == 10
    assert ModuleCompletion.objects.get(user=person).module_version == 2


def test_with_no_lessons_marked_everyone_takes_the_whole_module(module, quiz, user_factory):
    person = user_factory(email="valid@example.gov.uk")
    pass_module(person, module, quiz, at("2026-01-10"))
    publish_retake(module, at("2026-03-01"), changed=[])

    assert module_progress_for_user(user=person, module=module).delta is None
    # Lessons ticked for version 1 stay ticked, as before: the whole quiz is asked again.
    attempt = take_quiz(person, quiz, at("2026-03-05"))
    assert attempt.items.count() == 10
    assert ModuleCompletion.objects.filter(user=person, module_version=2).exists()


def test_a_changed_lesson_completed_before_the_publish_does_not_count(module, quiz, user_factory):
    person = user_factory(email="valid@example.gov.uk")
    pass_module(person, module, quiz, at("2026-01-10"))
    second = lessons_of(module)[1]
    publish_retake(module, at("2026-03-01"), changed=[second])

    progress = module_progress_for_user(user=person, module=module)
    assert [s.lesson for s in progress.lessons if not s.done] == [second]
    assert progress.next_lesson == second
    assert progress.delta.questions == 3
    with time_machine.travel(at("2026-03-05"), tick=False):
        from quizzes.services import AttemptNotAllowed

        with pytest.raises(AttemptNotAllowed):
            attempt_start(user=person, quiz=quiz)
        lesson_complete(user=person, lesson=second)
    assert module_progress_for_user(user=person, module=module).all_done


def test_changed_lessons_without_questions_need_only_the_lessons(module, quiz, user_factory):
    person = user_factory(email="valid@example.gov.uk")
    pass_module(person, module, quiz, at("2026-01-10"))
    lesson = lessons_of(module)[0]
    quiz.module.quiz_questions.filter(lesson=lesson).update(retired=True)
    publish_retake(module, at("2026-03-01"), changed=[lesson])

    assert module_progress_for_user(user=person, module=module).delta.questions == 0
    with time_machine.travel(at("2026-03-05"), tick=False):
        lesson_complete(user=person, lesson=lesson)
    completion = ModuleCompletion.objects.filter(user=person).order_by("-pk").first()
    assert completion.module_version == 2
    assert completion.attempt_id is None
