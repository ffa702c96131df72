"""Module completion: lessons done plus a pass on the current version; records are evidence."""

import base64
import hashlib
import json
import logging
from dataclasses import asdict, replace
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from wagtail.models import Site

from tests.factories import lessons_of, module_with_lessons
from tests.tampering import evidence_triggers_lifted
from training.checkpoints import Checkpoint
from training.models import (
    Assignment,
    AssignmentRule,
    Audience,
    ModuleCompletion,
    QuizPass,
    ReportSettings,
    SentMessage,
)
from training.services.assignments import assignments_sync
from training.services.checkpoints import records_checkpoint_write
from training.services.completion import (
    CompletionDraft,
    completion_record_create,
    completion_records_append,
    quiz_pass_record,
)
from training.services.progress import lesson_complete
from training.tasks import records_checkpoint_task, report_counts_refresh_task

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


# Records that cannot be rewritten quietly: the database refuses, verify_records names.


@pytest.fixture
def chain(site, user_factory):
    """Three people's completions of one module, each through its quiz pass (scores 85)."""
    module = module_with_lessons(1)
    records = []
    for number in range(3):
        learner = user_factory(email=f"learner{number}@example.gov.uk")
        finish_lessons(learner, module)
        _, completion = quiz_pass_record(
            user=learner, module=module, score=85, attempt_id=number + 1, module_version=1
        )
        records.append(completion)
    return records


def verify(*args):
    """verify_records' output and whether it failed."""
    out = StringIO()
    try:
        call_command("verify_records", *args, stdout=out)
    except CommandError as error:
        return out.getvalue() + str(error), True
    return out.getvalue(), False


def refused(attempt):
    with pytest.raises(DatabaseError), transaction.atomic():
        attempt()


@pytest.mark.parametrize(
    "attempt",
    [
        lambda: ModuleCompletion.objects.update(score=100),
        lambda: ModuleCompletion.objects.all().delete(),
        lambda: ModuleCompletion.objects.all()._raw_delete(ModuleCompletion.objects.db),
        lambda: ModuleCompletion.objects.bulk_update(
            [ModuleCompletion(pk=ModuleCompletion.objects.first().pk, score=1)], ["score"]
        ),
        lambda: raw("UPDATE training_modulecompletion SET score = 100"),
        lambda: raw("DELETE FROM training_modulecompletion"),
        lambda: QuizPass.objects.update(score=100),
        lambda: raw("UPDATE training_quizpass SET score = 100"),
        lambda: raw("DELETE FROM training_quizpass"),
    ],
    ids=[
        "completion-orm-update",
        "completion-orm-delete",
        "completion-raw-delete",
        "completion-bulk-update",
        "completion-sql-update",
        "completion-sql-delete",
        "quizpass-orm-update",
        "quizpass-sql-update",
        "quizpass-sql-delete",
    ],
)
def test_the_database_refuses_to_change_or_delete_evidence(chain, attempt):
    refused(attempt)

    assert sorted(ModuleCompletion.objects.values_list("score", flat=True)) == [85, 85, 85]
    assert QuizPass.objects.count() == 3
    assert verify()[1] is False


def raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))


def test_a_quiz_pass_with_no_completion_cannot_be_deleted_either(site, user_factory):
    module = module_with_lessons(1)
    quiz_pass_record(
        user=user_factory(), module=module, score=70, attempt_id=5, module_version=1
    )  # lessons not done: a pass without a completion

    refused(lambda: QuizPass.objects.all().delete())

    assert QuizPass.objects.count() == 1


def test_the_reminder_log_changes_state_but_not_what_was_sent(user_factory):
    person = user_factory(email="alex@example.gov.uk")
    message = SentMessage.objects.create(
        recipient=person,
        recipient_email=person.email,
        kind=SentMessage.Kind.LEARNER,
        period="2026-03-02",
        items=[{"assignment": 1, "why": "overdue"}],
        created_at=timezone.now(),
    )

    SentMessage.objects.filter(pk=message.pk).update(state=SentMessage.State.SENT, attempts=1)
    message.refresh_from_db()
    message.save()  # every column written again, the fixed ones unchanged

    assert SentMessage.objects.get().state == SentMessage.State.SENT
    refused(lambda: SentMessage.objects.update(items=[]))
    refused(lambda: SentMessage.objects.update(recipient_email="someone@example.gov.uk"))
    refused(lambda: raw("UPDATE training_sentmessage SET period = '2026-03-03'"))
    refused(lambda: SentMessage.objects.all().delete())
    assert SentMessage.objects.get().items == [{"assignment": 1, "why": "overdue"}]


