"""Every scheduled email goes once: two beats, a worker killed with -9 mid-batch, a dead broker,
against real parts (our own redis-server, real Celery workers, a real SMTP server)."""

import datetime as dt
import threading
import time
from smtplib import SMTPDataError

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.utils import timezone
from wagtail.models import Site

from tests.conftest import redis_is_up, skip_unless
from tests.factories import module_with_lessons
from tests.workers import (
    CeleryWorker,
    CountingPort,
    HoldingInbox,
    RedisServer,
    SmtpServer,
    database_url,
    free_port,
    smtp_settings,
    wait_for,
)
from training.models import (
    AssignmentRule,
    Audience,
    ReminderSettings,
    ReportSettings,
    ScheduledReport,
    SentMessage,
)
from training.reminders.sending import (
    STALE_SENDING,
    messages_retry,
    reminder_message_send,
    reminders_sweep,
)
from training.services.assignments import assignments_sync
from training.tasks import messages_retry_task, reminder_send_task, scheduled_reports_send_task

State = SentMessage.State
LONDON = timezone.get_current_timezone()


def at(day: dt.date, hour: int = 7, minute: int = 30) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=LONDON)


@pytest.fixture
def hr_mailbox(site):
    reports = ReportSettings.for_site(site)
    reports.hr_mailbox = "hr-team@example.gov.uk"
    reports.save()
    return reports.hr_mailbox


@pytest.fixture
def pack_schedule(site, user_factory):
    """The audit-committee pack, monthly, to one HR adviser: returns their address. (Their
    permission is given directly: the roles command would add the demo people, who would be
    reminded too.)"""
    from django.contrib.auth.models import Permission

    hr = user_factory(email="hr-lead@example.gov.uk")
    hr.user_permissions.add(
        Permission.objects.get(content_type__app_label="training", codename="view_hr_reports")
    )
    ScheduledReport.objects.create(name="Audit committee pack", recipients="hr-lead@example.gov.uk")
    return "hr-lead@example.gov.uk"


@pytest.fixture
def overdue_people(site, user_factory):
    """`make(n)`: n officers, each with one overdue module, and reminders on every day."""
    rules = ReminderSettings.for_site(Site.objects.get(is_default_site=True))
    rules.send_days = "*"
    rules.save()

    def make(count: int) -> list[str]:
        emails = [f"officer{n:02d}@example.gov.uk" for n in range(count)]
        for email in emails:
            user_factory(email=email)
        module = module_with_lessons(1, title="Fraud basics")
        audience = Audience.objects.create(name="All", slug="all")
        AssignmentRule.objects.create(module=module, audience=audience)
        assignments_sync()
        from training.models import Assignment

        Assignment.objects.update(due_on=timezone.localdate() - dt.timedelta(days=3))
        return emails

    return make


# Case 3: two beat processes sent the monthly HR pack twice (now: any scheduled report).


