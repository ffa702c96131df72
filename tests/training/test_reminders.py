"""Reminders: digests, escalation and reliability, over a simulated two months."""

import datetime as dt
import logging
from io import StringIO

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone
from wagtail.models import Site

from accounts.services import user_deactivate
from tests.factories import lessons_of, module_with_lessons
from training.models import (
    Assignment,
    AssignmentRule,
    Audience,
    ReminderSettings,
    ReportSettings,
    SentMessage,
)
from training.reminders.emails import TEMPLATES
from training.reminders.planning import ReminderPlan, reminders_plan
from training.reminders.sending import reminder_message_send, reminders_sweep
from training.services.assignments import assignments_sync
from training.services.completion import quiz_pass_record
from training.services.progress import lesson_complete

pytestmark = pytest.mark.django_db
START = dt.date(2026, 1, 5)  # a Monday


def morning(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(7, 30), tzinfo=timezone.get_current_timezone())


@pytest.fixture
def org(site, user_factory):
    rules = ReminderSettings.for_site(Site.objects.get(is_default_site=True))
    rules.member_services_email = "members@example.gov.uk"
    rules.monitoring_officer_email = "mo@example.gov.uk"
    rules.save()
    reports = ReportSettings.for_site(Site.objects.get(is_default_site=True))
    reports.hr_mailbox = "hr-team@example.gov.uk"
    reports.save()
    senior = user_factory(email="senior@example.gov.uk", person_type="other")
    manager = user_factory(email="manager@example.gov.uk", person_type="other", line_manager=senior)
    people = {
        "senior": senior,
        "manager": manager,
        "a": user_factory(
            email="a@example.gov.uk", line_manager=manager, start_date=dt.date(2025, 1, 1)
        ),
        "b": user_factory(
            email="b@example.gov.uk", line_manager=manager, start_date=dt.date(2025, 1, 1)
        ),
        "leaver": user_factory(
            email="leaver@example.gov.uk", line_manager=manager, start_date=dt.date(2025, 1, 1)
        ),
        "on_leave": user_factory(
            email="away@example.gov.uk",
            line_manager=manager,
            start_date=dt.date(2025, 1, 1),
            on_leave_until=dt.date(2026, 2, 4),
        ),
        "cllr": user_factory(
            email="cllr@example.gov.uk", person_type="councillor", start_date=dt.date(2025, 5, 1)
        ),
    }
    module = module_with_lessons(1, title="Fraud basics")
    learners = Audience.objects.create(
        name="Learners", slug="learners", person_types=["officer", "councillor"]
    )
    AssignmentRule.objects.create(module=module, audience=learners, due_days=21, valid_months=12)
    with time_machine.travel(morning(START) - dt.timedelta(hours=1), tick=False):
        assignments_sync()
    return people, module


def sent_log() -> list[tuple[str, str, str]]:
    return sorted(
        (timezone.localdate(m.created_at).isoformat(), m.recipient_email, m.kind)
        for m in SentMessage.objects.all()
    )


def test_sixty_days_of_reminders_go_to_exactly_the_right_people(org):
    people, module = org
    for offset in range(60):
        day = START + dt.timedelta(days=offset)
        with time_machine.travel(morning(day), tick=False):
            if day == dt.date(2026, 1, 7):
                user_deactivate(user=people["leaver"])
            if day == dt.date(2026, 1, 21):
                lesson_complete(user=people["b"], lesson=lessons_of(module)[0])
                quiz_pass_record(
                    user=people["b"], module=module, score=90, attempt_id=1, module_version=1
                )
            if day.weekday() < 5:
                reminders_sweep(send_now=True)

    def days(*dates):
        return [dt.date.fromisoformat(d).isoformat() for d in dates]

    # Officer a and the councillor fall due together, so are reminded on the same days: once when
    # the assignment is due soon (within DUE_SOON_DAYS, 14 days before 26 January, as every page
    # shows it), then when overdue and every week after.
    overdue_learner = days(
        "2026-01-12",
        "2026-01-27",
        "2026-02-03",
        "2026-02-10",
        "2026-02-17",
        "2026-02-24",
        "2026-03-03",
    )
    expected = sorted(
        [(d, "a@example.gov.uk", "learner") for d in overdue_learner]
        + [("2026-01-12", "b@example.gov.uk", "learner")]
        + [
            (d, "away@example.gov.uk", "learner")
            for d in days("2026-02-05", "2026-02-12", "2026-02-19", "2026-02-26", "2026-03-05")
        ]
        + [(d, "cllr@example.gov.uk", "learner") for d in overdue_learner]
        + [
            (d, "manager@example.gov.uk", "manager")
            for d in days("2026-02-09", "2026-02-16", "2026-02-23", "2026-03-02")
        ]
        + [(d, "senior@example.gov.uk", "senior-manager") for d in days("2026-02-23", "2026-03-02")]
        + [
            (d, "members@example.gov.uk", "member-services")
            for d in days("2026-02-09", "2026-02-16", "2026-02-23", "2026-03-02")
        ]
        + [(d, "mo@example.gov.uk", "monitoring-officer") for d in days("2026-02-23", "2026-03-02")]
        + [
            (d, "hr-team@example.gov.uk", "hr-summary")
            for d in days(
                "2026-01-05",
                "2026-01-12",
                "2026-01-19",
                "2026-01-26",
                "2026-02-02",
                "2026-02-09",
                "2026-02-16",
                "2026-02-23",
                "2026-03-02",
            )
        ]
    )
    assert sent_log() == expected
    assert len(mail.outbox) == len(expected)
    assert not SentMessage.objects.exclude(state=SentMessage.State.SENT).exists()
    manager_digest = SentMessage.objects.get(
        recipient_email="manager@example.gov.uk", period="2026-02-09"
    )
    assert len(manager_digest.items) == 2  # one team digest listing both overdue reports