def test_new_records_are_signed_with_the_current_key_over_every_field(chain, settings):
    record = chain[0]
    assert record.key_id == settings.AWARE_RECORDS_KEY_ID
    assert '"aware-completion-v2"' in record.content_for_hash()
    assert f",{record.quiz_pass_id},{record.attempt_id}," in record.content_for_hash()
    output, failed = verify()
    assert not failed
    assert "All 3 completion records are intact" in output


def test_verify_names_a_changed_score_even_when_every_later_hash_is_recomputed(chain):
    first = chain[0]
    # Without the key the best anyone can do is the old unkeyed scheme's SHA-256.
    with evidence_triggers_lifted():
        previous = first.previous_hash
        for record in ModuleCompletion.objects.order_by("pk"):
            if record.pk == first.pk:
                record.score = 100
            record.previous_hash = previous
            record.record_hash = previous = hashlib.sha256(
                record.content_for_hash().encode()
            ).hexdigest()
            ModuleCompletion.objects.filter(pk=record.pk).update(
                score=record.score,
                previous_hash=record.previous_hash,
                record_hash=record.record_hash,
            )

    output, failed = verify()

    assert failed
    assert (
        f"PROBLEM record {first.pk} (user {first.user_id}, module 'Test module', completed "
        f"{first.completed_at:%Y-%m-%d}): content changed" in output
    )
    assert (
        f"content changed (score: 100 on the record, 85 on quiz pass {first.quiz_pass_id})"
        in output
    )
    for later in chain[1:]:
        assert f"PROBLEM record {later.pk} (user {later.user_id}" in output
    assert "3 problem(s) in 3 completion records" in output


def test_verify_names_a_changed_quiz_pass_which_is_now_hashed(chain):
    first, second, _ = chain
    with evidence_triggers_lifted():
        ModuleCompletion.objects.filter(pk=second.pk).update(quiz_pass=None)
        ModuleCompletion.objects.filter(pk=first.pk).update(quiz_pass_id=second.quiz_pass_id)

    output, failed = verify()

    assert failed
    assert f"PROBLEM record {first.pk} (user {first.user_id}, module " in output
    assert (
        "content changed (attempt_id: 1 on the record, 2 on quiz pass "
        f"{second.quiz_pass_id}; user_id: {first.user_id} on the record, {second.user_id} on"
        in output
    )
    assert f"PROBLEM record {second.pk}" in output  # its quiz_pass_id is hashed too


def test_verify_names_a_forged_record_appended_without_the_key(chain):
    last = chain[-1]
    forged = ModuleCompletion(
        user_id=last.user_id,
        module_id=last.module_id,
        module_version=1,
        score=100,
        completed_at=timezone.now(),
        verification_code="FORGED0001",
        previous_hash=last.record_hash,
        key_id=last.key_id,
    )
    forged.record_hash = hashlib.sha256(forged.content_for_hash().encode()).hexdigest()
    unkeyed = ModuleCompletion(
        user_id=last.user_id,
        module_id=last.module_id,
        module_version=1,
        score=100,
        completed_at=timezone.now(),
        verification_code="FORGED0002",
        previous_hash=forged.record_hash,
    )
    unkeyed.record_hash = unkeyed.compute_hash()  # the legacy scheme: no key needed
    ModuleCompletion.objects.bulk_create([forged, unkeyed])  # inserts are allowed

    output, failed = verify()

    forged, unkeyed = ModuleCompletion.objects.order_by("-pk")[:2][::-1]
    assert failed
    assert f"PROBLEM record {forged.pk} (user {forged.user_id}" in output
    assert "content changed: it no longer matches its hash" in output
    assert (
        f"PROBLEM record {unkeyed.pk} (user {unkeyed.user_id}, module 'Test module', completed "
        f"{unkeyed.completed_at:%Y-%m-%d}): unkeyed (legacy) record written after records were "
        "keyed: forged" in output
    )


