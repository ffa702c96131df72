"""Editors' and HR's side: the bank in the admin, item statistics, import/export, extra time."""

import json
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from quizzes.models import ExtraTime, Question, QuestionKind
from quizzes.selectors import question_bank_rows, question_choice_counts, question_statistics
from quizzes.services import attempt_start, attempt_submit
from tests.quizzes.conftest import (
    add_question,
    finish_lessons,
    quiz_for,
    right_answers,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, signed_in_with_mfa):
    """Log in someone from a role, with two-factor sign-in set up as the roles require."""
    call_command("load_quiz_content", stdout=StringIO(), stderr=StringIO())  # grants permissions

    def login(group: str):
        signed_in_with_mfa(
            f"staff.{group.replace(' ', '-').lower()}@example.gov.uk", groups=[group]
        )
        return client

    return login


def choice_form(prefix: str, choices: list[tuple[str, bool]]) -> dict:
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(choices)),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "2",
        f"{prefix}-MAX_NUM_FORMS": "8",
    }
    for i, (text, correct) in enumerate(choices):
        data |= {
            f"{prefix}-{i}-text": text,
            f"{prefix}-{i}-feedback": f"Feedback on {text}",
            f"{prefix}-{i}-ORDER": str(i + 1),
        }
        if correct:
            data[f"{prefix}-{i}-is_correct"] = "on"
    return data


def question_form(module, choices, kind="single") -> dict:
    return {
        "module": str(module.pk),
        "kind": kind,
        "scenario": "",
        "text": "Who should you tell?",
        "explanation": "The designated officer.",
        "tags": "reporting",
        **choice_form("choices", choices),
    }


def test_an_editor_adds_a_question_and_a_bad_one_is_refused(staff_client, module):
    client = staff_client("Content editors")
    url = "/cms/snippets/quizzes/question/add/"
    assert client.get(url).status_code == 200

    refused = client.post(url, question_form(module, [("A", True), ("B", True)]))
    assert refused.status_code == 200
    assert "exactly one correct choice" in refused.content.decode()
    assert not Question.objects.exists()

    client.post(url, question_form(module, [("A", True), ("B", False), ("C", False)]))
    question = Question.objects.get()
    assert [c.text for c in question.choices.all()] == ["A", "B", "C"]
    assert [t.name for t in question.tags.all()] == ["reporting"]


def test_editors_see_the_bank_quizzes_and_their_menu(staff_client, quiz):
    client = staff_client("Content editors")

    for url in [
        "/cms/snippets/quizzes/question/",
        "/cms/snippets/quizzes/quiz/",
        f"/cms/snippets/quizzes/quiz/edit/{quiz.pk}/",
        "/cms/quizzes/statistics/",
        "/cms/quizzes/bank/",
        "/cms/quizzes/bank/check/",
    ]:
        assert client.get(url).status_code == 200, url
    assert "Item statistics" in client.get("/cms/").content.decode()
    assert "Bank check" in client.get("/cms/").content.decode()


def test_the_bank_check_shows_editors_the_cues_in_their_own_bank(staff_client, module):
    quiz_for(module, questions=0, questions_to_draw=2)
    giveaway = add_question(module, text="Who do you tell?")
    giveaway.outcome = 1
    giveaway.save()
    giveaway.choices.filter(is_correct=True).update(
        text="Report it today to the counter-fraud team, with your notes and the dates"
    )
    client = staff_client("Content editors")

    html = client.get("/cms/quizzes/bank/check/").content.decode()

    assert f'href="/cms/snippets/quizzes/question/edit/{giveaway.pk}/"' in html
    assert 'data-rule="length"' in html
    assert 'data-rule="wording"' in html
    assert 'data-rule="size"' in html  # one question for a draw of 2


def test_hr_and_learners_cannot_open_the_bank_check(staff_client, client, learner, quiz):
    assert staff_client("HR").get("/cms/quizzes/bank/check/").status_code in {302, 403}
    client.force_login(learner)
    response = client.get("/cms/quizzes/bank/check/")
    assert response.status_code in {302, 403}
    assert b"Question 1?" not in response.content


def test_a_served_question_cannot_be_deleted_only_retired(staff_client, quiz, learner):
    finish_lessons(learner, quiz.module)
    attempt = attempt_start(user=learner, quiz=quiz)
    served = attempt.items.first().question
    client = staff_client("Content approvers")

    response = client.post(f"/cms/snippets/quizzes/question/delete/{served.pk}/", follow=True)

    assert "cannot be deleted" in response.content.decode()
    assert Question.objects.filter(pk=served.pk).exists()


def test_hr_sets_extra_time_but_cannot_edit_questions(staff_client, learner):
    client = staff_client("HR")

    response = client.post(
        "/cms/snippets/quizzes/extratime/add/",
        {"user": str(learner.pk), "percent": "25", "note": "Access arrangement"},
    )

    assert response.status_code == 302
    assert ExtraTime.objects.get(user=learner).percent == 25
    assert client.get("/cms/snippets/quizzes/question/").status_code in {302, 403}
    assert client.get("/cms/quizzes/bank/").status_code in {302, 403}


def test_learners_cannot_reach_the_statistics_or_the_export(client, learner, quiz):
    client.force_login(learner)

    for url in ["/cms/quizzes/statistics/", "/cms/quizzes/bank/export/?format=json"]:
        response = client.get(url)
        assert response.status_code in {302, 403}, url
        assert b"Question 1?" not in response.content


