"""Module versions: a "learners must retake" publish keeps valid evidence valid until the update-by
date, tells the learner what changed, and never moves a figure at the moment of publishing."""

import datetime as dt
import re

import pytest
import time_machine

from tests.factories import lessons_of, module_with_lessons
from training.models import (
    Assignment,
    AssignmentRule,
    Audience,
    ModulePage,
    ModuleVersion,
    RetakeRequest,
    SentMessage,
    Status,
)
from training.reports.filters import ReportFilters
from training.reports.live import compliance_overview
from training.reports.snapshot import report_counts_refresh, snapshot_overview
from training.selectors import assignment_states_for_users
from training.services.assignments import assignments_sync
from training.services.completion import quiz_pass_record
from training.services.exemptions import assignment_exempt
from training.services.progress import lesson_complete, lesson_open
from training.services.versions import module_update_messages_log
from training.tasks import reminder_send_task

pytestmark = pytest.mark.django_db

PUBLISHED = "2026-03-01"


def at(day: str, hour: int = 9) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{hour:02d}:00:00+00:00")


@pytest.fixture
def module(site):
    return module_with_lessons(2)


@pytest.fixture
def rule(module):
    officers = Audience.objects.create(name="Officers", slug="officers-v", person_types=["officer"])
    return AssignmentRule.objects.create(
        module=module, audience=officers, due_days=28, valid_months=12, reopen_days=60
    )


def complete(user, module, attempt_id, when, score=100):
    with time_machine.travel(when, tick=False):
        for lesson in lessons_of(module):
            lesson_complete(user=user, lesson=lesson)
        _, completion = quiz_pass_record(
            user=user,
            module=module,
            score=score,
            attempt_id=attempt_id,
            module_version=module.version,
        )
    return completion


def publish_retake(module, when, note="New offences under the 2026 Act.", update_by_days=60):
    with time_machine.travel(when, tick=False):
        draft = module.get_latest_revision_as_object()
        draft.learners_must_retake = True
        draft.change_note = note
        draft.update_by_days = update_by_days
        draft.save_revision().publish()
    module.refresh_from_db()


def statuses(people, when) -> dict[str, str]:
    with time_machine.travel(when, tick=False):
        states = assignment_states_for_users(user_ids=[p.pk for p in people])
    return {p.email: [s.status for s in states[p.pk]] for p in people}


def figures(when) -> tuple[dict, float]:
    row = compliance_overview(filters=ReportFilters(), now=when).modules[0]
    return dict(row.counts), row.rate


@pytest.fixture
def council(rule, module, user_factory):
    """Six officers, one in each state a retake publish can find them in."""
    people = {
        name: user_factory(email=f"{name}@example.gov.uk")
        for name in ("valid", "expired", "renewing", "fresh", "started", "exempt")
    }
    with time_machine.travel(at("2025-01-05"), tick=False):
        assignments_sync()
    complete(people["expired"], module, 1, at("2025-02-01"))  # expired 1 February 2026
    complete(people["renewing"], module, 2, at("2025-04-01"))  # renewal open from 1 February
    complete(people["valid"], module, 3, at("2026-01-10"))
    complete(people["exempt"], module, 4, at("2026-01-10"))
    with time_machine.travel(at("2026-01-11"), tick=False):
        lesson_open(user=people["started"], lesson=lessons_of(module)[0])
        assignment_exempt(
            assignment=Assignment.objects.get(user=people["exempt"]),
            reason="Long-term secondment",
            by=people["valid"],
        )
    return people


def test_a_retake_publish_changes_no_figure_and_no_status_at_that_moment(council, module):
    people = list(council.values())
    before_counts, before_rate = figures(at(PUBLISHED))
    before = statuses(people, at(PUBLISHED))
    assert before_counts["compliant"] == 2  # valid and renewing; expired is not

    publish_retake(module, at(PUBLISHED))

    assert module.version == 2
    after_counts, after_rate = figures(at(PUBLISHED, 10))
    assert (after_counts, after_rate) == (before_counts, before_rate)
    after = statuses(people, at(PUBLISHED, 10))
    # Only the person whose completion was simply valid changes: an update is now asked for.
    assert after == {**before, "valid@example.gov.uk": [Status.DUE_SOON]}
    assert before["valid@example.gov.uk"] == [Status.COMPLETED]
    # Everyone now needs version 2.
    assert set(Assignment.objects.open().values_list("required_version", flat=True)) == {2}


