"""Starting, saving and submitting attempts through the services: draws, rules and marking."""

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import ServiceArea
from quizzes.models import Attempt, AttemptQuestion, AttemptStatus, ExtraTime, QuestionKind
from quizzes.selectors import quiz_status_for_user
from quizzes.services import (
    AnswersRejected,
    AttemptNotAllowed,
    QuizUnavailable,
    attempt_answers_save,
    attempt_start,
    attempt_submit,
)
from tests.quizzes.conftest import add_question, quiz_for, right_answers, wrong_answers
from training.models import ModuleCompletion, QuizPass
from training.selectors import module_progress_for_user

pytestmark = pytest.mark.django_db


def served_ids(attempt) -> set[int]:
    return set(attempt.items.values_list("question_id", flat=True))


def test_an_attempt_fixes_its_questions_and_order_on_the_server(quiz, ready_learner):
    attempt = attempt_start(user=ready_learner, quiz=quiz)

    items = list(attempt.items.order_by("position"))
    assert [i.position for i in items] == [1, 2, 3, 4, 5]
    assert len(served_ids(attempt)) == 5
    assert attempt.module_version == quiz.module.version
    assert attempt.pass_mark == 80
    # Starting again while it is open returns the same attempt, questions and choice order.
    again = attempt_start(user=ready_learner, quiz=quiz)
    assert again.pk == attempt.pk
    assert [i.snapshot for i in again.items.order_by("position")] == [i.snapshot for i in items]
    assert Attempt.objects.count() == 1


def test_shuffling_orders_questions_and_choices_but_true_or_false_keeps_true_first(
    module, ready_learner
):
    quiz = quiz_for(module, questions=0, questions_to_draw=8)
    for _ in range(7):
        add_question(module, choices=5)
    add_question(module, kind=QuestionKind.TRUE_FALSE, choices=2, correct=(1,))

    orders = set()
    for seed in range(5):
        attempt = attempt_start(user=ready_learner, quiz=quiz, rng=random.Random(seed))
        orders.add(tuple(attempt.items.order_by("position").values_list("question", flat=True)))
        for item in attempt.items.all():
            texts = [c["text"] for c in item.snapshot["choices"]]
            if item.snapshot["kind"] == QuestionKind.TRUE_FALSE:
                assert texts[0].startswith("Wrong")
                assert texts[1].startswith("Right")
        attempt_submit(attempt=attempt, answers=right_answers(attempt))
    assert len(orders) > 1


def test_without_shuffling_the_bank_order_is_kept(module, ready_learner):
    quiz = quiz_for(module, questions=4, shuffle_questions=False, shuffle_choices=False)

    attempt = attempt_start(user=ready_learner, quiz=quiz)

    items = list(attempt.items.order_by("position"))
    assert [i.question_id for i in items] == sorted(i.question_id for i in items)
    for item in items:
        assert [c["text"][:5] for c in item.snapshot["choices"]] == ["Right", "Wrong", "Wrong"]


def test_a_retake_prefers_questions_not_seen_before(module, ready_learner):
    quiz = quiz_for(module, questions=15, questions_to_draw=10)
    first = attempt_start(user=ready_learner, quiz=quiz)
    attempt_submit(attempt=first, answers=wrong_answers(first))

    second = attempt_start(user=ready_learner, quiz=quiz)

    unseen = set(quiz.module.quiz_questions.values_list("pk", flat=True)) - served_ids(first)
    assert len(unseen) == 5
    assert unseen <= served_ids(second)
    assert second.number == 2


def test_the_draw_includes_the_learners_service_area(module, ready_learner):
    ready_learner.service_area = ServiceArea.WASTE
    ready_learner.save()
    quiz = quiz_for(module, questions=20, questions_to_draw=5)
    waste = add_question(module, service_areas=[ServiceArea.WASTE])

    for _ in range(3):
        attempt = attempt_start(user=ready_learner, quiz=quiz)
        assert waste.pk in served_ids(attempt)
        attempt_submit(attempt=attempt, answers=wrong_answers(attempt))