def test_the_digest_lists_everything_with_links_and_the_council_name(org):
    _, module = org
    with time_machine.travel(morning(dt.date(2026, 1, 27)), tick=False):
        reminders_sweep(send_now=True)

    email = next(m for m in mail.outbox if m.to == ["a@example.gov.uk"])
    assert "Fraud basics: overdue by 1 day" in email.body
    assert "/my-training/" in email.body
    assert "Aware Demo Council" in email.body
    html = email.alternatives[0][0]
    assert 'lang="en-GB"' in html
    assert module.get_url() in html


def test_running_the_sweep_twice_sends_nothing_twice(org):
    with time_machine.travel(morning(dt.date(2026, 1, 27)), tick=False):
        first = reminders_sweep(send_now=True)
        count = len(mail.outbox)
        second = reminders_sweep(send_now=True)

    assert first.created > 0
    assert second.created == 0
    assert len(mail.outbox) == count


def test_the_database_refuses_a_second_message_with_the_same_key(org):
    with time_machine.travel(morning(dt.date(2026, 1, 27)), tick=False):
        reminders_sweep(send_now=True)
    message = SentMessage.objects.filter(kind="learner").first()

    with pytest.raises(IntegrityError), transaction.atomic():
        SentMessage.objects.create(
            recipient_email=message.recipient_email,
            kind=message.kind,
            period=message.period,
            created_at=timezone.now(),
        )


def test_a_batch_left_pending_by_a_killed_worker_is_finished_once(org):
    with time_machine.travel(morning(dt.date(2026, 1, 27)), tick=False):
        reminders_sweep(send_now=False)  # logged and queued; the worker died before sending
    pending = SentMessage.objects.filter(state=SentMessage.State.PENDING).count()
    assert pending > 0
    reminder_message_send(message_id=SentMessage.objects.first().pk)  # one got out
    sent_before = len(mail.outbox)

    with time_machine.travel(morning(dt.date(2026, 1, 27)) + dt.timedelta(minutes=20), tick=False):
        reminders_sweep(send_now=True)

    assert len(mail.outbox) == sent_before + pending - 1
    assert not SentMessage.objects.filter(state=SentMessage.State.PENDING).exists()
    assert len({tuple(m.to) for m in mail.outbox}) == len(mail.outbox)


def test_smtp_failure_retries_then_records_and_others_still_go(org, settings):
    from training.tasks import reminder_send_task

    with time_machine.travel(morning(dt.date(2026, 1, 27)), tick=False):
        reminders_sweep(send_now=False)
    first, second = SentMessage.objects.filter(kind="learner").order_by("pk")[:2]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2

    # Eagerly, Celery runs the retries at once: five retries with backoff, then the last word.
    result = reminder_send_task.apply(args=[first.pk])

    assert result.result is False
    first.refresh_from_db()
    assert first.state == SentMessage.State.FAILED
    assert "ConnectionRefusedError" in first.error

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert reminder_send_task.apply(args=[second.pk]).result is True
    assert len(mail.outbox) == 1