def test_the_snapshot_figures_do_not_move_either(council, module):
    report_counts_refresh(now=at(PUBLISHED))
    before = snapshot_overview(filters=ReportFilters()).modules[0]
    publish_retake(module, at(PUBLISHED))
    report_counts_refresh(now=at(PUBLISHED, 10))
    after = snapshot_overview(filters=ReportFilters()).modules[0]
    assert (after.counts, after.rate) == (before.counts, before.rate)


def test_the_earlier_completion_counts_until_the_update_by_date_or_its_expiry(council, module):
    publish_retake(module, at(PUBLISHED), update_by_days=45)  # update by 15 April 2026
    valid = Assignment.objects.open().get(user=council["valid"])
    renewing = Assignment.objects.open().get(user=council["renewing"])
    assert valid.due_on == dt.date(2026, 4, 15)
    # To the end of that day, London time (summer time by then).
    assert valid.valid_until == dt.datetime(2026, 4, 15, 22, 59, 59, 999999, tzinfo=dt.UTC)
    assert valid.closed_at is None
    assert valid.required_version == 2
    # The completion expiring first (1 April) keeps its own date; update-by caps the other.
    assert renewing.valid_until == at("2026-04-01")

    assert statuses([council["valid"]], at("2026-04-15", 21)) == {
        "valid@example.gov.uk": [Status.DUE_SOON]
    }
    assert statuses([council["valid"]], at("2026-04-16", 9)) == {
        "valid@example.gov.uk": [Status.EXPIRED]
    }
    counts, _ = figures(at("2026-04-16"))
    assert counts["compliant"] == 0
    # The earlier assignment is kept as history.
    old = Assignment.objects.filter(user=council["valid"], closed_at__isnull=False).get()
    assert old.closed_reason == Assignment.Closed.SUPERSEDED
    assert old.required_version == 1


def test_completing_the_new_version_makes_them_up_to_date_again(council, module):
    publish_retake(module, at(PUBLISHED))
    complete(council["valid"], module, 10, at("2026-03-10"))
    assert statuses([council["valid"]], at("2026-03-11")) == {
        "valid@example.gov.uk": [Status.COMPLETED]
    }
    assignment = Assignment.objects.open().get(user=council["valid"])
    assert assignment.valid_until == at("2027-03-10")


def test_an_exemption_survives_a_retake_publish(council, module):
    publish_retake(module, at(PUBLISHED))
    assert statuses([council["exempt"]], at(PUBLISHED, 10)) == {
        "exempt@example.gov.uk": [Status.EXEMPT]
    }


def test_an_edit_without_the_flag_keeps_the_version_and_the_assignments(council, module):
    with time_machine.travel(at(PUBLISHED), tick=False):
        draft = module.get_latest_revision_as_object()
        draft.summary = "Clearer wording."
        draft.save_revision().publish()
    module.refresh_from_db()
    assert module.version == 1
    assert ModuleVersion.objects.filter(module=module).count() == 1
    assert not Assignment.objects.filter(closed_at__isnull=False).exists()


def test_the_learner_sees_what_changed_and_what_to_do_on_the_module_page(council, module, client):
    publish_retake(module, at(PUBLISHED))
    client.force_login(council["valid"])
    with time_machine.travel(at("2026-03-02"), tick=False):
        html = client.get(module.url).content.decode()
    assert "Updated on 1 March 2026: New offences under the 2026 Act." in html
    assert "You passed version 1 on 10 January 2026" in html
    assert "take the assessment for version 2 by 30 April 2026" in html


