"""Logging a scheduled email under its once-only key (scheduled reports, checkpoints)."""

from django.utils import timezone

from training.models import SentMessage


def scheduled_message_log(
    *, kind: str, email: str, period: str, items: list[dict], recipient=None
) -> int | None:
    """Log one scheduled email to a mailbox (or to `recipient`, a person, at `email`) under its
    key (kind, mailbox, period) unless it is there already (race-safe: the key is unique in the
    database). Returns its id while it still waits to be sent, else None (another beat, worker
    or run has it). Sends nothing."""
    message, _ = SentMessage.objects.get_or_create(
        recipient_email=email,
        kind=kind,
        period=period,
        defaults={"items": items, "created_at": timezone.now(), "recipient": recipient},
    )
    return message.pk if message.state == SentMessage.State.PENDING else None