def test_with_the_broker_down_the_next_sweep_catches_up(
    org, caplog, django_capture_on_commit_callbacks, dead_broker
):
    from training.tasks import reminders_sweep_task

    # The clock ticks here: the broker client's own timeouts must be able to run out.
    with (
        caplog.at_level(logging.ERROR),
        django_capture_on_commit_callbacks(execute=True),
        time_machine.travel(morning(dt.date(2026, 1, 27))),
    ):
        result = reminders_sweep_task()  # as beat runs it: log, then queue a send each
    assert result["created"] > 0
    assert "broker is unreachable" in caplog.text
    assert len(mail.outbox) == 0

    reminders_sweep(now=morning(dt.date(2026, 1, 28)), send_now=True)

    assert not SentMessage.objects.filter(state=SentMessage.State.PENDING).exists()
    assert {m.to[0] for m in mail.outbox} >= {"a@example.gov.uk", "cllr@example.gov.uk"}


def test_no_reminders_for_exempt_completed_inactive_or_on_leave(org, user_factory):
    people, module = org
    hr = user_factory(email="hr.person@example.gov.uk", person_type="other")
    from training.services.exemptions import assignment_exempt

    assignment_exempt(
        assignment=Assignment.objects.get(user=people["a"]), reason="Secondment", by=hr
    )
    user_deactivate(user=people["cllr"])
    user_deactivate(user=people["leaver"])
    with time_machine.travel(morning(dt.date(2026, 1, 27)), tick=False):
        lesson_complete(user=people["b"], lesson=lessons_of(module)[0])
        quiz_pass_record(user=people["b"], module=module, score=90, attempt_id=1, module_version=1)
        reminders_sweep(send_now=True)

    recipients = {m.to[0] for m in mail.outbox}
    assert recipients == {"hr-team@example.gov.uk"}


def test_dry_run_prints_the_plan_and_sends_nothing(org):
    out = StringIO()
    with time_machine.travel(morning(dt.date(2026, 1, 27)), tick=False):
        call_command("send_reminders", "--dry-run", stdout=out)

    assert "learner to a@example.gov.uk: Fraud basics (overdue)" in out.getvalue()
    assert "none sent" in out.getvalue()
    assert not SentMessage.objects.exists()
    assert mail.outbox == []


def test_changing_the_settings_moves_the_beat_schedule(org):
    from django_celery_beat.models import PeriodicTask

    rules = ReminderSettings.for_site(Site.objects.get(is_default_site=True))
    rules.send_time = dt.time(8, 15)
    rules.send_days = "mon,wed,fri"
    rules.save()

    task = PeriodicTask.objects.get(name="reminder-sweep")
    assert (task.crontab.hour, task.crontab.minute, task.crontab.day_of_week) == (
        "8",
        "15",
        "mon,wed,fri",
    )
    assert str(task.crontab.timezone) == "Europe/London"
    assert task.task == "training.tasks.reminders_sweep_task"


def test_editors_preview_every_email_and_hr_sees_the_log(client, org, signed_in_with_mfa):
    editor = signed_in_with_mfa(
        "ed@example.gov.uk", groups=["Content editors"], person_type="other"
    )
    for kind in TEMPLATES:  # every templated email (scheduled reports and the checkpoint are not)
        page = client.get("/cms/reminder-previews/", {"kind": kind})
        assert page.status_code == 200, kind
        assert page.context["email"].subject.strip(), kind
    assert [value for value, _label in page.context["kinds"]] == list(TEMPLATES)
    assert client.get("/cms/reminder-previews/", {"kind": "nope"}).status_code == 404

    with time_machine.travel(morning(dt.date(2026, 1, 27)), tick=False):
        reminders_sweep(send_now=True)
    signed_in_with_mfa("hr.person@example.gov.uk", groups=["HR"], person_type="other")
    log = client.get("/cms/snippets/training/sentmessage/", {"q": "a@example.gov.uk"})
    assert log.status_code == 200
    assert "a@example.gov.uk" in log.content.decode()
    client.force_login(editor)
    refused = client.get("/cms/snippets/training/sentmessage/")
    assert (refused.status_code, refused["Location"]) == (302, "/cms/")


