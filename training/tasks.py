"""Celery tasks for training (thin: each calls one service)."""

from smtplib import SMTPException

from celery import shared_task

from training.services import assignments_sync


@shared_task
def assignments_sync_task(user_ids: list[int] | None = None) -> dict:
    """Nightly (beat) and after imports: bring open assignments in line with the rules."""
    result = assignments_sync(user_ids=user_ids)
    return {"created": result.created, "closed": result.closed}


@shared_task
def reminders_sweep_task() -> dict:
    """Beat runs this daily: plan and log the reminders, then queue one send task each."""
    from training.reminders import reminders_sweep

    result = reminders_sweep()
    return {"created": result.created, "queued": result.queued, "skipped": result.skipped}


@shared_task(bind=True, max_retries=5, acks_late=True)
def reminder_send_task(self, message_id: int) -> bool:
    """Send one logged reminder; on an SMTP failure retry with backoff, then record the failure.

    Safe to run twice: a message already sent is not sent again."""
    from training.reminders import reminder_message_failed, reminder_message_send

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
    from training.report_services import report_export_build

    report_export_build(export_id=export_id)


@shared_task
def hr_pack_send_task() -> bool:
    """Monthly (beat): email the HR pack to the HR mailbox."""
    from training.report_services import hr_pack_send

    return hr_pack_send()


@shared_task
def report_counts_refresh_task() -> bool:
    """Every 10 minutes (beat), and soon after a page finds the counts missing or old: count
    the figures the report pages read."""
    from training.report_services import report_counts_refresh

    return report_counts_refresh()
