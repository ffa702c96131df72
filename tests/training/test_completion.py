"""Module completion: lessons done plus a pass on the current version; records are evidence."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone

from tests.factories import lessons_of, module_with_lessons
from training.models import Assignment, AssignmentRule, Audience, ModuleCompletion, QuizPass
from training.services.assignments import assignments_sync
from training.services.completion import (
    CompletionDraft,
    completion_record_create,
    completion_records_append,
    quiz_pass_record,
)
from training.services.progress import lesson_complete
from training.tasks import report_counts_refresh_task

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


def test_many_records_append_in_order_after_the_head_and_complete_the_assignments(
    site, user_factory, monkeypatch, django_capture_on_commit_callbacks
):
    module = module_with_lessons(1)
    AssignmentRule.objects.create(
        module=module, audience=Audience.objects.create(name="All", slug="all"), valid_months=12
    )
    alex, sam = user_factory(email="alex@example.gov.uk"), user_factory(email="sam@example.gov.uk")
    assignments_sync()
    now = timezone.now()
    head = completion_record_create(
        user=sam, module=module, module_version=1, score=70, completed_at=now - timedelta(days=400)
    )
    cache.delete("aware-report-counts-queued")
    queued = []
    monkeypatch.setattr(report_counts_refresh_task, "apply_async", lambda **kw: queued.append(kw))
    newer, older = now - timedelta(days=10), now - timedelta(days=20)
    drafts = [
        CompletionDraft(
            user_id=alex.pk,
            module_id=module.pk,
            module_version=1,
            score=90,
            completed_at=newer,
            expires_at=newer + timedelta(days=365),
        ),
        CompletionDraft(
            user_id=alex.pk,
            module_id=module.pk,
            module_version=1,
            score=80,
            completed_at=older,
            expires_at=older + timedelta(days=365),
        ),
        CompletionDraft(
            user_id=sam.pk,
            module_id=module.pk,
            module_version=1,
            score=85,
            completed_at=older,
            source="import",
        ),
    ]

    with django_capture_on_commit_callbacks(execute=True):
        records = completion_records_append(drafts=drafts)

    assert [r.score for r in records] == [90, 80, 85]
    assert [r.previous_hash for r in records] == [head.record_hash] + [
        r.record_hash for r in records[:-1]
    ]
    assert len({r.verification_code for r in [head, *records]}) == 4
    assert list(ModuleCompletion.objects.order_by("pk")) == [head, *records]
    # Alex's assignment takes the later of the two completions, whatever the order given.
    alex_assignment = Assignment.objects.get(user=alex, module=module)
    assert (alex_assignment.completed_at, alex_assignment.valid_until) == (
        newer,
        newer + timedelta(days=365),
    )
    assert Assignment.objects.get(user=sam, module=module).completed_at == older
    assert len(queued) == 1  # one count for the whole batch
    verify = StringIO()
    call_command("verify_records", stdout=verify)
    assert "All 4 completion records are intact" in verify.getvalue()


def test_appending_nothing_writes_nothing(db):
    assert completion_records_append(drafts=[]) == []
    assert not ModuleCompletion.objects.exists()
