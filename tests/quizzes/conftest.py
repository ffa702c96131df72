"""Builders for quiz tests: a module with a quiz and a bank of questions of a known shape."""

import pytest

from quizzes.models import Choice, Question, QuestionKind, Quiz
from tests.factories import lessons_of, module_with_lessons
from training.services.progress import lesson_complete


def add_question(
    module,
    *,
    kind: str = QuestionKind.SINGLE,
    text: str = "",
    service_areas=(),
    tags=(),
    lesson=None,
    choices: int = 3,
    correct: tuple[int, ...] = (0,),
) -> Question:
    """A question whose choices are "Right …" when correct and "Wrong …" otherwise."""
    number = Question.objects.count() + 1
    question = Question.objects.create(
        module=module,
        kind=kind,
        scenario="You visit a flat and see…" if kind == QuestionKind.SCENARIO else "",
        text=text or f"Question {number}?",
        explanation=f"Explanation {number}.",
        service_areas=list(service_areas),
        lesson=lesson,
    )
    if tags:
        question.tags.add(*tags)
        question.save()
    for i in range(choices):
        Choice.objects.create(
            question=question,
            sort_order=i,
            text=f"{'Right' if i in correct else 'Wrong'} {number}.{i}",
            is_correct=i in correct,
            feedback=f"Feedback {number}.{i}",
        )
    return question


def quiz_for(module, *, questions: int = 5, **fields) -> Quiz:
    """A quiz on the module drawing every question by default, with a bank of single choices."""
    fields.setdefault("questions_to_draw", questions)
    fields.setdefault("pass_mark", 80)
    quiz = Quiz.objects.create(module=module, **fields)
    lesson = lessons_of(module)[0] if lessons_of(module) else None
    for _ in range(questions):
        add_question(module, lesson=lesson)
    return quiz


def right_answers(attempt) -> dict[int, list[int]]:
    return {
        item.question_id: [c["id"] for c in item.snapshot["choices"] if c["correct"]]
        for item in attempt.items.all()
    }


def wrong_answers(attempt) -> dict[int, list[int]]:
    return {
        item.question_id: [next(c["id"] for c in item.snapshot["choices"] if not c["correct"])]
        for item in attempt.items.all()
    }


def form_data(attempt, answers: dict[int, list[int]], action: str = "submit") -> dict:
    """The POST a browser sends: each chosen choice by its place (1, 2, 3…) on the page."""
    places = {
        c["id"]: str(n)
        for item in attempt.items.all()
        for n, c in enumerate(item.snapshot["choices"], start=1)
    }
    return {
        "action": action,
        **{f"answer-{q}": [places[c] for c in ids] for q, ids in answers.items()},
    }


def finish_lessons(user, module) -> None:
    for lesson in lessons_of(module):
        lesson_complete(user=user, lesson=lesson)


@pytest.fixture
def module(site):
    return module_with_lessons(2)


@pytest.fixture
def quiz(module):
    return quiz_for(module, questions=5)


@pytest.fixture
def learner(user_factory):
    return user_factory(email="learner@example.gov.uk", full_name="Alex Morgan")


@pytest.fixture
def ready_learner(learner, module):
    """A learner who has finished the module's lessons, so may take its quiz."""
    finish_lessons(learner, module)
    return learner


@pytest.fixture
def learner_client(client, ready_learner):
    client.force_login(ready_learner)
    return client