def test_the_weekly_cap_holds_for_team_digests_too(site, user_factory):
    """Three reports fall 14 days overdue on three days running: their manager gets two team
    digests that week (the cap) and the third report's the day the first leaves the window."""
    rules = ReminderSettings.for_site(Site.objects.get(is_default_site=True))
    assert rules.weekly_cap == 2
    manager = user_factory(email="boss@example.gov.uk", person_type="other")
    module = module_with_lessons(1, title="Fraud basics")
    learners = Audience.objects.create(name="Officers", slug="officers", person_types=["officer"])
    AssignmentRule.objects.create(module=module, audience=learners, due_days=21)
    reports = [user_factory(email=f"r{n}@example.gov.uk", line_manager=manager) for n in range(3)]
    with time_machine.travel(morning(START) - dt.timedelta(hours=1), tick=False):
        assignments_sync()
    for n, person in enumerate(reports):  # overdue by 14 days on 2 Feb, 3 Feb, 4 Feb
        Assignment.objects.filter(user=person).update(due_on=dt.date(2026, 1, 19) + dt.timedelta(n))

    for offset in range(10):
        day = dt.date(2026, 2, 2) + dt.timedelta(days=offset)
        with time_machine.travel(morning(day), tick=False):
            reminders_sweep(send_now=True)

    digests = SentMessage.objects.filter(recipient=manager).order_by("created_at")
    days = [timezone.localdate(d.created_at).isoformat() for d in digests]
    assert days == ["2026-02-02", "2026-02-03", "2026-02-09", "2026-02-10"]
    listed = [{item["assignment"] for item in d.items} for d in digests]
    third = Assignment.objects.get(user=reports[2]).pk
    assert third not in listed[0] | listed[1]  # held back on 4 Feb by the cap...
    assert third in listed[2]  # ...and sent on 9 Feb, the first day the cap allowed
    for start in range(len(days)):  # never more than two in any seven days
        window = [
            d
            for d in days
            if 0 <= (dt.date.fromisoformat(d) - dt.date.fromisoformat(days[start])).days < 7
        ]
        assert len(window) <= 2


def test_a_second_sweep_the_same_day_with_nothing_new_plans_nothing(
    org, django_assert_max_num_queries
):
    """Everyone owed a message had it this morning: the second sweep reads only the log's keys
    (no assignment of theirs is loaded) and plans nothing, the HR summary included."""
    day = dt.date(2026, 2, 10)  # everyone 15 days overdue: digests and escalations
    with time_machine.travel(morning(day), tick=False):
        first = reminders_sweep(send_now=True)
    kinds = {m.kind for m in first.planned}
    assert {"learner", "manager", "member-services", "hr-summary"} <= kinds

    with time_machine.travel(morning(day) + dt.timedelta(hours=5), tick=False):
        assert reminders_plan() == ReminderPlan(messages=[], unrouted=[])
        with django_assert_max_num_queries(15):
            second = reminders_sweep(send_now=True)
    assert second.created == 0
    assert second.planned == []


def test_a_message_owed_after_a_change_between_sweeps_is_still_sent(org, user_factory):
    """What changes between two sweeps the same day and is owed a message gets it at the second:
    a learner back from leave, and a new line manager of someone long overdue. Nobody who had
    today's digest gets a second."""
    people, _ = org
    day = dt.date(2026, 2, 3)  # 8 days overdue; the one on leave is away until 4 February
    with time_machine.travel(morning(day), tick=False):
        reminders_sweep(send_now=True)
    assert not SentMessage.objects.filter(recipient=people["on_leave"]).exists()
    first = sent_log()

    later = morning(day) + dt.timedelta(hours=4)
    with time_machine.travel(later, tick=False):
        people["on_leave"].on_leave_until = None
        people["on_leave"].save()
        reminders_sweep(send_now=True)
    added = sorted(set(sent_log()) - set(first))
    assert added == [(day.isoformat(), "away@example.gov.uk", "learner")]

    # Eight days on, all overdue long enough to tell their manager; then b moves team.
    day = dt.date(2026, 2, 11)
    with time_machine.travel(morning(day), tick=False):
        reminders_sweep(send_now=True)
    first = sent_log()
    new_manager = user_factory(email="new-manager@example.gov.uk", person_type="other")
    with time_machine.travel(morning(day) + dt.timedelta(hours=4), tick=False):
        people["b"].line_manager = new_manager
        people["b"].save()
        reminders_sweep(send_now=True)
    added = sorted(set(sent_log()) - set(first))
    assert added == [(day.isoformat(), "new-manager@example.gov.uk", "manager")]
    digest = SentMessage.objects.get(recipient=new_manager)
    b_assignment = Assignment.objects.get(user=people["b"]).pk
    assert [item["assignment"] for item in digest.items] == [b_assignment]