def test_my_training_asks_for_the_update_and_keeps_the_module_up_to_date(council, module, client):
    publish_retake(module, at(PUBLISHED))
    client.force_login(council["valid"])
    with time_machine.travel(at("2026-03-02"), tick=False):
        response = client.get("/my-training/")
    html = response.content.decode()
    assert [s.assignment.module_id for s in response.context["done"]] == [module.pk]
    (to_do,) = response.context["to_do"]
    assert to_do.update.number == 2
    assert "Updated on 1 Mar 2026: New offences under the 2026 Act.<br>" in html
    assert "You passed version 1 on 10 Jan 2026; take version 2 by 30 Apr 2026." in html
    assert re.search(r"Valid until</dt>\s*<dd[^>]*>30 Apr 2026</dd>", html)

    with time_machine.travel(at("2026-05-01"), tick=False):
        response = client.get("/my-training/")
    assert response.context["done"] == []


def test_the_verify_page_names_the_version_and_the_newer_one(council, module, client):
    completion = council["valid"].module_completions.get()
    publish_retake(module, at(PUBLISHED))
    with time_machine.travel(at("2026-03-02"), tick=False):
        html = client.get(f"/verify/{completion.verification_code}/").content.decode()
    assert "genuine and current" not in html
    assert "valid for version 1 until 30 April 2026; version 2 published 1 March 2026" in html
    with time_machine.travel(at("2026-05-01"), tick=False):
        html = client.get(f"/verify/{completion.verification_code}/").content.decode()
    assert "Superseded" in html
    assert "was valid for version 1 until 30 April 2026" in html


def test_one_email_tells_each_person_asked_to_update_once_only(
    council, module, monkeypatch, mailoutbox, django_capture_on_commit_callbacks
):
    queued = []

    def run_now(args=(), kwargs=None, **options):
        queued.append(args)
        return reminder_send_task.apply(args=args, kwargs=kwargs)

    monkeypatch.setattr(reminder_send_task, "apply_async", run_now)
    with django_capture_on_commit_callbacks(execute=True):
        publish_retake(module, at(PUBLISHED))

    messages = SentMessage.objects.filter(kind=SentMessage.Kind.MODULE_UPDATED)
    told = {m.recipient.email for m in messages}
    # Everyone whose earlier completion is carried, but not the exempt, and nobody who had not
    # completed (they needed the module anyway).
    assert told == {"valid@example.gov.uk", "renewing@example.gov.uk", "expired@example.gov.uk"}
    assert {m.period for m in messages} == {f"module-{module.pk}-v2"}
    assert set(messages.values_list("state", flat=True)) == {SentMessage.State.SENT}
    email = next(e for e in mailoutbox if e.to == ["valid@example.gov.uk"])
    assert email.subject == ("Test module has been updated: please take version 2 by 30 April 2026")
    assert "What changed: New offences under the 2026 Act." in email.body
    assert len(mailoutbox) == 3
    assert len(queued) == 3

    # Logging again for the same version sends nobody anything new.
    version = ModuleVersion.objects.get(module=module, number=2)
    with django_capture_on_commit_callbacks(execute=True):
        module_update_messages_log(
            version=version, assignments=list(Assignment.objects.open()), now=at(PUBLISHED, 11)
        )
    assert messages.count() == 3
    assert len(mailoutbox) == 3