def test_verify_names_a_record_signed_with_a_key_it_does_not_hold(chain, settings):
    settings.AWARE_RECORDS_KEYS = {
        "2026b": b"b" * 32,
        settings.AWARE_RECORDS_KEY_ID: settings.AWARE_RECORDS_KEYS[settings.AWARE_RECORDS_KEY_ID],
    }
    with evidence_triggers_lifted():
        ModuleCompletion.objects.filter(pk=chain[1].pk).update(key_id="1999z")

    output, failed = verify()

    assert failed
    assert f"PROBLEM record {chain[1].pk} (user {chain[1].user_id}" in output
    assert "signed with unknown key '1999z' (not in AWARE_RECORDS_KEYS)" in output


def test_legacy_records_still_verify_and_the_output_says_so(site, user_factory):
    module = module_with_lessons(1)
    legacy = ModuleCompletion(
        user=user_factory(),
        module=module,
        module_version=1,
        score=80,
        completed_at=timezone.now() - timedelta(days=30),
        verification_code="LEGACY0001",
    )
    legacy.record_hash = hashlib.sha256(legacy.legacy_content_for_hash().encode()).hexdigest()
    legacy.save()
    completion_record_create(
        user=legacy.user, module=module, module_version=1, score=90, completed_at=timezone.now()
    )

    output, failed = verify()

    assert not failed
    assert "1 legacy records (written before records were keyed: plain SHA-256" in output
    assert "All 2 completion records are intact" in output


def test_appending_without_the_current_key_raises_a_clear_error_and_writes_nothing(
    site, user_factory, settings
):
    module = module_with_lessons(1)
    learner = user_factory()
    settings.AWARE_RECORDS_KEY_ID = "2027a"

    with pytest.raises(ImproperlyConfigured, match="AWARE_RECORDS_KEY_ID is '2027a' but"):
        completion_record_create(
            user=learner, module=module, module_version=1, score=90, completed_at=timezone.now()
        )

    assert not ModuleCompletion.objects.exists()
    settings.AWARE_RECORDS_KEY_ID = ""
    with pytest.raises(ImproperlyConfigured, match="AWARE_RECORDS_KEY_ID is not set"):
        completion_record_create(
            user=learner, module=module, module_version=1, score=90, completed_at=timezone.now()
        )
    assert not ModuleCompletion.objects.exists()


def test_appending_with_a_wrong_key_raises_a_clear_error_and_writes_nothing(chain, settings):
    settings.AWARE_RECORDS_KEYS = {settings.AWARE_RECORDS_KEY_ID: b"not the key" * 4}
    head = chain[-1]

    with pytest.raises(ImproperlyConfigured, match=f"record \\({head.pk}\\) does not verify"):
        completion_record_create(
            user=head.user,
            module=head.module,
            module_version=1,
            score=90,
            completed_at=timezone.now(),
        )

    assert ModuleCompletion.objects.count() == 3


def test_a_records_key_that_is_not_base64_or_too_short_is_refused_at_start_up():
    from config.settings.base import records_keys_parse

    assert records_keys_parse("2026a:" + base64.b64encode(b"k" * 32).decode()) == {
        "2026a": b"k" * 32
    }
    with pytest.raises(ImproperlyConfigured, match="key '2026a' must be at least 32"):
        records_keys_parse("2026a:c2hvcnQ=")
    with pytest.raises(ImproperlyConfigured, match="key '2026b' must be at least 32"):
        records_keys_parse("2026b:not base64!")
    with pytest.raises(ImproperlyConfigured, match="entry 1 must be 'key-id:base64-secret'"):
        records_keys_parse("no-colon-here")


# Checkpoints: the chain's head, signed, kept outside the database.


@pytest.fixture
def checkpoint_mailbox(site):
    settings_row = ReportSettings.for_site(site)
    settings_row.checkpoint_mailbox = "audit@example.gov.uk"
    settings_row.save()
    return settings_row.checkpoint_mailbox


def test_a_checkpoint_is_signed_appended_to_its_file_and_emailed(
    chain, checkpoint_mailbox, settings, mailoutbox
):
    first = records_checkpoint_write()
    second = records_checkpoint_write()

    lines = (Path(settings.AWARE_CHECKPOINT_DIR) / "records-checkpoints.jsonl").read_text()
    assert [json.loads(line) for line in lines.splitlines()] == [asdict(first), asdict(second)]
    assert (first.count, first.last_id, first.last_hash) == (
        3,
        chain[-1].pk,
        chain[-1].record_hash,
    )
    assert first.key_id == settings.AWARE_RECORDS_KEY_ID
    assert first.signature_valid()
    # Both are filed; the email goes once a day (a second beat or a rerun is not mailed).
    assert [m.to for m in mailoutbox] == [[checkpoint_mailbox]]
    assert first.to_line() in mailoutbox[0].body
    assert "verify_records --checkpoint FILE" in mailoutbox[0].body
    for record in chain:  # no personal data in the line
        assert record.user.email not in lines
        assert record.user.full_name not in lines


