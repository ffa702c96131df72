"""Learners' quiz pages: start, answer, result; bad requests; the module page's assessment step."""

import json
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from wagtail.models import PageViewRestriction

from quizzes.models import Attempt, AttemptStatus, QuestionKind, ShowAnswers
from quizzes.services import attempt_start, attempt_submit
from tests.factories import lessons_of, module_with_lessons
from tests.quizzes.conftest import (
    add_question,
    finish_lessons,
    form_data,
    quiz_for,
    right_answers,
    wrong_answers,
)
from training.models import ModuleCompletion, QuizPass

pytestmark = pytest.mark.django_db


def start_url(quiz) -> str:
    return reverse("quizzes:start", kwargs={"quiz_id": quiz.pk})


def attempt_url(attempt) -> str:
    return reverse("quizzes:attempt", kwargs={"attempt_id": attempt.pk})


def result_url(attempt) -> str:
    return reverse("quizzes:result", kwargs={"attempt_id": attempt.pk})


def begin(client, quiz) -> Attempt:
    response = client.post(reverse("quizzes:attempt_start", kwargs={"quiz_id": quiz.pk}))
    attempt = Attempt.objects.latest("pk")
    assert response["Location"] == attempt_url(attempt)
    return attempt


def test_quiz_pages_need_a_sign_in(client, quiz, ready_learner):
    attempt = attempt_start(user=ready_learner, quiz=quiz)
    for url in [start_url(quiz), attempt_url(attempt), result_url(attempt)]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    client.post(reverse("quizzes:attempt_start", kwargs={"quiz_id": quiz.pk}))
    assert Attempt.objects.count() == 1


def test_the_start_page_explains_the_rules(learner_client, module):
    quiz = quiz_for(module, questions=3, attempts_allowed=3, time_limit_minutes=20)

    html = learner_client.get(start_url(quiz)).content.decode()

    assert "Pass mark 80%" in html
    assert "you have 3 left" in html
    assert "Time limit 20 minutes" in html
    assert "Start the assessment" in html


def test_a_get_never_starts_an_attempt(learner_client, quiz):
    assert learner_client.get(reverse("quizzes:attempt_start", args=[quiz.pk])).status_code == 405
    assert not Attempt.objects.exists()


def test_the_quiz_page_reveals_nothing_about_the_right_answers(learner_client, module):
    quiz = quiz_for(module, questions=0, questions_to_draw=4)
    add_question(module, kind=QuestionKind.SINGLE)
    add_question(module, kind=QuestionKind.MULTIPLE, choices=4, correct=(1, 3))
    add_question(module, kind=QuestionKind.TRUE_FALSE, choices=2)
    add_question(module, kind=QuestionKind.SCENARIO)
    attempt = begin(learner_client, quiz)

    html = learner_client.get(attempt_url(attempt)).content.decode()

    for marker in ["is_correct", "correct", "Feedback", "Explanation", "data-answer"]:
        assert marker not in html.replace("Select all that apply", ""), marker
    inputs = re.findall(r"<input class=\"govuk-(?:radios|checkboxes)__input\"[^>]*>", html)
    assert len(inputs) == 3 + 4 + 2 + 3
    # Right and wrong choices have identical markup apart from their id and value.
    shapes = {re.sub(r'(id|name|value)="[^"]*"', "", tag) for tag in inputs}
    assert len(shapes) == 2  # one radio shape, one checkbox shape
    # Values are places on the page, not database ids (which follow the order choices were typed).
    values: dict[str, list[str]] = {}
    for name, value in re.findall(r'name="(answer-\d+)" type="\w+" value="(\d+)"', html):
        values.setdefault(name, []).append(value)
    assert sorted(map(len, values.values())) == [2, 3, 3, 4]
    assert all(v == [str(n) for n in range(1, len(v) + 1)] for v in values.values())
    assert html.count('class="govuk-fieldset"') == 4
    assert "You visit a flat" in html  # the scenario
    assert "Select all that apply." in html


