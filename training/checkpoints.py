"""Signed checkpoints of the completion chain's head: what one says, its signature, its file,
its email."""

import hmac
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage

from training.hashing import records_hmac, records_key

CHECKPOINT_FILE = "records-checkpoints.jsonl"


class CheckpointUnreadable(ValueError):
    """A checkpoint file that is missing, empty or not checkpoint JSON lines."""


@dataclass(frozen=True)
class Checkpoint:
    """The chain's head at a moment: how many records, the last one's id and hash. No
    personal data, so it can be mailed and filed anywhere."""

    count: int
    last_id: int | None
    last_hash: str
    taken_at: str  # ISO 8601, UTC
    key_id: str
    signature: str = ""

    def signed_content(self) -> str:
        fields = asdict(self)
        del fields["signature"]
        return json.dumps(["aware-checkpoint-v1", fields], sort_keys=True, separators=(",", ":"))

    def signed(self, *, key: bytes) -> "Checkpoint":
        return Checkpoint(
            **{**asdict(self), "signature": records_hmac(key=key, content=self.signed_content())}
        )

    def signature_valid(self) -> bool:
        """True when signed by its key; RecordsKeyUnknown when that key is not configured."""
        expected = records_hmac(key=records_key(self.key_id), content=self.signed_content())
        return hmac.compare_digest(expected, self.signature)

    def to_line(self) -> str:
        return json.dumps(asdict(self), sort_keys=True) + "\n"


def checkpoint_directory() -> Path:
    return Path(settings.AWARE_CHECKPOINT_DIR)


def checkpoint_parse(line: str) -> Checkpoint:
    try:
        fields = json.loads(line)
        return Checkpoint(**{name: fields[name] for name in Checkpoint.__dataclass_fields__})
    except (ValueError, TypeError, KeyError) as exc:
        raise CheckpointUnreadable(f"not a records checkpoint: {exc}") from None


def checkpoint_last_in(path: Path) -> Checkpoint:
    """The last checkpoint in a file of JSON lines (CheckpointUnreadable if there is none)."""
    try:
        lines = [line for line in path.read_text().splitlines() if line.strip()]
    except OSError as exc:
        raise CheckpointUnreadable(f"{path}: {exc.strerror or exc}") from None
    if not lines:
        raise CheckpointUnreadable(f"{path} holds no checkpoint")
    return checkpoint_parse(lines[-1])


def checkpoint_latest(directory: Path | None = None) -> tuple[Checkpoint, Path] | None:
    """The newest checkpoint in any *.jsonl file in the directory (default
    AWARE_CHECKPOINT_DIR), with its file; None when there is none."""
    directory = directory or checkpoint_directory()
    found = []
    for path in sorted(directory.glob("*.jsonl")):
        try:
            found.append((checkpoint_last_in(path), path))
        except CheckpointUnreadable:
            continue
    return max(found, key=lambda pair: pair[0].taken_at, default=None)


def checkpoint_email(message) -> EmailMessage:
    """The email of a checkpoint logged in the message log (its `items` hold the line)."""
    checkpoint = checkpoint_parse(json.dumps(message.items[0]["checkpoint"]))
    return EmailMessage(
        subject=f"Aware training: records checkpoint {checkpoint.taken_at[:10]}",
        body=(
            "Keep this email: it is Aware's signed checkpoint of the completion records on "
            f"{checkpoint.taken_at} ({checkpoint.count} records, the last one "
            f"{checkpoint.last_id}). If records are later removed or rewritten, an auditor "
            "saves the line below to a file and runs\n\n"
            "    python manage.py verify_records --checkpoint FILE\n\n"
            "It holds no personal data.\n\n" + checkpoint.to_line()
        ),
        to=[message.recipient_email],
    )
