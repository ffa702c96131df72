"""SMTP down: the emails people ask for (password reset, verification, invitations) wait in the
outbox, the page says the email is on its way, and each goes out once when SMTP is back.

Real parts: an SMTP port that refuses, an SMTP server that answers 451, an SMTP server that
accepts (aiosmtpd), and for one test a real Celery worker on the real Redis."""

import logging
import re
import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.invitations import people_invitations_queue
from accounts.models import QueuedEmail, User
from accounts.outbox import queued_emails_send
from accounts.tasks import queued_emails_retry_task
from tests.accounts.test_import import celery_eager  # noqa: F401 - a fixture
from tests.conftest import redis_is_up, skip_unless
from tests.faults import SMTPServer, free_port

EMAIL = "forgetful@example.gov.uk"


@pytest.fixture
def smtp_port(settings):
    """Django's SMTP backend aimed at a loopback port where nothing listens (yet)."""
    port = free_port()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    return port


@pytest.fixture
def smtp_server(smtp_port):
    """An SMTP server on that port that accepts every message."""
    server = SMTPServer(port=smtp_port)
    yield server
    server.stop()


@pytest.fixture
def reset_requested(client, user_factory, django_capture_on_commit_callbacks, celery_eager):  # noqa: F811
    """Ask for a password reset as a person would; the queued send runs as a worker would."""
    user_factory(email=EMAIL)
    client.raise_request_exception = False

    def request():
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("account_reset_password"), {"email": EMAIL}, follow=True)

    return request


def text_of(message) -> str:
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    return part.get_payload(decode=True).decode()


def reset_link(message) -> str:
    return re.search(r"https?://\S+/accounts/password/reset/key/\S+", text_of(message)).group(0)


def our_log(caplog) -> str:
    """What Aware logged (not the test SMTP server, which logs every envelope)."""
    return "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail."))


def later(minutes: int):
    return timezone.now() + timedelta(minutes=minutes)


@pytest.mark.parametrize("smtp_fault", ["port refuses", "server answers 451"])
@pytest.mark.django_db
def test_password_reset_with_smtp_down_says_sent_and_the_email_goes_once_smtp_is_back(
    smtp_fault, smtp_port, reset_requested, client, caplog
):
    refusing = SMTPServer(port=smtp_port, reply="451 4.3.0 Try again later")
    if smtp_fault == "port refuses":
        refusing.stop()
    caplog.set_level(logging.INFO)

    response = reset_requested()

    refusing.stop()
    assert response.status_code == 200
    assert "We have sent you an email" in response.content.decode()
    waiting = QueuedEmail.objects.get()
    assert (waiting.template, waiting.attempts) == ("account/email/password_reset_key", 1)
    assert waiting.last_error in {"ConnectionRefusedError", "SMTPDataError 451"}
    assert EMAIL not in our_log(caplog)  # no address in the log

    smtp = SMTPServer(port=smtp_port)
    try:
        assert queued_emails_retry_task() == 0  # not due yet: it waits before trying again
        assert queued_emails_send(now=later(3)) == 1
        assert queued_emails_send(now=later(10)) == 0
        assert [m["To"] for m in smtp.messages] == [EMAIL]
    finally:
        smtp.stop()
    assert not QueuedEmail.objects.exists()
    # The link that arrived late still sets the password.
    form = client.get(reset_link(smtp.messages[0]).split("testserver", 1)[1], follow=True)
    client.post(
        form.redirect_chain[-1][0],
        {"password1": "a-brand-new-password-9", "password2": "a-brand-new-password-9"},
    )
    assert User.objects.get(email=EMAIL).check_password("a-brand-new-password-9")


@pytest.mark.django_db
def test_with_smtp_up_the_reset_email_is_sent_at_once_and_not_kept(smtp_server, reset_requested):
    response = reset_requested()

    assert response.status_code == 200
    assert [m["To"] for m in smtp_server.messages] == [EMAIL]
    assert not QueuedEmail.objects.exists()