def test_reloading_shows_the_same_attempt_with_saved_answers(learner_client, quiz):
    attempt = begin(learner_client, quiz)
    first = learner_client.get(attempt_url(attempt)).content.decode()
    answers = dict(list(right_answers(attempt).items())[:2])

    response = learner_client.post(attempt_url(attempt), form_data(attempt, answers, action="save"))

    assert response.status_code == 302
    second = learner_client.get(attempt_url(attempt)).content.decode()
    order = re.compile(r'<label class="govuk-label govuk-radios__label" for="[^"]+">([^<]+)<')
    assert order.findall(first) == order.findall(second)
    assert second.count(" checked>") == 2
    # Starting again from the start page continues the same attempt.
    assert begin(learner_client, quiz).pk == attempt.pk


def test_submitting_shows_score_feedback_and_lessons_to_revisit(learner_client, quiz):
    attempt = begin(learner_client, quiz)
    answers = right_answers(attempt)
    wrong_question = next(iter(answers))
    answers[wrong_question] = wrong_answers(attempt)[wrong_question]

    response = learner_client.post(attempt_url(attempt), form_data(attempt, answers))

    assert response["Location"] == result_url(attempt)
    html = learner_client.get(result_url(attempt)).content.decode()
    assert "You passed" in html
    assert "You scored 80%: 4 of 5 correct" in html
    assert html.count("Not correct") == 1
    assert "Lessons to revisit" in html
    assert lessons_of(quiz.module)[0].title in html
    assert "Correct answer:" in html
    assert "Explanation" in html


def test_answers_after_a_fail_are_hidden_when_shown_only_after_passing(learner_client, module):
    quiz = quiz_for(module, questions=3, show_answers=ShowAnswers.AFTER_PASS)
    attempt = begin(learner_client, quiz)

    learner_client.post(attempt_url(attempt), form_data(attempt, wrong_answers(attempt)))

    html = learner_client.get(result_url(attempt)).content.decode()
    assert "You did not pass" in html
    assert "Right " not in html  # no correct choice is named
    assert "Explanation" not in html
    assert "Correct answer:" not in html
    assert "shown once you pass" in html
    assert "Try the assessment again" in html


def test_a_fail_shows_weak_outcomes_and_feedback_on_the_chosen_options_only(
    learner_client, site, ready_learner
):
    module = module_with_lessons(
        1,
        slug="outcomes",
        learning_outcomes=json.dumps(
            [
                {"type": "outcome", "value": "Spot the signs of a cuckooed home."},
                {"type": "outcome", "value": "Choose the right route to report."},
            ]
        ),
    )
    finish_lessons(ready_learner, module)
    quiz = quiz_for(module, questions=0, questions_to_draw=4)
    for number in range(4):
        question = add_question(module, lesson=lessons_of(module)[0])
        question.outcome = 1 + number % 2
        question.save()
    attempt = begin(learner_client, quiz)
    answers = right_answers(attempt)
    for item in attempt.items.all():
        if item.snapshot["outcome"] == 2:  # every question on outcome 2 answered wrongly
            answers[item.question_id] = wrong_answers(attempt)[item.question_id]

    learner_client.post(attempt_url(attempt), form_data(attempt, answers))

    html = learner_client.get(result_url(attempt)).content.decode()
    assert "What to work on" in html
    assert "Choose the right route to report. <span" in html
    assert "(0 of 2 right)" in html
    assert "Spot the signs of a cuckooed home." not in html.split("What to work on")[1][:400]
    chosen_wrong = [
        c
        for item in attempt.items.all()
        for c in item.snapshot["choices"]
        if c["id"] in answers[item.question_id] and not c["correct"]
    ]
    assert all(c["feedback"] in html and c["text"] in html for c in chosen_wrong)
    unchosen_right = [
        c
        for item in attempt.items.all()
        for c in item.snapshot["choices"]
        if c["correct"] and c["id"] not in answers[item.question_id]
    ]
    assert unchosen_right
    assert not any(c["text"] in html for c in unchosen_right)
    assert "Explanation" not in html


