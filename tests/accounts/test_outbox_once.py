"""The outbox sends nothing twice and loses nothing: a worker killed with -9 between the SMTP
server taking an email and the outbox recording it, and a broker that dies during a people
import. Real parts: our own redis-server (stopped by its pid), a real Celery worker process, a
real SMTP server (aiosmtpd)."""

from datetime import timedelta

import pytest
from django.core.mail import EmailMessage
from django.utils import timezone

from accounts.models import QueuedEmail
from accounts.outbox import emails_store, queued_emails_send
from accounts.services import people_import
from accounts.tasks import queued_email_send_task, queued_emails_retry_task
from tests.accounts.test_import import csv_of, person
from tests.workers import (
    CeleryWorker,
    HoldingInbox,
    RedisServer,
    SmtpServer,
    database_url,
    smtp_settings,
)

RESET = "account/email/password_reset_key"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_after_smtp_took_an_email_does_not_send_it_again(
    settings, project_broker, tmp_path, client, signed_in_with_mfa
):
    """Three queued emails; the SMTP server holds its reply to the second (it has the email,
    the worker has not heard the 250) while the worker is killed with -9. The first and third
    go once; the second is never sent again and is shown as uncertain."""
    emails = [f"forgetful{n}@example.gov.uk" for n in range(3)]
    ids = emails_store(
        messages=[EmailMessage("Reset your password", "A link", to=[to]) for to in emails],
        template=RESET,
    )
    redis = RedisServer().start()
    inbox = HoldingInbox(hold_at=2)
    log = tmp_path / "worker.log"
    try:
        with SmtpServer(inbox) as smtp:
            project_broker(redis.url)
            for email_id in ids:
                queued_email_send_task.apply_async(args=(email_id,))
            worker = CeleryWorker(
                broker_url=redis.url, database_url=database_url(), smtp_port=smtp.port, log=log
            ).start()
            try:
                inbox.holding.wait(timeout=90)
                assert inbox.holding.is_set(), log.read_text()[-3000:]
                worker.kill()
            finally:
                worker.kill()
                inbox.release.set()

            # Beat's retry, once the dead send is stale; then a restarted worker handed every
            # task again (they are acknowledged late).
            smtp_settings(settings, smtp.port)
            sent = queued_emails_send(now=timezone.now() + timedelta(minutes=11))
            redelivered = [queued_email_send_task.apply(args=[pk]).result for pk in ids]
    finally:
        redis.stop()

    assert sorted(r for envelope in inbox.messages for r in envelope.rcpt_tos) == emails
    assert (sent, redelivered) == (1, [0, 0, 0])
    uncertain = QueuedEmail.objects.get()  # the sent ones are deleted: they hold links
    assert uncertain.pk == ids[1]
    assert uncertain.state == QueuedEmail.State.UNCERTAIN
    assert uncertain.handed_over_at is not None
    assert queued_emails_retry_task.apply().result == 0  # never sent again automatically

    signed_in_with_mfa("outbox-admin@example.gov.uk", is_staff=True, is_superuser=True)
    listed = client.get("/django-admin/accounts/queuedemail/?state=uncertain")
    assert listed.status_code == 200
    assert emails[1] in listed.content.decode()
    shown = client.get(f"/django-admin/accounts/queuedemail/{ids[1]}/change/")
    assert "Handed to the mail server, acceptance not recorded" in shown.content.decode()
    assert "A link" not in shown.content.decode()  # not the email itself: it holds a link


@pytest.mark.django_db
def test_invitations_of_an_import_during_which_the_broker_died_go_out_once_it_is_back(
    site, settings, project_broker, django_capture_on_commit_callbacks
):
    """Our own redis-server is stopped while the import's transaction is open: the send tasks
    cannot be queued at its commit. The invitations wait in the outbox, and the retry (beat's,
    every 2 minutes) sends each once."""
    redis = RedisServer().start()
    project_broker(redis.url)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            result = people_import(text=csv_of(person("E1"), person("E2"), person("E3")))
            redis.stop()  # during the import: its writes are done, its commit is not
        assert result.invited == 3

        redis.start()  # back, on the same port
        with SmtpServer(HoldingInbox()) as smtp:
            smtp_settings(settings, smtp.port)
            sent = [queued_emails_retry_task.apply().result for _ in range(2)]
    finally:
        redis.stop()

    assert sorted(r for envelope in smtp.inbox.messages for r in envelope.rcpt_tos) == [
        "e1@example.gov.uk",
        "e2@example.gov.uk",
        "e3@example.gov.uk",
    ]
    assert sent == [3, 0]
    assert not QueuedEmail.objects.exists()
    assert b"/accounts/password/reset/key/" in smtp.inbox.messages[0].content


@pytest.mark.django_db
def test_a_send_that_died_before_the_hand_over_is_retried_once_and_one_after_it_never(settings):
    """Rows as a killed worker leaves them, without a process to kill: each is settled by
    whether the SMTP server had been handed the email."""
    before, after = emails_store(
        messages=[EmailMessage("Reset", "A link", to=[to]) for to in ("a@x.gov.uk", "b@x.gov.uk")],
        template=RESET,
    )
    died_at = timezone.now()
    sending = QueuedEmail.objects.filter(pk__in=[before, after])
    sending.update(state=QueuedEmail.State.SENDING, claimed_at=died_at)
    sending.filter(pk=after).update(handed_over_at=died_at)

    with SmtpServer(HoldingInbox()) as smtp:
        smtp_settings(settings, smtp.port)
        # Within STALE_SENDING the sender may still be alive: neither is touched.
        assert queued_emails_send(now=died_at + timedelta(minutes=5)) == 0
        assert queued_email_send_task.apply(args=[before]).result == 0
        assert queued_emails_send(now=died_at + timedelta(minutes=11)) == 1
        assert queued_emails_send(now=died_at + timedelta(minutes=30)) == 0

    assert smtp.inbox.recipients() == ["a@x.gov.uk"]
    assert list(QueuedEmail.objects.values_list("pk", "state")) == [
        (after, QueuedEmail.State.UNCERTAIN)
    ]
