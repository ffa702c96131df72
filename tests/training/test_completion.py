"""Module completion: lessons done plus a pass on the current version; records are evidence."""

import pytest

from tests.factories import lessons_of, module_with_lessons
from training.models import ModuleCompletion, QuizPass
from training.services.completion import quiz_pass_record
from training.services.progress import lesson_complete

pytestmark = pytest.mark.django_db


def finish_lessons(user, module):
    for lesson in lessons_of(module):
        lesson_complete(user=user, lesson=lesson)


def test_a_pass_with_every_lesson_done_completes_the_module(site, user_factory):
    learner = user_factory()
    module = module_with_lessons(2)
    finish_lessons(learner, module)

    _, completion = quiz_pass_record(
        user=learner, module=module, score=90, attempt_id=1, module_version=1
    )

    assert completion is not None
    assert (completion.module_version, completion.score) == (1, 90)


def test_a_pass_before_the_lessons_completes_the_module_when_the_last_lesson_is_done(
    site, user_factory
):
    learner = user_factory()
    module = module_with_lessons(2)
    first, second = lessons_of(module)
    lesson_complete(user=learner, lesson=first)

    _, completion = quiz_pass_record(
        user=learner, module=module, score=80, attempt_id=7, module_version=1
    )
    assert completion is None
    assert not ModuleCompletion.objects.exists()

    lesson_complete(user=learner, lesson=second)

    assert ModuleCompletion.objects.get(user=learner).score == 80


def test_reporting_the_same_attempt_twice_records_nothing_new(site, user_factory):
    learner = user_factory()
    module = module_with_lessons(1)
    finish_lessons(learner, module)

    first = quiz_pass_record(user=learner, module=module, score=85, attempt_id=3, module_version=1)
    again = quiz_pass_record(user=learner, module=module, score=85, attempt_id=3, module_version=1)

    assert first == again
    assert QuizPass.objects.count() == 1
    assert ModuleCompletion.objects.count() == 1


def test_a_pass_on_an_old_version_does_not_complete_the_new_one(site, user_factory):
    learner = user_factory()
    module = module_with_lessons(1)
    finish_lessons(learner, module)
    quiz_pass_record(user=learner, module=module, score=85, attempt_id=3, module_version=1)
    draft = module.get_latest_revision_as_object()
    draft.learners_must_retake = True
    draft.change_note = "New law."
    draft.save_revision().publish()
    module.refresh_from_db()

    _, completion = quiz_pass_record(
        user=learner, module=module, score=95, attempt_id=4, module_version=1
    )

    assert completion is None  # a late pass on version 1 does not count for version 2
    assert ModuleCompletion.objects.get().module_version == 1  # the earlier evidence, untouched
    quiz_pass_record(user=learner, module=module, score=95, attempt_id=5, module_version=2)
    assert list(
        ModuleCompletion.objects.order_by("completed_at").values_list("module_version", flat=True)
    ) == [1, 2]


def test_the_module_page_shows_the_completion(client, site, user_factory):
    learner = user_factory()
    module = module_with_lessons(1)
    finish_lessons(learner, module)
    quiz_pass_record(user=learner, module=module, score=92, attempt_id=9, module_version=1)
    client.force_login(learner)

    html = client.get(module.url).content.decode()

    assert "Module completed" in html
    assert "score 92%" in html