def test_a_dead_broker_does_not_stop_the_publish_and_the_email_waits_in_the_log(
    council, module, monkeypatch, mailoutbox, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise OSError("Connection refused")

    monkeypatch.setattr(reminder_send_task, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        publish_retake(module, at(PUBLISHED))
    assert module.version == 2
    waiting = SentMessage.objects.filter(kind=SentMessage.Kind.MODULE_UPDATED)
    assert set(waiting.values_list("state", flat=True)) == {SentMessage.State.PENDING}
    assert mailoutbox == []


def test_the_email_preview_shows_the_module_updated_email(client, site, signed_in_with_mfa):
    signed_in_with_mfa("ed@example.gov.uk", groups=["Content editors"], person_type="other")
    response = client.get("/cms/reminder-previews/", {"kind": "module-updated"})
    assert response.status_code == 200
    assert "has been updated: please take version 2" in response.content.decode()


def test_the_version_panel_tells_the_approver_what_publishing_will_do(
    council, module, client, signed_in_with_mfa
):
    signed_in_with_mfa("ed@example.gov.uk", groups=["Content editors"], person_type="other")
    edit_url = f"/cms/pages/{module.pk}/edit/"
    with time_machine.travel(at(PUBLISHED), tick=False):
        html = client.get(edit_url).content.decode()
        assert "Publishing keeps version 1: nobody is asked to take it again." in html

        draft = module.get_latest_revision_as_object()
        draft.learners_must_retake = True
        draft.save_revision()
        html = client.get(edit_url).content.decode()
    # valid, renewing and expired completed version 1 (exempt is left out); fresh and started
    # have not completed it.
    assert (
        "3 people will be asked to update (one email each); 2 certificates stay valid until "
        "30 April 2026 (or until they expire, if sooner). 2 people who have not completed it "
        "yet will need the new version." in html
    )


def test_a_later_revision_with_the_tick_off_still_raises_the_version(council, module):
    with time_machine.travel(at(PUBLISHED), tick=False):
        draft = module.get_latest_revision_as_object()
        draft.learners_must_retake, draft.change_note = True, "New offences."
        draft.save_revision()  # submitted with the tick on
        stale = ModulePage.objects.get(pk=module.pk)  # a tab opened before the tick
        stale.summary = "A clearer summary."
        published = stale.save_revision()
        assert published.content["learners_must_retake"] is False
        published.publish()
    module.refresh_from_db()
    assert module.version == 2
    version = ModuleVersion.objects.get(module=module, number=2)
    assert version.change_note == "New offences."
    assert RetakeRequest.objects.get().version == version
    assert not RetakeRequest.objects.pending().exists()
    # The next draft starts from the published revision, without the tick or a stale note.
    draft = ModulePage.objects.get(pk=module.pk).get_latest_revision_as_object()
    assert (draft.version, draft.learners_must_retake, draft.change_note) == (
        2,
        False,
        "New offences.",
    )
    # And a plain edit after that keeps version 2.
    draft.summary = "Clearer again."
    draft.save_revision().publish()
    module.refresh_from_db()
    assert module.version == 2


def test_an_editor_can_withdraw_the_request_and_then_the_version_stays(
    council, module, client, signed_in_with_mfa
):
    signed_in_with_mfa("ed@example.gov.uk", groups=["Content editors"], person_type="other")
    draft = module.get_latest_revision_as_object()
    draft.learners_must_retake, draft.change_note = True, "New offences."
    draft.save_revision()
    draft.learners_must_retake = False
    draft.save_revision()

    edit = client.get(f"/cms/pages/{module.pk}/edit/").content.decode()
    assert "Learners must retake: requested" in edit
    assert "3 people will be asked to update" in edit
    url = f"/cms/modules/{module.pk}/retake-request/withdraw/"
    assert "Withdraw the request" in client.get(url).content.decode()
    assert client.post(url).status_code == 302
    assert not RetakeRequest.objects.pending().exists()
    assert (
        "Publishing keeps version 1" in client.get(f"/cms/pages/{module.pk}/edit/").content.decode()
    )

    ModulePage.objects.get(pk=module.pk).get_latest_revision().publish()
    module.refresh_from_db()
    assert module.version == 1


def test_only_someone_who_may_edit_the_module_can_withdraw(council, module, client):
    draft = module.get_latest_revision_as_object()
    draft.learners_must_retake = True
    draft.save_revision()
    client.force_login(council["valid"])
    response = client.post(f"/cms/modules/{module.pk}/retake-request/withdraw/")
    assert response.status_code in {302, 403}
    assert RetakeRequest.objects.pending().exists()