def test_draw_tags_limit_the_pool_and_retired_questions_are_never_drawn(module, ready_learner):
    quiz = quiz_for(module, questions=0, questions_to_draw=10)
    tagged = {add_question(module, tags=["cuckooing"]).pk for _ in range(3)}
    add_question(module, tags=["other"])
    retired = add_question(module, tags=["cuckooing"])
    retired.retired = True
    retired.save()
    quiz.draw_tags.add("cuckooing")
    quiz.save()

    attempt = attempt_start(user=ready_learner, quiz=quiz)

    assert served_ids(attempt) == tagged


def test_all_correct_passes_reports_to_training_and_completes_the_module(quiz, ready_learner):
    attempt = attempt_start(user=ready_learner, quiz=quiz)

    attempt = attempt_submit(attempt=attempt, answers=right_answers(attempt))

    assert (attempt.status, attempt.score, attempt.passed) == (AttemptStatus.SUBMITTED, 100, True)
    quiz_pass = QuizPass.objects.get(attempt_id=attempt.pk)
    assert (quiz_pass.score, quiz_pass.module_version) == (100, attempt.module_version)
    completion = ModuleCompletion.objects.get(user=ready_learner)
    assert completion.quiz_pass == quiz_pass


def test_a_fail_is_marked_and_reports_nothing(quiz, ready_learner):
    attempt = attempt_start(user=ready_learner, quiz=quiz)
    answers = right_answers(attempt)
    first_two = list(answers)[:2]
    answers.update({q: wrong_answers(attempt)[q] for q in first_two})

    attempt = attempt_submit(attempt=attempt, answers=answers)

    assert (attempt.score, attempt.passed) == (60, False)
    assert attempt.items.filter(is_correct=False).count() == 2
    assert not QuizPass.objects.exists()


def test_multiple_response_needs_exactly_the_right_set(module, ready_learner):
    quiz = quiz_for(module, questions=0, questions_to_draw=1)
    add_question(module, kind=QuestionKind.MULTIPLE, choices=4, correct=(0, 1))
    attempt = attempt_start(user=ready_learner, quiz=quiz)
    item = attempt.items.get()
    right = [c["id"] for c in item.snapshot["choices"] if c["correct"]]

    marked = attempt_submit(attempt=attempt, answers={item.question_id: right[:1]})

    assert marked.score == 0


def test_a_pass_on_an_older_version_does_not_complete_the_new_one(quiz, ready_learner):
    attempt = attempt_start(user=ready_learner, quiz=quiz)
    module = quiz.module
    draft = module.get_latest_revision_as_object()
    draft.learners_must_retake = True
    draft.save_revision().publish()

    attempt_submit(attempt=attempt, answers=right_answers(attempt))

    assert QuizPass.objects.get().module_version == 1
    assert not ModuleCompletion.objects.exists()


def test_a_second_submit_returns_the_first_result_and_records_nothing(quiz, ready_learner):
    attempt = attempt_start(user=ready_learner, quiz=quiz)
    first = attempt_submit(attempt=attempt, answers=right_answers(attempt))

    again = attempt_submit(attempt=attempt, answers=wrong_answers(attempt))

    assert (again.pk, again.score, again.finished_at) == (first.pk, 100, first.finished_at)
    assert attempt.items.filter(is_correct=True).count() == 5
    assert QuizPass.objects.count() == ModuleCompletion.objects.count() == 1