def test_after_a_set_of_failed_attempts_the_result_says_when_and_whom_to_ask(
    learner_client, module, time_machine
):
    from django.utils.formats import date_format

    module.owner_email = "counter.fraud@ourcouncil.gov.uk"
    module.save_revision().publish()
    quiz = quiz_for(module, questions=3)  # the defaults: three attempts, then a day's wait
    start = timezone.now()
    time_machine.move_to(start, tick=False)
    for _ in range(3):
        attempt = begin(learner_client, quiz)
        learner_client.post(attempt_url(attempt), form_data(attempt, wrong_answers(attempt)))

    html = learner_client.get(result_url(attempt)).content.decode()

    retry = timezone.localtime(start + timedelta(hours=24))
    assert f"You can start a new set from {date_format(retry, 'H:i')}" in html
    assert "Try the assessment again" not in html
    assert 'href="mailto:counter.fraud@ourcouncil.gov.uk"' in html
    start_page = learner_client.get(start_url(quiz)).content.decode()
    assert "You can start a new set from" in start_page
    assert "Retake the assessment" not in start_page
    assert "counter.fraud@ourcouncil.gov.uk" in start_page

    time_machine.move_to(start + timedelta(hours=24, minutes=1), tick=False)
    assert "Retake the assessment" in learner_client.get(start_url(quiz)).content.decode()


def test_the_full_key_is_shown_after_a_pass(learner_client, quiz):
    assert quiz.show_answers == ShowAnswers.AFTER_PASS
    attempt = begin(learner_client, quiz)

    learner_client.post(attempt_url(attempt), form_data(attempt, right_answers(attempt)))

    html = learner_client.get(result_url(attempt)).content.decode()
    assert "You passed" in html
    assert "Explanation" in html


def test_a_timed_attempt_shows_the_time_left_with_the_learners_extra_time(
    learner_client, module, ready_learner
):
    from quizzes.models import ExtraTime

    ExtraTime.objects.create(user=ready_learner, percent=50)
    quiz = quiz_for(module, questions=3, time_limit_minutes=20)

    start = learner_client.get(start_url(quiz)).content.decode()
    assert "Time limit 30 minutes (with your extra time)" in start
    attempt = begin(learner_client, quiz)
    html = learner_client.get(attempt_url(attempt)).content.decode()

    seconds = int(re.search(r'data-seconds-left="(\d+)"', html).group(1))
    assert 29 * 60 < seconds <= 30 * 60
    assert "this includes your extra time" in html
    assert 'aria-live="polite" data-countdown-announce' in html
    assert "quizzes/countdown" in html


def test_a_missing_answer_is_an_error_linked_to_its_question(learner_client, quiz):
    attempt = begin(learner_client, quiz)
    answers = right_answers(attempt)
    missing = list(answers)[-1]
    del answers[missing]

    response = learner_client.post(attempt_url(attempt), form_data(attempt, answers))

    assert response.status_code == 200
    html = response.content.decode()
    assert "There is a problem" in html
    assert f'href="#answer-{missing}"' in html
    assert f'id="answer-{missing}"' in html
    assert "Question 5: select an answer" in html
    assert html.count(" checked>") == 4  # what they chose is kept
    assert Attempt.objects.get().is_open


@pytest.mark.parametrize("forgery", ["unserved_question", "foreign_choice", "two_radios", "junk"])
def test_forged_answers_get_a_clear_error_and_record_nothing(learner_client, module, quiz, forgery):
    attempt = begin(learner_client, quiz)
    answers = right_answers(attempt)
    first = next(iter(answers))
    outsider = add_question(module)
    data = form_data(attempt, answers)
    if forgery == "unserved_question":
        data[f"answer-{outsider.pk}"] = ["1"]
    elif forgery == "foreign_choice":
        data[f"answer-{first}"] = ["4"]  # it has three choices
    elif forgery == "two_radios":
        data[f"answer-{first}"] = ["1", "2"]
    else:
        data[f"answer-{first}"] = ["'; drop table"]

    response = learner_client.post(attempt_url(attempt), data)

    assert response.status_code == 400
    html = response.content.decode()
    assert "There is a problem" in html
    expected = {
        "unserved_question": "a question that is not in this attempt. Nothing was recorded",
        "foreign_choice": "Question 1: that answer is not one of its choices. Nothing was recorded",
        "two_radios": "Question 1: choose only one answer",
        "junk": "Question 1: that answer is not one of its choices",
    }
    assert expected[forgery] in html
    attempt.refresh_from_db()
    assert attempt.is_open
    assert not attempt.items.filter(is_correct__isnull=False).exists()
    assert not QuizPass.objects.exists()