def test_the_checkpoint_goes_to_the_hr_mailbox_when_no_checkpoint_mailbox_is_named(
    chain, settings, mailoutbox
):
    report_settings = ReportSettings.for_site(Site.objects.get(is_default_site=True))
    report_settings.hr_mailbox = "hr@example.gov.uk"
    report_settings.save()

    records_checkpoint_write()

    assert [m.to for m in mailoutbox] == [["hr@example.gov.uk"]]


def test_a_mailbox_refusing_mail_still_gets_the_checkpoint_written_and_logged(
    chain, checkpoint_mailbox, settings, caplog
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2

    with caplog.at_level(logging.WARNING, logger="training.services.checkpoints"):
        checkpoint = records_checkpoint_write()

    path = Path(settings.AWARE_CHECKPOINT_DIR) / "records-checkpoints.jsonl"
    assert path.read_text() == checkpoint.to_line()
    assert "written to its file but not emailed: ConnectionRefusedError" in caplog.text
    assert checkpoint_mailbox not in caplog.text


def test_the_checkpoint_task_runs_the_service(monkeypatch):
    from training.services import checkpoints

    written = []
    monkeypatch.setattr(
        checkpoints,
        "records_checkpoint_write",
        lambda: written.append(1) or Checkpoint(4, 9, "h", "t", "k"),
    )

    assert records_checkpoint_task() == {"count": 4, "last_id": 9}
    assert written == [1]


def test_deleting_the_newest_record_is_caught_against_the_checkpoint(chain, tmp_path):
    checkpoint = records_checkpoint_write()
    newest = chain[-1]
    with evidence_triggers_lifted():
        raw("DELETE FROM training_modulecompletion WHERE id = %s", [newest.pk])

    output, failed = verify()

    assert failed
    described = f"checkpoint of {checkpoint.taken_at} (count 3, last id {newest.pk})"
    assert f"PROBLEM chain: missing after {described}: 2 records up to id {newest.pk}, 1 gone" in (
        output
    )
    assert f"PROBLEM record {newest.pk}: missing after {described}: the checkpoint's last" in (
        output
    )
    # The same from a copy an auditor saved from the email, given by name.
    saved = tmp_path / "from-the-email.jsonl"
    saved.write_text(checkpoint.to_line())
    output, failed = verify("--checkpoint", str(saved))
    assert failed
    assert f"in {saved}" in output
    assert "1 gone" in output


def test_without_a_checkpoint_a_deleted_newest_record_goes_unseen_and_verify_says_so(chain):
    with evidence_triggers_lifted():
        raw("DELETE FROM training_modulecompletion WHERE id = %s", [chain[-1].pk])

    output, failed = verify()

    assert not failed
    assert "No checkpoint in" in output
    assert "records removed from the end of the chain cannot be detected" in output


def test_a_rewritten_chain_or_an_altered_checkpoint_is_caught(chain, tmp_path, settings):
    checkpoint = records_checkpoint_write()
    altered = tmp_path / "altered.jsonl"
    altered.write_text(replace(checkpoint, count=2).to_line())

    output, failed = verify("--checkpoint", str(altered))

    assert failed
    assert "signature invalid (the checkpoint was altered)" in output
    # With the key, someone rewrites the whole chain: the checkpoint kept outside still differs.
    with evidence_triggers_lifted():
        previous = ""
        for record in ModuleCompletion.objects.order_by("pk"):
            record.score, record.previous_hash = 100, previous
            record.record_hash = previous = record.compute_hash()
            ModuleCompletion.objects.filter(pk=record.pk).update(
                score=100, previous_hash=record.previous_hash, record_hash=record.record_hash
            )
        QuizPass.objects.update(score=100)
    output, failed = verify()
    assert failed
    assert f"PROBLEM record {chain[-1].pk} (user {chain[-1].user_id}" in output
    assert "hash differs from the checkpoint of" in output
    assert "the chain up to it was rewritten" in output


def test_a_checkpoint_file_that_cannot_be_read_stops_verify(tmp_path, db):
    with pytest.raises(CommandError, match="Cannot read the checkpoint"):
        call_command("verify_records", "--checkpoint", str(tmp_path / "none.jsonl"))