@pytest.mark.django_db
def test_with_the_broker_down_the_reset_email_waits_and_the_retry_sends_it(
    smtp_server, user_factory, client, dead_broker, django_capture_on_commit_callbacks
):
    user_factory(email=EMAIL)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_reset_password"), {"email": EMAIL})

    assert response.status_code == 302
    assert smtp_server.messages == []
    assert QueuedEmail.objects.count() == 1
    assert queued_emails_retry_task() == 1
    assert [m["To"] for m in smtp_server.messages] == [EMAIL]


@pytest.mark.django_db
def test_the_verification_email_of_a_signup_goes_through_the_outbox(
    smtp_port,
    client,
    django_capture_on_commit_callbacks,
    celery_eager,  # noqa: F811
):
    client.raise_request_exception = False
    signup = {
        "email": "new.starter@example.gov.uk",
        "full_name": "New Starter",
        "password1": "correct-horse-battery",
        "password2": "correct-horse-battery",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_signup"), signup)

    assert response.status_code == 302
    assert QueuedEmail.objects.get().template == "account/email/email_confirmation_signup"
    smtp = SMTPServer(port=smtp_port)
    try:
        queued_emails_send(now=later(3))
    finally:
        smtp.stop()
    assert "/accounts/confirm-email/" in text_of(smtp.messages[0])


@pytest.mark.django_db
def test_invitations_smtp_refused_go_out_once_when_it_is_back(smtp_port, user_factory):
    people = [user_factory(email=f"new{n}@example.gov.uk") for n in range(3)]

    email_ids = people_invitations_queue(users=people)
    assert queued_emails_send(email_ids=email_ids) == 0

    assert QueuedEmail.objects.filter(template="accounts/email/invitation").count() == 3
    smtp = SMTPServer(port=smtp_port)
    try:
        assert queued_emails_send(now=later(3)) == 3
        assert queued_emails_send(now=later(10)) == 0
    finally:
        smtp.stop()
    assert sorted(m["To"] for m in smtp.messages) == [p.email for p in people]


@pytest.mark.django_db
def test_an_address_the_server_refuses_is_dropped_and_holds_up_no_other(
    smtp_port, user_factory, caplog
):
    people = [user_factory(email=f"new{n}@example.gov.uk") for n in range(3)]
    smtp = SMTPServer(port=smtp_port, unknown={"new0@example.gov.uk"})
    try:
        assert queued_emails_send(email_ids=people_invitations_queue(users=people)) == 2
    finally:
        smtp.stop()

    assert sorted(m["To"] for m in smtp.messages) == ["new1@example.gov.uk", "new2@example.gov.uk"]
    assert not QueuedEmail.objects.exists()
    assert "SMTP refused its recipient" in our_log(caplog)
    assert "new0@example.gov.uk" not in our_log(caplog)


@pytest.mark.django_db
def test_an_email_older_than_its_link_is_dropped_unsent(smtp_server, settings, caplog):
    QueuedEmail.objects.create(
        template="account/email/password_reset_key",
        message={"subject": "Reset", "body": "link", "from_email": "a@b", "to": [EMAIL]},
        created_at=timezone.now() - timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60),
    )

    assert queued_emails_retry_task() == 0

    assert smtp_server.messages == []
    assert not QueuedEmail.objects.exists()
    assert "Dropped 1 unsent account/email/password_reset_key email(s)" in caplog.text


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_the_reset_email_queued_by_the_request(
    site, smtp_server, user_factory, client, celery_worker
):
    skip_unless(redis_is_up(), "Redis is not running")
    user_factory(email=EMAIL)

    response = client.post(reverse("account_reset_password"), {"email": EMAIL})

    assert response.status_code == 302
    deadline = time.monotonic() + 30
    while not smtp_server.messages and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [m["To"] for m in smtp_server.messages] == [EMAIL]
    assert not QueuedEmail.objects.exists()