def test_a_double_submit_returns_the_first_result_and_records_nothing_new(learner_client, quiz):
    attempt = begin(learner_client, quiz)
    learner_client.post(attempt_url(attempt), form_data(attempt, right_answers(attempt)))
    attempt.refresh_from_db()

    response = learner_client.post(attempt_url(attempt), form_data(attempt, wrong_answers(attempt)))

    assert response["Location"] == result_url(attempt)
    again = Attempt.objects.get()
    assert (again.score, again.finished_at) == (100, attempt.finished_at)
    assert QuizPass.objects.count() == 1


def test_nobody_can_see_or_submit_someone_elses_attempt(client, quiz, ready_learner, user_factory):
    attempt = attempt_start(user=ready_learner, quiz=quiz)
    intruder = user_factory(email="intruder@example.gov.uk")
    finish_lessons(intruder, quiz.module)
    client.force_login(intruder)

    assert client.get(attempt_url(attempt)).status_code == 404
    assert (
        client.post(attempt_url(attempt), form_data(attempt, right_answers(attempt))).status_code
        == 404
    )
    assert client.get(result_url(attempt)).status_code == 404
    attempt.refresh_from_db()
    assert attempt.is_open
    assert not QuizPass.objects.exists()


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"attempts_allowed": 1}, "You can start a new set from"),
        ({"cooldown_minutes": 30}, "You can try again from"),
    ],
)
def test_starting_against_the_rules_is_refused_clearly(learner_client, module, rule, message):
    quiz = quiz_for(module, questions=2, **rule)
    attempt = begin(learner_client, quiz)
    learner_client.post(attempt_url(attempt), form_data(attempt, wrong_answers(attempt)))

    response = learner_client.post(
        reverse("quizzes:attempt_start", kwargs={"quiz_id": quiz.pk}), follow=True
    )

    assert message in response.content.decode()
    assert Attempt.objects.count() == 1
    assert response.context["status"].can_start is False


def test_a_quiz_of_an_unpublished_module_is_not_found(learner_client, quiz, ready_learner):
    attempt = attempt_start(user=ready_learner, quiz=quiz)
    quiz.module.unpublish()

    assert learner_client.get(start_url(quiz)).status_code == 404
    assert learner_client.post(reverse("quizzes:attempt_start", args=[quiz.pk])).status_code == 404
    response = learner_client.post(attempt_url(attempt), form_data(attempt, right_answers(attempt)))
    assert response.status_code == 403
    assert "not published" in response.content.decode()
    assert Attempt.objects.count() == 1
    assert not QuizPass.objects.exists()


def test_a_restricted_module_quiz_is_refused(client, site, user_factory):
    from django.contrib.auth.models import Group

    module = module_with_lessons(1, slug="members-only")
    restriction = PageViewRestriction.objects.create(
        page=module, restriction_type=PageViewRestriction.GROUPS
    )
    restriction.groups.add(Group.objects.create(name="Councillors"))
    quiz = quiz_for(module, questions=2, lessons_first=False)
    client.force_login(user_factory())

    assert client.get(start_url(quiz)).status_code == 403
    assert client.post(reverse("quizzes:attempt_start", args=[quiz.pk])).status_code == 403
    assert not Attempt.objects.exists()


def test_a_late_submission_is_marked_on_saved_answers(learner_client, module, time_machine):
    quiz = quiz_for(module, questions=2, time_limit_minutes=10)
    start = timezone.now()
    time_machine.move_to(start, tick=False)
    attempt = begin(learner_client, quiz)

    time_machine.move_to(start + timedelta(minutes=11), tick=False)
    response = learner_client.post(attempt_url(attempt), form_data(attempt, right_answers(attempt)))

    assert response["Location"] == result_url(attempt)
    attempt.refresh_from_db()
    assert (attempt.status, attempt.score) == (AttemptStatus.EXPIRED, 0)
    html = learner_client.get(result_url(attempt)).content.decode()
    assert "Time ran out" in html
    assert "You did not answer this question" in html


