"""Celery tasks for training (thin: each calls one service), and the one helper that queues a task
both services and a task need.

The import rule: services import these tasks at module level; each task imports its service
inside the function. So a service a task runs never queues a task itself: the task queues any
follow-up, from here. The names stay `training.tasks.<name>`: beat's database rows hold them."""

from smtplib import SMTPException

from celery import shared_task
from django.core.cache import cache

from cms.services import task_enqueue_each_on_commit, task_enqueue_on_commit

COUNTS_SOON_SECONDS = 60


@shared_task
def assignments_sync_task(user_ids: list[int] | None = None) -> dict:
    """Nightly (beat) and after imports: bring open assignments in line with the rules, then
    count the report figures again soon if anything changed."""
    from training.services.assignments import assignments_sync

    result = assignments_sync(user_ids=user_ids)
    if result.created or result.closed or result.changed:
        report_counts_refresh_soon()
    return {"created": result.created, "closed": result.closed, "changed": result.changed}


@shared_task
def reminders_sweep_task() -> dict:
    """Beat runs this daily: plan and log the reminders, then queue one send task each (after
    the log commits, over one broker connection: with the broker down they wait in the log for
    messages_retry_task). A sweep that raises, or sends nothing while people are overdue,
    alerts the administrators (one email a day each) and turns /healthz "degraded"; the next
    good sweep clears it."""
    from training.reminders.alerts import sweep_failure_alert, sweep_outcome_check
    from training.reminders.sending import messages_send, reminders_sweep

    try:
        result = reminders_sweep()
    except Exception as exc:
        messages_send(message_ids=sweep_failure_alert(error=exc))
        raise
    messages_send(message_ids=sweep_outcome_check(skipped=result.skipped))
    task_enqueue_each_on_commit(reminder_send_task, [(pk,) for pk in result.pending])
    return {
        "created": result.created,
        "queued": result.queued,
        "skipped": result.skipped,
        "unrouted": len(result.unrouted),  # councillors' escalations with no mailbox to go to
    }


@shared_task(bind=True, max_retries=5, acks_late=True, reject_on_worker_lost=True)
def reminder_send_task(self, message_id: int) -> bool:
    """Send one logged message (reminder, HR summary, scheduled report, checkpoint); on an SMTP
    failure retry with backoff, then record the failure.

    Safe to run twice, so acknowledged only once done (a worker killed midway leaves it to be
    delivered again): the message is claimed before it goes, and one that is sent, being sent or
    may have reached the SMTP server is not sent again."""
    from training.reminders.sending import reminder_message_failed, reminder_message_send

    try:
        return reminder_message_send(message_id=message_id)
    except (SMTPException, OSError) as exc:
        final = self.request.retries >= self.max_retries
        reminder_message_failed(message_id=message_id, error=exc, final=final)
        if final:
            return False
        raise self.retry(exc=exc, countdown=min(3600, 30 * 2**self.request.retries)) from exc


@shared_task
def report_export_build_task(export_id: int) -> None:
    """Build a large report export's file (progress saved as it goes)."""
    from training.reports.exports import report_export_build

    report_export_build(export_id=export_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def scheduled_reports_send_task() -> int:
    """Daily (beat): log this period's email of each scheduled report to each recipient once,
    then send them. A second beat or a rerun in the same week, month or quarter finds them
    logged and sends nothing; an SMTP failure leaves them to messages_retry_task. Returns how
    many this run sent."""
    from training.reminders.sending import messages_send
    from training.reports.scheduled import scheduled_reports_log

    return messages_send(message_ids=scheduled_reports_log())


@shared_task(acks_late=True, reject_on_worker_lost=True)
def content_review_digest_task() -> int:
    """Weekly (beat): log this week's content review digest once per editor and module owner,
    then email each. A second beat or a rerun finds them logged and sends nothing; an SMTP
    failure leaves them to messages_retry_task. Returns how many went."""
    from training.reminders.governance import content_review_digest_log
    from training.reminders.sending import messages_send

    return messages_send(message_ids=content_review_digest_log())


@shared_task
def operations_check_task() -> int:
    """Every 15 minutes (beat): too many failed emails in 24 hours alert the administrators
    (one email a day each; with SMTP down it waits in the log) and turn /healthz "degraded";
    fewer clear it. Returns how many alert emails went."""
    from training.reminders.alerts import operations_check
    from training.reminders.sending import messages_send

    return messages_send(message_ids=operations_check())


@shared_task
def messages_retry_task() -> int:
    """Every few minutes (beat): send what is still waiting in the message log (a dead broker,
    a worker killed midway), and settle sends that died. Returns how many went."""
    from training.reminders.sending import messages_retry

    return messages_retry()


@shared_task
def report_counts_refresh_task() -> bool:
    """Every 10 minutes (beat), and soon after a change to the figures: take the snapshot the
    report pages read."""
    from training.reports.snapshot import report_counts_refresh

    return report_counts_refresh()


def report_counts_refresh_soon() -> None:
    """After a change to the figures: count them again in a minute. Changes within that minute
    share the one count (the key lasts as long as the wait), so a busy hour costs 60 counts at
    most, and the pages are never more than about a minute behind. Queues
    report_counts_refresh_task after commit."""
    if cache.add("aware-report-counts-queued", True, timeout=COUNTS_SOON_SECONDS):
        task_enqueue_on_commit(report_counts_refresh_task, countdown=COUNTS_SOON_SECONDS)


@shared_task
def records_checkpoint_task() -> dict:
    """Daily (beat): sign the completion chain's head, append it to the checkpoint file and
    email it to the checkpoint mailbox."""
    from training.services.checkpoints import records_checkpoint_write

    checkpoint = records_checkpoint_write()
    return {"count": checkpoint.count, "last_id": checkpoint.last_id}


@shared_task
def retention_sweep_task() -> dict:
    """Daily (beat): erase leavers past the retention period and delete what is kept no longer
    (the old email log, stale import files, expired exports)."""
    from dataclasses import asdict

    from training.services.retention import retention_sweep

    return asdict(retention_sweep())