def test_forged_answers_are_rejected_and_record_nothing(module, quiz, ready_learner):
    attempt = attempt_start(user=ready_learner, quiz=quiz)
    answers = right_answers(attempt)
    outsider = add_question(module)
    other_choice = outsider.choices.first().pk
    first_question = next(iter(answers))

    for forged in [
        {**answers, outsider.pk: [other_choice]},  # a question not served
        {**answers, first_question: [other_choice]},  # a choice of another question
        {**answers, first_question: [*answers[first_question], 999999]},
    ]:
        with pytest.raises(AnswersRejected):
            attempt_submit(attempt=attempt, answers=forged)
        with pytest.raises(AnswersRejected):
            attempt_answers_save(attempt=attempt, answers=forged)

    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.IN_PROGRESS
    assert not attempt.items.exclude(selected=[]).exists()
    assert not attempt.items.filter(is_correct__isnull=False).exists()


def test_an_incomplete_submission_is_rejected(quiz, ready_learner):
    attempt = attempt_start(user=ready_learner, quiz=quiz)
    answers = right_answers(attempt)
    answers.popitem()

    with pytest.raises(AnswersRejected, match="not answered"):
        attempt_submit(attempt=attempt, answers=answers)
    assert Attempt.objects.get().is_open


def test_a_set_of_attempts_is_followed_by_a_wait_then_a_new_set(
    module, ready_learner, time_machine
):
    quiz = quiz_for(module, questions=3, attempts_allowed=2, retry_after_hours=24)
    start = timezone.now()
    time_machine.move_to(start, tick=False)
    for _ in range(2):
        attempt = attempt_start(user=ready_learner, quiz=quiz)
        attempt_submit(attempt=attempt, answers=wrong_answers(attempt))

    time_machine.move_to(start + timedelta(hours=23, minutes=59), tick=False)
    with pytest.raises(AttemptNotAllowed, match="You can start a new set from"):
        attempt_start(user=ready_learner, quiz=quiz)
    assert Attempt.objects.count() == 2

    time_machine.move_to(start + timedelta(hours=24, minutes=1), tick=False)
    progress = module_progress_for_user(user=ready_learner, module=module)
    status = quiz_status_for_user(
        user=ready_learner, quiz=quiz, progress=progress, now=timezone.now()
    )
    assert (status.can_start, status.attempts_left) == (True, 2)
    assert attempt_start(user=ready_learner, quiz=quiz).number == 3


def test_the_attempt_limit_is_per_cycle(module, ready_learner):
    quiz = quiz_for(module, questions=3, attempts_allowed=2, retry_after_hours=None)
    for _ in range(2):
        attempt = attempt_start(user=ready_learner, quiz=quiz)
        attempt_submit(attempt=attempt, answers=wrong_answers(attempt))

    with pytest.raises(AttemptNotAllowed, match=r"used your 2 attempts .* Ask Counter-fraud team"):
        attempt_start(user=ready_learner, quiz=quiz)
    assert Attempt.objects.count() == 2

    # A new version of the module (learners must retake) starts a new cycle.
    draft = module.get_latest_revision_as_object()
    draft.learners_must_retake = True
    draft.save_revision().publish()
    quiz.module.refresh_from_db()
    assert attempt_start(user=ready_learner, quiz=quiz).module_version == 2


def test_no_new_attempt_inside_the_cooldown(module, ready_learner, time_machine):
    quiz = quiz_for(module, questions=3, cooldown_minutes=60)
    start = timezone.now()
    time_machine.move_to(start, tick=False)
    attempt = attempt_start(user=ready_learner, quiz=quiz)
    attempt_submit(attempt=attempt, answers=wrong_answers(attempt))

    time_machine.move_to(start + timedelta(minutes=59), tick=False)
    with pytest.raises(AttemptNotAllowed, match="try again from"):
        attempt_start(user=ready_learner, quiz=quiz)
    assert Attempt.objects.count() == 1

    time_machine.move_to(start + timedelta(minutes=61), tick=False)
    assert attempt_start(user=ready_learner, quiz=quiz).number == 2


