"""End to end with real parts: a Celery worker on the real Redis runs the sweep, and the emails
arrive at a real SMTP server (aiosmtpd) listening on a loopback port."""

import datetime as dt
import socket
import time

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from django.utils import timezone

from tests.conftest import redis_is_up, skip_unless
from tests.factories import module_with_lessons
from training.models import AssignmentRule, Audience, ReminderSettings, SentMessage
from training.services.assignments import assignments_sync
from training.tasks import reminders_sweep_task


class Inbox(Message):
    def __init__(self):
        super().__init__()
        self.messages = []

    def handle_message(self, message):
        self.messages.append(message)


@pytest.fixture
def smtp_server(settings):
    with socket.socket() as probe:  # a free loopback port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    yield inbox
    controller.stop()


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_on_redis_sends_the_digests_over_smtp(
    site, user_factory, smtp_server, celery_worker
):
    skip_unless(redis_is_up(), "Redis is not running")
    rules = ReminderSettings.for_site(site)
    rules.send_days = "*"  # whatever day the suite runs (the sweep keeps to the reminder days)
    rules.save()
    officer = user_factory(email="late.officer@example.gov.uk", full_name="Late Officer")
    module = module_with_lessons(1, title="Fraud basics")
    rule = AssignmentRule.objects.create(
        module=module, audience=Audience.objects.create(name="All", slug="all")
    )
    assignments_sync()
    officer.assignments.update(due_on=timezone.localdate() - dt.timedelta(days=3))
    assert rule.pk

    reminders_sweep_task.delay()

    deadline = time.monotonic() + 30
    while not smtp_server.messages and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert message["To"] == "late.officer@example.gov.uk"
    assert "Your training" in message["Subject"]
    body = message.get_payload()[0].get_payload(decode=True).decode()
    assert "Fraud basics: overdue by 3 days" in body
    assert SentMessage.objects.get().state == SentMessage.State.SENT
