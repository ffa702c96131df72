"""The daily records checkpoint: sign the completion chain's head, keep it outside the database."""

import logging
import os
from datetime import UTC, datetime
from smtplib import SMTPException

from django.core.mail import EmailMessage
from django.utils import timezone
from wagtail.models import Site

from training.checkpoints import CHECKPOINT_FILE, Checkpoint, checkpoint_directory
from training.hashing import records_key_current
from training.models import ModuleCompletion, ReportSettings

logger = logging.getLogger(__name__)


def records_checkpoint_write(*, now: datetime | None = None) -> Checkpoint:
    """Sign the chain's head (count, last id, last hash, time, key id) with the records key,
    append it as one JSON line to AWARE_CHECKPOINT_DIR/records-checkpoints.jsonl, then email it
    to the checkpoint mailbox (Settings -> Reports; the HR mailbox when empty).

    Side effects: the file line, one email. A mailbox that refuses the mail is logged and the
    file is still written. Queues no task. Raises ImproperlyConfigured without the key."""
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
    _checkpoint_email(checkpoint)
    return checkpoint


def _checkpoint_file_append(checkpoint: Checkpoint) -> None:
    directory = checkpoint_directory()
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / CHECKPOINT_FILE).open("a") as file:
        file.write(checkpoint.to_line())
        file.flush()
        os.fsync(file.fileno())


def _checkpoint_email(checkpoint: Checkpoint) -> bool:
    site = Site.objects.filter(is_default_site=True).first()
    report_settings = ReportSettings.for_site(site) if site else None
    mailbox = report_settings and (report_settings.checkpoint_mailbox or report_settings.hr_mailbox)
    if not mailbox:
        logger.warning(
            "records checkpoint %s not emailed: no checkpoint or HR mailbox set",
            _described(checkpoint),
        )
        return False
    message = EmailMessage(
        subject=f"Aware training: records checkpoint {checkpoint.taken_at[:10]}",
        body=(
            "Keep this email: it is Aware's signed checkpoint of the completion records on "
            f"{checkpoint.taken_at} ({checkpoint.count} records, the last one "
            f"{checkpoint.last_id}). If records are later removed or rewritten, an auditor "
            "saves the line below to a file and runs\n\n"
            "    python manage.py verify_records --checkpoint FILE\n\n"
            "It holds no personal data.\n\n" + checkpoint.to_line()
        ),
        to=[mailbox],
    )
    try:
        message.send()
    except (SMTPException, OSError) as exc:
        logger.warning(
            "records checkpoint %s written to its file but not emailed: %s",
            _described(checkpoint),
            exc.__class__.__name__,
        )
        return False
    return True


def _described(checkpoint: Checkpoint) -> str:
    return f"(count {checkpoint.count}, last id {checkpoint.last_id})"
