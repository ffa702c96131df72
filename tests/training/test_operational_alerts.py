"""Operational alerts: a reminder sweep that fails, or sends nothing while people are overdue,
and emails failing past the threshold each email the administrators once a day and turn
/healthz "degraded"; the next good check clears it."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone
from wagtail.models import Site

from cms.models import OperationalAlert
from tests.factories import module_with_lessons
from tests.faults import SMTPServer
from training.models import Assignment, ReminderSettings, SentMessage
from training.reminders.planning import ReminderPlan
from training.reminders.sending import messages_retry, reminders_sweep
from training.tasks import operations_check_task, reminders_sweep_task

pytestmark = pytest.mark.django_db
PERSON = "overdue.{}@example.gov.uk"


@pytest.fixture
def overdue(site, user_factory):
    """Five people with training ten days overdue, an administrator, and the sweep set to run
    every day (so the tests hold whatever day they run)."""
    rules = ReminderSettings.for_site(Site.objects.get(is_default_site=True))
    rules.send_days = "*"
    rules.save()
    admin = user_factory(email="admin.person@example.gov.uk", is_superuser=True, is_staff=True)
    module = module_with_lessons(1, title="Fraud basics")
    today = timezone.localdate()
    for number in range(5):
        Assignment.objects.create(
            user=user_factory(email=PERSON.format(number)),
            module=module,
            assigned_at=timezone.now() - dt.timedelta(days=40),
            due_on=today - dt.timedelta(days=10),
        )
    return admin


def health(client) -> dict:
    response = client.get("/healthz")
    assert response.status_code == 200  # degraded is still up: the site serves
    return response.json()


def alerts_to(admin, outbox) -> list:
    return [m for m in outbox if m.to == [admin.email]]


def test_a_sweep_that_fails_alerts_once_and_the_next_good_sweep_clears_it(
    overdue, client, monkeypatch
):
    def planning_breaks(**kwargs):
        raise RuntimeError(f"could not plan for {PERSON.format(0)}")

    monkeypatch.setattr("training.reminders.sending.reminders_plan", planning_breaks)
    for _ in range(2):  # and Celery's retry, or a second beat, the same day
        with pytest.raises(RuntimeError):
            reminders_sweep_task()

    (alert,) = alerts_to(overdue, mail.outbox)
    assert alert.subject.endswith("Aware needs attention: the daily reminder sweep failed")
    assert "RuntimeError" in alert.body
    assert PERSON.format(0) not in alert.body  # the exception's text may hold personal data
    body = health(client)
    assert body["status"] == "degraded"
    assert [a["kind"] for a in body["alerts"]] == ["sweep-failed"]

    monkeypatch.undo()
    result = reminders_sweep_task()

    assert result["created"] == 5
    assert health(client)["status"] == "ok"
    assert OperationalAlert.objects.get().cleared_at is not None  # kept, as a record
    assert len(alerts_to(overdue, mail.outbox)) == 1


def test_a_sweep_that_sends_nothing_while_people_are_overdue_alerts_once(
    overdue, client, monkeypatch
):
    monkeypatch.setattr(
        "training.reminders.sending.reminders_plan", lambda **kwargs: ReminderPlan(messages=[])
    )
    reminders_sweep_task()
    reminders_sweep_task()

    (alert,) = alerts_to(overdue, mail.outbox)
    assert "sent nothing while people are overdue" in alert.subject
    assert "5 people are overdue" in alert.body
    assert [a["kind"] for a in health(client)["alerts"]] == ["sweep-silent"]

    monkeypatch.undo()
    reminders_sweep_task()

    assert health(client)["status"] == "ok"


def test_a_quiet_day_with_nobody_overdue_is_not_an_alert(overdue, client, monkeypatch):
    Assignment.objects.update(exempt_reason="On secondment")
    monkeypatch.setattr(
        "training.reminders.sending.reminders_plan", lambda **kwargs: ReminderPlan(messages=[])
    )

    reminders_sweep_task()

    assert health(client)["status"] == "ok"
    assert mail.outbox == []


def test_a_sweep_on_a_day_off_changes_nothing(overdue, client, monkeypatch):
    OperationalAlert.objects.create(kind="sweep-failed", detail="x", opened_at=timezone.now())
    rules = ReminderSettings.for_site(Site.objects.get(is_default_site=True))
    rules.send_days = "mon" if timezone.localdate().isoweekday() != 1 else "tue"
    rules.save()

    assert reminders_sweep_task()["skipped"]

    assert health(client)["status"] == "degraded"  # only a sweep that ran clears it


def test_failing_emails_alert_once_with_smtp_down_and_clear_when_they_go(overdue, client, settings):
    smtp = SMTPServer()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", smtp.port, 2
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    smtp.stop()  # the mail server goes down

    reminders_sweep(send_now=True)  # five digests, each refused a connection
    assert SentMessage.objects.filter(kind="learner").exclude(error="").count() == 5

    settings.AWARE_ALERT_SMTP_FAILURES = 6
    operations_check_task()
    assert health(client)["status"] == "ok"  # under the threshold

    settings.AWARE_ALERT_SMTP_FAILURES = 5
    assert operations_check_task() == 0  # the alert cannot be emailed: SMTP is down
    assert operations_check_task() == 0  # the next check, fifteen minutes on
    body = health(client)
    assert body["status"] == "degraded"
    assert [a["kind"] for a in body["alerts"]] == ["email-failing"]
    # The alert's own email, refused too, counts on the second check: the alert says so.
    assert "6 emails failed to send" in body["alerts"][0]["detail"]
    (logged,) = SentMessage.objects.filter(kind="operational-alert")  # recorded, once
    assert logged.state == SentMessage.State.PENDING
    assert "ConnectionRefusedError" in logged.error

    smtp = SMTPServer(port=smtp.port)  # the mail server is back
    try:
        assert messages_retry(now=timezone.now() + dt.timedelta(minutes=3)) == 6
        operations_check_task()
    finally:
        smtp.stop()

    assert health(client)["status"] == "ok"
    to_admin = [m for m in smtp.messages if m["To"] == overdue.email]
    assert len(to_admin) == 1
    assert "emails are failing to send" in to_admin[0]["Subject"]