@pytest.mark.parametrize("view", ["attempt", "submit", "result"])
def test_queries_do_not_grow_with_the_number_of_questions(
    site, user_factory, client, django_assert_num_queries, view
):
    def prepared(slug, questions, email):
        module = module_with_lessons(1, slug=slug)
        quiz = quiz_for(module, questions=questions)
        user = user_factory(email=email)
        finish_lessons(user, module)
        attempt = attempt_start(user=user, quiz=quiz)
        if view == "result":
            attempt_submit(attempt=attempt, answers=right_answers(attempt))
        return user, attempt

    def request_for(attempt):
        """The request to count, with its form data built beforehand."""
        if view == "submit":
            data = form_data(attempt, right_answers(attempt))
            return lambda: client.post(attempt_url(attempt), data).status_code == 302
        url = attempt_url(attempt) if view == "attempt" else result_url(attempt)
        return lambda: client.get(url).status_code == 200

    small = prepared("small", 5, "small@example.gov.uk")
    large = prepared("large", 40, "large@example.gov.uk")
    client.force_login(large[0])
    client.get(start_url(large[1].quiz))  # warm caches: site root paths, content types
    client.force_login(small[0])
    client.get(start_url(small[1].quiz))
    send = request_for(small[1])
    with CaptureQueriesContext(connection) as small_queries:
        assert send()
    client.force_login(large[0])
    send = request_for(large[1])
    with django_assert_num_queries(len(small_queries)):
        assert send()


def test_starting_takes_the_same_queries_for_5_and_40_questions(
    site, user_factory, django_assert_num_queries
):
    def prepared(slug, questions, email):
        module = module_with_lessons(1, slug=slug)
        user = user_factory(email=email)
        finish_lessons(user, module)
        return user, quiz_for(module, questions=questions)

    small, large = (
        prepared("small", 5, "s@example.gov.uk"),
        prepared("large", 40, "l@example.gov.uk"),
    )
    with CaptureQueriesContext(connection) as small_queries:
        assert attempt_start(user=small[0], quiz=small[1]).items.count() == 5
    with django_assert_num_queries(len(small_queries)):
        assert attempt_start(user=large[0], quiz=large[1]).items.count() == 40


def test_the_module_page_shows_the_assessment_step(client, learner, module):
    quiz = quiz_for(module, questions=3)
    client.force_login(learner)

    before = client.get(module.url)
    step = before.context["assessments"][0]
    assert step["title"] == "Assessment"
    assert step["url"] == ""
    assert "Finish every lesson first" in step["status"]
    assert "Pass mark 80%" in step["status"]

    finish_lessons(learner, module)
    ready = client.get(module.url)
    step = ready.context["assessments"][0]
    assert step["url"] == start_url(quiz)
    assert step["action"] == "Start the assessment"
    assert f'href="{start_url(quiz)}"' in ready.content.decode()


def test_the_module_page_has_no_assessment_without_a_quiz(client, learner, module):
    client.force_login(learner)
    assert client.get(module.url).context["assessments"] == []


def test_end_to_end_lessons_then_a_pass_completes_the_module(client, learner, module):
    quiz = quiz_for(module, questions=5)
    client.force_login(learner)
    for lesson in lessons_of(module):
        client.post(lesson.url)

    client.get(start_url(quiz))
    attempt = begin(client, quiz)
    assert client.get(attempt_url(attempt)).status_code == 200
    response = client.post(attempt_url(attempt), form_data(attempt, right_answers(attempt)))
    assert response["Location"] == result_url(attempt)

    completion = ModuleCompletion.objects.get(user=learner, module=module)
    assert (completion.score, completion.module_version) == (100, 1)
    assert completion.quiz_pass.attempt_id == attempt.pk
    page = client.get(module.url)
    assert page.context["completion"] == completion
    assert "You passed with 100%" in page.context["assessments"][0]["status"]
    assert page.context["assessments"][0]["action"] == "Retake the assessment"


def test_after_a_retake_version_the_earlier_pass_is_described_as_a_pass(client, learner, module):
    quiz = quiz_for(module, questions=5)
    client.force_login(learner)
    finish_lessons(learner, module)
    attempt = begin(client, quiz)
    client.post(attempt_url(attempt), form_data(attempt, right_answers(attempt)))
    draft = module.get_latest_revision_as_object()
    draft.learners_must_retake, draft.change_note = True, "New offences."
    draft.save_revision().publish()

    status = client.get(module.url).context["assessments"][0]["status"]
    today = timezone.localdate().strftime("%-d %B %Y")
    assert f"You passed version 1 on {today}." in status
    assert "not a pass" not in status
