"""The daily records checkpoint: sign the completion chain's head, keep it outside the database."""

import logging
import os
from dataclasses import asdict
from datetime import UTC, datetime
from smtplib import SMTPException

from django.utils import timezone
from wagtail.models import Site

from training.checkpoints import CHECKPOINT_FILE, Checkpoint, checkpoint_directory
from training.hashing import records_key_current
from training.models import ModuleCompletion, ReportSettings, SentMessage
from training.reminders.log import scheduled_message_log
from training.reminders.sending import reminder_message_failed, reminder_message_send

logger = logging.getLogger(__name__)


def records_checkpoint_write(*, now: datetime | None = None) -> Checkpoint:
    """Sign the chain's head (count, last id, last hash, time, key id) with the records key,
    append it as one JSON line to AWARE_CHECKPOINT_DIR/records-checkpoints.jsonl, then email it
    to the checkpoint mailbox (Settings -> Reports; the HR mailbox when empty), once a day: the
    email is logged under the day's key, so a second checkpoint that day is filed, not mailed.

    Side effects: the file line, at most one email a day. A mailbox that refuses the mail is
    logged, the file is still written and the email waits in the log for the retry task.
    Queues no task. Raises ImproperlyConfigured without the key."""
    key_id, key = records_key_current()
    now = now or timezone.now()
    head = ModuleCompletion.objects.order_by("-pk").values("pk", "record_hash").first()
    # Records are appended in primary-key order under the chain lock, so counting up to the
    # head read a moment ago counts exactly the records the head covers.
    count = ModuleCompletion.objects.filter(pk__lte=head["pk"]).count() if head else 0
    checkpoint = Checkpoint(
        count=count,
        last_id=head["pk"] if head else None,
        last_hash=head["record_hash"] if head else "",
        taken_at=now.astimezone(UTC).isoformat(),
        key_id=key_id,
    ).signed(key=key)
    _checkpoint_file_append(checkpoint)
    _checkpoint_email(checkpoint, now=now)
    return checkpoint


def _checkpoint_file_append(checkpoint: Checkpoint) -> None:
    directory = checkpoint_directory()
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / CHECKPOINT_FILE).open("a") as file:
        file.write(checkpoint.to_line())
        file.flush()
        os.fsync(file.fileno())


def _checkpoint_email(checkpoint: Checkpoint, *, now: datetime) -> bool:
    site = Site.objects.filter(is_default_site=True).first()
    report_settings = ReportSettings.for_site(site) if site else None
    mailbox = report_settings and (report_settings.checkpoint_mailbox or report_settings.hr_mailbox)
    if not mailbox:
        logger.warning(
            "records checkpoint %s not emailed: no checkpoint or HR mailbox set",
            _described(checkpoint),
        )
        return False
    # One email a day, however many checkpoints are taken (two beats, a rerun): the day's first.
    message_id = scheduled_message_log(
        kind=SentMessage.Kind.RECORDS_CHECKPOINT,
        email=mailbox,
        period=timezone.localdate(now).isoformat(),
        items=[{"checkpoint": asdict(checkpoint)}],
    )
    if message_id is None:
        logger.info("records checkpoint %s: today's is emailed already", _described(checkpoint))
        return False
    try:
        return reminder_message_send(message_id=message_id)
    except (SMTPException, OSError) as exc:
        reminder_message_failed(message_id=message_id, error=exc, final=False)
        logger.warning(
            "records checkpoint %s written to its file but not emailed: %s (the retry sends it)",
            _described(checkpoint),
            exc.__class__.__name__,
        )
        return False


def _described(checkpoint: Checkpoint) -> str:
    return f"(count {checkpoint.count}, last id {checkpoint.last_id})"
