"""The question bank as files: export, import with a report of bad rows, and the starter content."""

import csv
import io
import json
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import CommandError, call_command

from quizzes.bank import BankFileError, rows_from_file, rows_to_csv, rows_to_json
from quizzes.models import Choice, Question, QuestionKind, Quiz
from quizzes.selectors import question_bank_rows
from quizzes.services import question_bank_import
from tests.factories import lessons_of
from tests.quizzes.conftest import add_question
from tests.site_snapshot import built
from training.management.commands.load_training_content import slug_from_filename
from training.models import ModulePage

pytestmark = pytest.mark.django_db
CONTENT = Path(__file__).resolve().parents[2] / "quizzes" / "content"


def bank_state() -> list:
    return [
        (q.pk, q.text, q.retired, [(c.text, c.is_correct) for c in q.choices.all()])
        for q in Question.objects.prefetch_related("choices").order_by("pk")
    ]


@pytest.fixture
def bank(module):
    add_question(module, tags=["cuckooing", "safeguarding"], service_areas=["housing"])
    add_question(module, kind=QuestionKind.MULTIPLE, choices=4, correct=(0, 2))
    add_question(module, kind=QuestionKind.SCENARIO, lesson=lessons_of(module)[1])
    return module


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_an_exported_bank_imports_back_unchanged(bank, fmt):
    rows = question_bank_rows()
    text = rows_to_csv(rows) if fmt == "csv" else rows_to_json(rows)
    before = bank_state()

    report = question_bank_import(rows=rows_from_file(content=text.encode(), filename=f"b.{fmt}"))

    assert report.ok
    assert (report.created, report.updated, report.unchanged) == (0, 0, 3)
    assert bank_state() == before
    assert question_bank_rows() == rows


def test_importing_edits_updates_in_place_and_adds_new_questions(bank):
    rows = question_bank_rows()
    rows[0]["text"] = "Reworded by the counter-fraud team?"
    rows[0]["choices"][1]["correct"], rows[0]["choices"][0]["correct"] = True, False
    choice_ids = list(Question.objects.get(pk=rows[0]["id"]).choices.values_list("pk", flat=True))
    new = {**rows[1], "id": "", "text": "A brand new question?"}
    rows[2]["retired"] = True
    text = rows_to_csv([*rows, new])

    report = question_bank_import(rows=rows_from_file(content=text, filename="bank.csv"))

    assert (report.created, report.updated, report.unchanged) == (1, 2, 1)
    edited = Question.objects.get(pk=rows[0]["id"])
    assert edited.text == "Reworded by the counter-fraud team?"
    assert list(edited.choices.values_list("pk", flat=True)) == choice_ids  # kept, so stats follow
    assert list(edited.choices.values_list("is_correct", flat=True)) == [False, True, False]
    assert Question.objects.get(pk=rows[2]["id"]).retired
    added = Question.objects.get(text="A brand new question?")
    assert added.choices.count() == 4
    assert sorted(t.name for t in edited.tags.all()) == ["cuckooing", "safeguarding"]


def test_bad_rows_are_each_reported_and_change_nothing(bank):
    rows = question_bank_rows()
    good_edit = {**rows[0], "text": "This edit must not be applied?"}
    bad = [
        {**rows[1], "module": "no-such-module"},
        {**rows[1], "id": "", "kind": "essay"},
        {**rows[1], "id": 999999},
        {**rows[1], "id": "", "service_areas": ["housing", "moon-base"]},
        {**rows[1], "id": "", "lesson": "no-such-lesson"},
        {**rows[0], "id": "", "choices": [{**c, "correct": True} for c in rows[0]["choices"]]},
        {**rows[0], "id": "", "choices": rows[0]["choices"][:1]},
        {**rows[2], "id": "", "scenario": ""},
        {**rows[1], "id": "", "text": "", "explanation": ""},
    ]
    before = bank_state()
    text = rows_to_csv([good_edit, *bad])

    report = question_bank_import(rows=rows_from_file(content=text, filename="bank.csv"))

    assert not report.ok
    assert "Nothing was imported: 9 row(s) have problems" in report.summary()
    messages = {e.row: " ".join(e.messages) for e in report.errors}
    assert list(messages) == [f"line {n}" for n in range(3, 12)]
    assert "no module “no-such-module”" in messages["line 3"]
    assert "kind “essay”" in messages["line 4"]
    assert "no question with id 999999" in messages["line 5"]
    assert "moon-base" in messages["line 6"]
    assert "no lesson “no-such-lesson”" in messages["line 7"]
    assert "exactly one correct choice" in messages["line 8"]
    assert "at least two choices" in messages["line 9"]
    assert "needs the short case" in messages["line 10"]
    assert "question text is empty" in messages["line 11"]
    assert "explanation is empty" in messages["line 11"]
    assert bank_state() == before