def test_two_beats_send_a_monthly_report_once_a_month(pack_schedule, mailoutbox):
    """Both beats fire at 06:30 every day of three months: three emails, not 180."""
    sent = []
    for month in (1, 2, 3):
        for day in (1, 2, 28):
            with time_machine.travel(at(dt.date(2026, month, day), 6, 30), tick=False):
                sent.append((scheduled_reports_send_task(), scheduled_reports_send_task()))

    assert sent == [(1, 0), (0, 0), (0, 0)] * 3
    assert [m.to for m in mailoutbox] == [[pack_schedule]] * 3
    assert [m.subject for m in mailoutbox] == [
        f"Aware training: Audit committee pack for {month} 2026"
        for month in ("January", "February", "March")
    ]
    schedule = ScheduledReport.objects.get()
    packs = SentMessage.objects.filter(kind=SentMessage.Kind.SCHEDULED_REPORT).order_by("period")
    assert [(p.period, p.state) for p in packs] == [
        (f"{schedule.pk}/2026-01", State.SENT),
        (f"{schedule.pk}/2026-02", State.SENT),
        (f"{schedule.pk}/2026-03", State.SENT),
    ]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_beats_at_the_same_instant_send_a_scheduled_report_once(pack_schedule):
    """The race itself: two workers run the task at the same moment on PostgreSQL."""
    mail.outbox = []
    start = threading.Barrier(2)
    results = []

    def beat():
        try:
            start.wait(timeout=10)
            results.append(scheduled_reports_send_task())
        finally:
            connection.close()

    threads = [threading.Thread(target=beat) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(results) == [0, 1]
    assert [m.to for m in mail.outbox] == [[pack_schedule]]


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_given_the_scheduled_reports_twice_sends_each_once(
    pack_schedule, settings, celery_worker
):
    skip_unless(redis_is_up(), "Redis is not running")
    inbox = HoldingInbox()
    with SmtpServer(inbox) as smtp:
        smtp_settings(settings, smtp.port)
        first, second = scheduled_reports_send_task.delay(), scheduled_reports_send_task.delay()
        results = sorted([first.get(timeout=60), second.get(timeout=60)])

    assert results == [0, 1]
    assert inbox.recipients() == [pack_schedule]
    pack = SentMessage.objects.get(kind=SentMessage.Kind.SCHEDULED_REPORT)
    assert pack.smtp_reply == "250 OK: queued"  # the server's acceptance, recorded


def test_the_records_checkpoint_is_filed_each_time_and_emailed_once_a_day(site, mailoutbox):
    from training.services.checkpoints import records_checkpoint_write

    reports = ReportSettings.for_site(site)
    reports.checkpoint_mailbox = "audit@example.gov.uk"
    reports.save()

    first = records_checkpoint_write()
    second = records_checkpoint_write()  # a second beat, the same night

    assert first.taken_at != second.taken_at
    assert [m.to for m in mailoutbox] == [["audit@example.gov.uk"]]
    assert first.to_line() in mailoutbox[0].body


def test_a_checkpoint_the_mailbox_refused_goes_with_the_retry(site, settings, mailoutbox):
    from training.services.checkpoints import records_checkpoint_write

    reports = ReportSettings.for_site(site)
    reports.checkpoint_mailbox = "audit@example.gov.uk"
    reports.save()
    smtp_settings(settings, free_port())  # nothing listens: refused
    checkpoint = records_checkpoint_write()
    logged = SentMessage.objects.get(kind=SentMessage.Kind.RECORDS_CHECKPOINT)
    assert (logged.state, logged.attempts) == (State.PENDING, 1)
    assert "ConnectionRefusedError" in logged.error

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert messages_retry(now=timezone.now() + dt.timedelta(minutes=5)) == 1

    assert [m.to for m in mailoutbox] == [["audit@example.gov.uk"]]
    assert checkpoint.to_line() in mailoutbox[0].body


# Case 4: a worker killed mid-batch sent one digest twice, and left two pending for a day.


def test_a_send_that_died_is_settled_by_whether_the_server_was_handed_it(
    overdue_people, mailoutbox
):
    """Without a process to kill: rows as a killed worker leaves them."""
    overdue_people(3)
    reminders_sweep(now=timezone.now())
    died_before, died_after, waiting = SentMessage.objects.order_by("pk")
    died_at = timezone.now()
    SentMessage.objects.filter(pk=died_before.pk).update(
        state=State.SENDING, claimed_at=died_at, attempts=1
    )
    SentMessage.objects.filter(pk=died_after.pk).update(
        state=State.SENDING, claimed_at=died_at, handed_over_at=died_at, attempts=1
    )

    # Within STALE_SENDING the sender may still be alive: nothing of it is touched.
    assert messages_retry(now=died_at + dt.timedelta(minutes=3)) == 1
    assert [m.to for m in mailoutbox] == [[waiting.recipient_email]]
    assert reminder_send_task.apply(args=[died_before.pk]).result is False  # being sent

    assert messages_retry(now=died_at + STALE_SENDING + dt.timedelta(minutes=1)) == 1

    assert sorted(m.to[0] for m in mailoutbox) == sorted(
        [waiting.recipient_email, died_before.recipient_email]
    )
    died_after.refresh_from_db()
    assert died_after.state == State.UNCERTAIN
    assert "check its log" in died_after.error
    # Redelivered (acks_late) or retried again: nothing goes twice.
    for message in SentMessage.objects.all():
        assert reminder_send_task.apply(args=[message.pk]).result is False
    assert len(mailoutbox) == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_sends_no_digest_twice_and_the_retry_sends_the_rest(
    overdue_people, settings, project_broker, tmp_path
):
    """A real worker on our own Redis is killed with -9 while the SMTP server holds its reply
    to the second digest (the server has it; the worker has not heard the 250)."""
    emails = overdue_people(5)
    reminders_sweep(now=timezone.now())
    ids = list(SentMessage.objects.order_by("pk").values_list("pk", flat=True))
    assert len(ids) == 5
    redis = RedisServer().start()
    inbox = HoldingInbox(hold_at=2)
    try:
        with SmtpServer(inbox) as smtp:
            project_broker(redis.url)
            for message_id in ids:
                reminder_send_task.apply_async(args=(message_id,))
            worker = CeleryWorker(
                broker_url=redis.url,
                database_url=database_url(),
                smtp_port=smtp.port,
                log=tmp_path / "worker.log",
            ).start()
            try:
                inbox.holding.wait(timeout=90)
                assert inbox.holding.is_set(), (tmp_path / "worker.log").read_text()[-3000:]
                worker.kill()
            finally:
                worker.kill()
                inbox.release.set()
            killed = dict(SentMessage.objects.values_list("pk", "state"))
            assert killed[ids[0]] == State.SENT
            assert killed[ids[1]] == State.SENDING  # handed over, acceptance not heard
            assert [killed[pk] for pk in ids[2:]] == [State.PENDING] * 3

            # Beat's retry, within minutes (not tomorrow's sweep), once the send is stale.
            smtp_settings(settings, smtp.port)
            sent = messages_retry(now=timezone.now() + STALE_SENDING + dt.timedelta(minutes=1))
            # A restarted worker handed every task again (acks_late): nothing more goes.
            for message_id in ids:
                reminder_send_task.apply(args=[message_id])
            wait_for(lambda: len(inbox.messages) >= 5, seconds=10, what="the retried digests")
    finally:
        redis.stop()

    assert sent == 3
    assert inbox.recipients() == sorted(emails)  # each officer once, the held one included
    states = dict(SentMessage.objects.values_list("pk", "state"))
    assert states[ids[1]] == State.UNCERTAIN
    assert [states[pk] for pk in ids if pk != ids[1]] == [State.SENT] * 4
    assert SentMessage.objects.get(pk=ids[0]).smtp_reply == "250 OK: queued"


# Case 5: a sweep with the broker down waited ~2.2 s per message.


@pytest.mark.django_db(transaction=True)
def test_a_sweep_with_the_broker_down_tries_it_once_and_the_retry_sends_each_once(
    overdue_people, project_broker, mailoutbox
):
    overdue_people(20)
    with CountingPort() as dead_broker:  # accepts, then hangs up: counts every try
        project_broker(f"redis://127.0.0.1:{dead_broker.port}/0")
        from training.tasks import reminders_sweep_task

        result = reminders_sweep_task()
        tries = dead_broker.connections

    assert result["queued"] == 20
    assert tries <= 2  # one connection (and the client's one reconnect), not two per message
    assert SentMessage.objects.filter(state=State.PENDING).count() == 20
    assert mail.outbox == []

    assert messages_retry_task.apply().result == 0  # too soon: a send task may have it
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=3)):
        assert messages_retry_task.apply().result == 20
        assert messages_retry_task.apply().result == 0

    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        SentMessage.objects.values_list("recipient_email", flat=True)
    )
    assert not SentMessage.objects.exclude(state=State.SENT).exists()