def test_lessons_first_blocks_the_start_until_lessons_are_done(module, learner):
    quiz = quiz_for(module, questions=3)

    with pytest.raises(AttemptNotAllowed, match="Finish every lesson first"):
        attempt_start(user=learner, quiz=quiz)
    quiz.lessons_first = False
    quiz.save()
    assert attempt_start(user=learner, quiz=quiz).number == 1


def test_a_quiz_of_an_unpublished_module_records_nothing(quiz, ready_learner):
    attempt = attempt_start(user=ready_learner, quiz=quiz)
    quiz.module.unpublish()
    quiz.module.refresh_from_db()

    with pytest.raises(QuizUnavailable):
        attempt_submit(attempt=attempt, answers=right_answers(attempt))
    with pytest.raises(QuizUnavailable):
        attempt_start(user=ready_learner, quiz=quiz)
    assert Attempt.objects.get().is_open
    assert not QuizPass.objects.exists()


def test_after_the_time_limit_only_saved_answers_are_marked(module, ready_learner, time_machine):
    quiz = quiz_for(module, questions=5, time_limit_minutes=10)
    start = timezone.now()
    time_machine.move_to(start, tick=False)
    attempt = attempt_start(user=ready_learner, quiz=quiz)
    assert attempt.deadline == start + timedelta(minutes=10)
    right = right_answers(attempt)
    saved = dict(list(right.items())[:4])
    time_machine.move_to(start + timedelta(minutes=9), tick=False)
    attempt_answers_save(attempt=attempt, answers=saved)

    time_machine.move_to(start + timedelta(minutes=12), tick=False)
    marked = attempt_submit(attempt=attempt, answers=right)

    assert marked.status == AttemptStatus.EXPIRED
    assert (marked.score, marked.passed) == (80, True)
    assert AttemptQuestion.objects.filter(attempt=attempt, selected=[]).count() == 1
    assert QuizPass.objects.get().attempt_id == attempt.pk


def test_extra_time_stretches_the_limit(module, ready_learner, time_machine):
    quiz = quiz_for(module, questions=2, time_limit_minutes=20)
    ExtraTime.objects.create(user=ready_learner, percent=50)
    start = timezone.now()
    time_machine.move_to(start, tick=False)

    attempt = attempt_start(user=ready_learner, quiz=quiz)

    assert attempt.deadline == start + timedelta(minutes=30)
    time_machine.move_to(start + timedelta(minutes=25), tick=False)
    assert attempt_submit(attempt=attempt, answers=right_answers(attempt)).status == (
        AttemptStatus.SUBMITTED
    )


def test_an_overdue_open_attempt_is_closed_before_a_new_one_starts(
    module, ready_learner, time_machine
):
    quiz = quiz_for(module, questions=2, time_limit_minutes=5)
    start = timezone.now()
    time_machine.move_to(start, tick=False)
    first = attempt_start(user=ready_learner, quiz=quiz)

    time_machine.move_to(start + timedelta(hours=1), tick=False)
    second = attempt_start(user=ready_learner, quiz=quiz)

    first.refresh_from_db()
    assert (first.status, first.score) == (AttemptStatus.EXPIRED, 0)
    assert second.number == 2


def test_a_quiz_with_no_questions_cannot_start(module, ready_learner):
    quiz = quiz_for(module, questions=0)

    with pytest.raises(AttemptNotAllowed, match="no questions"):
        attempt_start(user=ready_learner, quiz=quiz)
    assert not Attempt.objects.exists()


def test_retiring_a_question_keeps_past_attempts_readable(quiz, ready_learner):
    attempt = attempt_start(user=ready_learner, quiz=quiz)
    attempt = attempt_submit(attempt=attempt, answers=right_answers(attempt))
    item = attempt.items.first()
    question = item.question
    question.retired = True
    question.text = "Reworded later"
    question.save()
    question.choices.all().delete()

    item.refresh_from_db()
    assert item.snapshot["text"] != "Reworded later"
    assert len(item.snapshot["choices"]) == 3
