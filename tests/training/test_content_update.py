"""A site that loaded the November 2026 starter content gets December's corrections on the next
load: pages and questions no editor touched are updated, dropped questions retired, editors'
work kept and named. The old release is a fixture (tests/fixtures/release-2026-11: module 03
and its bank as shipped then); superseded.json holds every old question's fingerprint."""

import re
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from wagtail.images import get_image_model

from quizzes.management.commands import load_quiz_content
from quizzes.models import Attempt, Question, Quiz, ShowAnswers
from quizzes.services import attempt_start
from tests.quizzes.conftest import finish_lessons
from training.management.commands import load_training_content
from training.models import LessonPage, ModulePage

pytestmark = pytest.mark.django_db
OLD = Path(__file__).resolve().parents[1] / "fixtures" / "release-2026-11"
SLUG = "county-lines-exploitation-and-cuckooing"
NEW_BANK = Path(load_quiz_content.CONTENT_DIR) / f"03-{SLUG}.yaml"


def load(stdout: StringIO | None = None) -> str:
    out = stdout or StringIO()
    call_command("load_training_content", stdout=out)
    call_command("load_quiz_content", stdout=out)
    return out.getvalue()


@pytest.fixture
def old_site(site, roles, monkeypatch):
    """The state an earlier release left: its module 03, quiz settings and bank (no
    fingerprints recorded on the questions, as that release did not record them)."""
    with monkeypatch.context() as patch:
        patch.setattr(load_training_content, "CONTENT_DIR", OLD / "training")
        patch.setattr(load_quiz_content, "CONTENT_DIR", OLD / "quizzes")
        load()
    Question.objects.update(source_hash="")
    Quiz.objects.update(attempts_allowed=None, show_answers=ShowAnswers.ALWAYS)
    return ModulePage.objects.get(slug=SLUG)


def test_untouched_pages_and_questions_are_brought_up_to_date(old_site):
    old_lesson = LessonPage.objects.child_of(old_site).get(slug="the-law-is-changing")
    assert "proposes" in str(old_lesson.body)
    served = Question.objects.filter(module=old_site).count()

    output = load()

    lesson = LessonPage.objects.get(pk=old_lesson.pk)
    assert "Crime and Policing Act 2026" in lesson.title + str(lesson.body)
    assert "Bill proposes" not in str(lesson.body)
    assert lesson.last_reviewed is not None
    assert len(lesson.sources) >= 1
    assert lesson.live
    assert not lesson.has_unpublished_changes
    spec = yaml.safe_load(NEW_BANK.read_text())
    bank = Question.objects.filter(module=old_site)
    assert bank.filter(retired=False).count() == len(spec["questions"])
    assert bank.filter(retired=True).count() == served  # every old question was untouched
    assert all(q.outcome for q in bank.filter(retired=False))
    quiz = Quiz.objects.get(module=old_site)
    assert (quiz.attempts_allowed, quiz.show_answers) == (3, ShowAnswers.AFTER_PASS)
    assert "brought up to date" in output
    assert "kept as an editor changed them" in output


def test_the_diagram_goes_into_the_image_library_and_the_lesson(old_site, client, user_factory):
    load()

    image = get_image_model().objects.get(title="03-how-a-county-line-works.svg")
    assert image.collection.name == "Starter diagrams"
    lesson = next(
        lesson
        for lesson in LessonPage.objects.child_of(old_site)
        if any(b.block_type == "image" and b.value["image"].pk == image.pk for b in lesson.body)
    )
    client.force_login(user_factory(email="reader@example.gov.uk"))
    html = client.get(lesson.url).content.decode()
    assert re.search(r'<img alt="Diagram: [^"]+"[^>]* src="[^"]+\.svg"', html), html[:2000]
    assert "The diagram in words" in html


def test_an_editors_lesson_and_question_are_kept_and_named(old_site, user_factory):
    editor = user_factory(email="content.editor@example.gov.uk")
    lesson = LessonPage.objects.child_of(old_site).get(slug="the-law-is-changing")
    lesson.title = "Our council's note on the new law"
    lesson.save_revision(user=editor).publish()
    edited = Question.objects.filter(module=old_site).order_by("pk").first()
    edited.text = "Our own question about cuckooing?"
    edited.save()

    output = load()

    lesson.refresh_from_db()
    assert lesson.title == "Our council's note on the new law"
    assert "“Our council's note on the new law” was changed by an editor" in output
    edited.refresh_from_db()
    assert (edited.text, edited.retired) == ("Our own question about cuckooing?", False)
    assert f"Question {edited.pk}" in output


def test_past_attempts_keep_the_old_questions_they_served(old_site, user_factory):
    learner = user_factory(email="learner@example.gov.uk")
    finish_lessons(learner, old_site)
    attempt = attempt_start(user=learner, quiz=Quiz.objects.get(module=old_site))
    served_text = attempt.items.first().snapshot["text"]

    load()

    attempt = Attempt.objects.get(pk=attempt.pk)
    assert attempt.items.first().snapshot["text"] == served_text
    assert attempt.items.first().question.retired


def test_loading_twice_changes_nothing_the_second_time(old_site):
    load()
    before = list(Question.objects.order_by("pk").values_list("pk", "text", "retired"))
    revisions = LessonPage.objects.child_of(old_site).first().revisions.count()

    output = load()

    assert list(Question.objects.order_by("pk").values_list("pk", "text", "retired")) == before
    assert LessonPage.objects.child_of(old_site).first().revisions.count() == revisions
    assert "0 starter page(s) brought up to date" in output
    assert "0 created, 0 updated, 0 retired" in output