@pytest.fixture
def answered(module, user_factory):
    """Twelve learners answer a quiz: everyone gets the hard question wrong, one distractor most."""
    quiz = quiz_for(module, questions=0, questions_to_draw=2)
    easy = add_question(module, text="Easy?")
    hard = add_question(module, text="Hard?", choices=4)
    distractors = [c.pk for c in hard.choices.all() if not c.is_correct]
    for n in range(12):
        learner = user_factory(email=f"l{n}@example.gov.uk")
        finish_lessons(learner, module)
        attempt = attempt_start(user=learner, quiz=quiz)
        answers = right_answers(attempt)
        answers[hard.pk] = [distractors[0] if n < 9 else distractors[1]]
        attempt_submit(attempt=attempt, answers=answers)
    still_open = user_factory(email="open@example.gov.uk")
    finish_lessons(still_open, module)
    attempt_start(user=still_open, quiz=quiz)  # served, not yet marked
    return quiz, easy, hard


def test_item_statistics_count_served_correct_and_distractors(answered, user_factory):
    _, easy, hard = answered
    stats = {q.pk: q for q in question_statistics(questions=Question.objects.all())}

    assert (stats[easy.pk].served_count, stats[easy.pk].marked_count) == (13, 12)
    assert stats[easy.pk].correct_count == 12
    assert stats[hard.pk].correct_count == 0
    counts = question_choice_counts(questions=[hard])[hard.pk]
    assert [c.chosen for c in counts if not c.is_correct] == [9, 3, 0]
    assert [c.chosen for c in counts if c.is_correct] == [0]


def test_the_statistics_report_flags_what_almost_everyone_gets_wrong(staff_client, answered):
    client = staff_client("Content editors")

    html = client.get("/cms/quizzes/statistics/").content.decode()

    assert html.count("Almost everyone gets this wrong") == 1
    assert "(9)" in html
    export = client.get("/cms/quizzes/statistics/?export=csv")
    assert export.status_code == 200
    lines = b"".join(export.streaming_content).decode().splitlines()
    assert (
        lines[0]
        == "Question id,Module,Question,Served,Answered,Correct (%),Flag,Wrong answers chosen"
    )
    assert any("Hard?" in line and "Almost everyone" in line for line in lines)
    assert any("Easy?" in line and ",100," in line for line in lines)


def test_the_statistics_report_takes_the_same_queries_for_more_questions(
    staff_client, module, django_assert_max_num_queries
):
    client = staff_client("Content editors")
    for _ in range(3):
        add_question(module)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get("/cms/quizzes/statistics/")
    with CaptureQueriesContext(connection) as few:
        client.get("/cms/quizzes/statistics/")
    for _ in range(20):
        add_question(module)
    with django_assert_max_num_queries(len(few)):
        client.get("/cms/quizzes/statistics/")


def test_the_admin_import_reports_bad_rows_and_changes_nothing(staff_client, module):
    add_question(module, kind=QuestionKind.MULTIPLE, choices=3, correct=(0, 1))
    client = staff_client("Content editors")
    rows = question_bank_rows()
    rows.append({**rows[0], "id": "", "module": "nowhere"})
    upload = SimpleUploadedFile("bank.json", json.dumps(rows).encode())

    response = client.post("/cms/quizzes/bank/", {"file": upload})

    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was imported: 1 row(s) have problems" in html
    assert "Question 2: There is no module “nowhere”." in html
    assert Question.objects.count() == 1


def test_the_admin_import_adds_questions_and_the_export_downloads(staff_client, module):
    add_question(module)
    client = staff_client("Content editors")
    exported = client.get("/cms/quizzes/bank/export/?format=json")
    assert exported["Content-Disposition"] == 'attachment; filename="question-bank.json"'
    rows = json.loads(exported.content)["questions"]
    rows[0]["id"] = ""
    upload = SimpleUploadedFile("bank.json", json.dumps(rows).encode())

    response = client.post("/cms/quizzes/bank/", {"file": upload})

    assert response.status_code == 200
    assert "1 question(s) were added" in response.content.decode()
    assert Question.objects.count() == 2
    wrong_type = client.post("/cms/quizzes/bank/", {"file": SimpleUploadedFile("b.txt", b"x")})
    assert "Upload a .csv or .json file" in wrong_type.content.decode()
    assert Question.objects.count() == 2


@pytest.mark.parametrize(
    "database",
    [pytest.param("any", id="any-database"), pytest.param("pg", marks=pytest.mark.postgres)],
)
def test_the_admin_import_refuses_a_nul_character_clearly(staff_client, module, database):
    add_question(module)
    client = staff_client("Content editors")
    rows = json.loads(client.get("/cms/quizzes/bank/export/?format=json").content)["questions"]
    before = Question.objects.get().explanation
    rows[0]["explanation"] = "Cuckooing\x00"
    upload = SimpleUploadedFile("bank.json", json.dumps(rows).encode())

    response = client.post("/cms/quizzes/bank/", {"file": upload, "dry_run": "on"})

    assert response.status_code == 200
    assert "Question 1 holds a NUL character" in response.content.decode()
    assert Question.objects.get().explanation == before