@pytest.mark.django_db(transaction=True)
def test_with_our_redis_stopped_the_sweep_does_not_wait_per_message(overdue_people, project_broker):
    overdue_people(20)
    redis = RedisServer().start()
    project_broker(redis.url)
    redis.stop()  # a real broker, gone
    from training.tasks import reminders_sweep_task

    started = time.monotonic()
    result = reminders_sweep_task()
    took = time.monotonic() - started

    assert result["queued"] == 20
    assert took < 15, f"{took:.1f} s: the sweep waited on the broker per message (43 s before)"
    assert SentMessage.objects.filter(state=State.PENDING).count() == 20

    redis.start()  # back, on the same port: the send tasks can be queued again
    try:
        project_broker(redis.url)
        reminder_send_task.apply_async(args=(SentMessage.objects.first().pk,))
    finally:
        redis.stop()


# Case 11, second half: the sweep sent on any day it was called.


def test_the_sweep_keeps_to_the_reminder_days_however_it_is_started(overdue_people, mailoutbox):
    overdue_people(1)
    rules = ReminderSettings.for_site(Site.objects.get(is_default_site=True))
    rules.send_days = "mon-fri"
    rules.save()

    saturday = reminders_sweep(now=at(dt.date(2026, 12, 5)), send_now=True)
    assert saturday.skipped == "not a reminder day (Settings -> Reminders)"
    assert (saturday.created, mailoutbox) == (0, [])

    rules.send_days = "mon,wed,fri"
    rules.save()
    assert reminders_sweep(now=at(dt.date(2026, 12, 8)), send_now=True).skipped  # a Tuesday
    monday = reminders_sweep(now=at(dt.date(2026, 12, 7)), send_now=True)
    assert (monday.created, len(mailoutbox)) == (1, 1)


def test_sending_records_the_smtp_servers_acceptance(overdue_people, settings):
    overdue_people(1)
    reminders_sweep(now=timezone.now())
    message = SentMessage.objects.get()
    with SmtpServer(HoldingInbox()) as smtp:
        smtp_settings(settings, smtp.port)
        assert reminder_message_send(message_id=message.pk) is True
        assert reminder_message_send(message_id=message.pk) is False

    message.refresh_from_db()
    assert message.state == State.SENT
    assert message.smtp_reply == "250 OK: queued"
    assert message.handed_over_at is not None
    assert len(smtp.inbox.messages) == 1


def test_a_message_the_server_answers_451_waits_for_the_retry_and_is_not_marked_sent(
    overdue_people, settings
):
    """smtplib hands back the server's answer to the message itself; a 451 there is a refusal
    (it was taken for an acceptance, and the digest marked sent, never to go)."""
    from tests.faults import SMTPServer

    overdue_people(1)
    reminders_sweep(now=timezone.now())
    message = SentMessage.objects.get()
    busy = SMTPServer(reply="451 4.3.0 Try again later")
    try:
        smtp_settings(settings, busy.port)
        with pytest.raises(SMTPDataError):
            reminder_message_send(message_id=message.pk)
    finally:
        busy.stop()

    message.refresh_from_db()
    assert (message.state, message.smtp_reply, message.sent_at) == (State.PENDING, "", None)
    accepting = SMTPServer()
    try:
        smtp_settings(settings, accepting.port)
        assert reminder_message_send(message_id=message.pk) is True
    finally:
        accepting.stop()
    assert [m["To"] for m in accepting.messages] == [message.recipient_email]