def test_a_json_file_reports_questions_by_number_and_a_broken_file_is_refused(bank):
    rows = question_bank_rows()
    data = json.dumps([rows[0], {**rows[1], "choices": "not a list"}]).encode()

    report = question_bank_import(rows=rows_from_file(content=data, filename="bank.json"))

    assert [str(e) for e in report.errors] == [
        "Question 2: Choices must be a list. A question needs at least two choices. "
        "A multiple-response question needs at least one correct choice."
    ]
    for content, name in [(b"{not json", "b.json"), (b"text,only\n1,2\n", "b.csv"), (b"", "b.txt")]:
        with pytest.raises(BankFileError, match=r"JSON|column|Upload a"):
            rows_from_file(content=content, filename=name)


def test_a_dry_run_counts_and_writes_nothing(bank):
    rows = question_bank_rows()
    rows[0]["text"] = "Changed?"
    before = bank_state()

    report = question_bank_import(rows=[("line 2", r) for r in rows], dry_run=True)

    assert (report.created, report.updated, report.unchanged) == (0, 1, 2)
    assert "would be updated" in report.summary()
    assert bank_state() == before


def test_the_commands_export_and_import_a_file(bank, tmp_path):
    path = tmp_path / "bank.csv"
    call_command("export_question_bank", "--output", str(path), stderr=StringIO())
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    assert len(rows) == 3
    assert rows[0]["tags"] == "cuckooing; safeguarding"

    out = StringIO()
    call_command("import_question_bank", str(path), stdout=out)
    assert "0 question(s) were added, 0 were updated and 3 unchanged" in out.getvalue()

    rows[0]["kind"] = "essay"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    err = StringIO()
    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import_question_bank", str(path), stdout=StringIO(), stderr=err)
    assert "Line 2:" in err.getvalue()
    assert "essay" in err.getvalue()


def test_a_module_can_be_exported_alone_as_json(bank, site):
    from tests.factories import module_with_lessons

    other = module_with_lessons(1, slug="other")
    add_question(other)
    out = StringIO()

    call_command("export_question_bank", "--format", "json", "--module", "other", stdout=out)

    assert [q["module"] for q in json.loads(out.getvalue())["questions"]] == ["other"]


@pytest.fixture
def starter_content(site, roles):
    def load():
        call_command("load_training_content", stdout=StringIO())
        call_command("load_quiz_content", stdout=StringIO())

    built("training and quiz content", load)


def test_every_starter_module_gets_a_quiz_with_a_bank_of_at_least_12(starter_content):
    quizzes = Quiz.objects.select_related("module")

    # A public module (ModulePage.public) has no quiz: it records nothing about its readers.
    banks = list((settings.BASE_DIR / "quizzes" / "content").glob("*.yaml"))
    assert quizzes.count() == ModulePage.objects.filter(public=False).count() == len(banks)
    # Each bank says how many questions its quiz draws (the 20-minute core module 6); 10 if silent.
    draws = {}
    for path in banks:
        spec = yaml.safe_load(path.read_text())
        draws[slug_from_filename(spec["module"])] = spec.get("questions_to_draw", 10)
    assert draws[slug_from_filename("00-recognise-record-report")] == 6
    for quiz in quizzes:
        questions = Question.objects.filter(module=quiz.module)
        assert questions.count() >= 12, quiz
        assert (quiz.pass_mark, quiz.questions_to_draw) == (80, draws[quiz.module.slug])
        assert 2 * quiz.questions_to_draw <= questions.count(), quiz
        assert questions.filter(lesson__isnull=False).count() == questions.count(), quiz
    files = sorted(CONTENT.glob("*.yaml"))
    expected = sum(len(yaml.safe_load(f.read_text())["questions"]) for f in files)
    assert Question.objects.count() == expected
    assert set(Question.objects.values_list("kind", flat=True)) == set(QuestionKind.values)


def test_loading_quizzes_again_keeps_editors_changes(starter_content):
    question = Question.objects.order_by("pk").first()
    question.text = "Edited by the counter-fraud team"
    question.save()
    Choice.objects.filter(question=question).update(feedback="Edited feedback")
    counts = (Quiz.objects.count(), Question.objects.count(), Choice.objects.count())

    call_command("load_quiz_content", stdout=StringIO())

    assert (Quiz.objects.count(), Question.objects.count(), Choice.objects.count()) == counts
    question.refresh_from_db()
    assert question.text == "Edited by the counter-fraud team"
    assert set(question.choices.values_list("feedback", flat=True)) == {"Edited feedback"}


def test_load_initial_data_includes_the_quizzes(site):
    call_command("load_initial_data", stdout=StringIO(), stderr=StringIO())

    assert Quiz.objects.count() == 16


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("bank.csv", b"module,kind,text,explanation\nm,single,Wh\x00at?,x\n", "binary data"),
        ("bank.json", b'[{"module": "m", "kind": "single", "text": "Wh\\u0000at?"}]', "NUL"),
        (
            "bank.json",
            b'[{"module": "m", "choices": [{"text": "\\u0000", "correct": true}]}]',
            "Question 1 holds a NUL character",
        ),
    ],
)
def test_a_bank_file_with_a_nul_character_is_refused_before_anything_is_written(
    name, content, reason
):
    with pytest.raises(BankFileError, match=reason):
        rows_from_file(content=content, filename=name)
