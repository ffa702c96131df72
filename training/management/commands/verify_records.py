"""Check the completion-record chain and the latest checkpoint: name every record altered,
forged or removed since it was written."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from training.checkpoints import (
    CheckpointUnreadable,
    checkpoint_directory,
    checkpoint_last_in,
    checkpoint_latest,
)
from training.models import ModuleCompletion
from training.selectors import completion_chain_problems


class Command(BaseCommand):
    help = (
        "Verify every completion record's HMAC and its link to the record before it, and the "
        "chain against the latest signed checkpoint. Exits non-zero on any problem."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--checkpoint",
            metavar="FILE",
            help="Check against the last checkpoint in FILE (JSON lines, e.g. saved from the "
            "checkpoint email) instead of the newest one in AWARE_CHECKPOINT_DIR.",
        )

    def handle(self, *args, **options):
        if options["checkpoint"]:
            path = Path(options["checkpoint"])
            try:
                checkpoint = checkpoint_last_in(path)
            except CheckpointUnreadable as exc:
                raise CommandError(f"Cannot read the checkpoint: {exc}") from None
        else:
            found = checkpoint_latest()
            checkpoint, path = found if found else (None, None)
        report = completion_chain_problems(checkpoint=checkpoint)
        records = ModuleCompletion.objects.select_related("module").in_bulk(
            {p.record_id for p in report.problems if p.record_id is not None}
        )
        for problem in report.problems:
            self.stdout.write(
                f"PROBLEM {self._described(problem.record_id, records)}: {problem.what}"
            )
        if checkpoint:
            self.stdout.write(
                f"Checked against the checkpoint of {checkpoint.taken_at} (count "
                f"{checkpoint.count}, last id {checkpoint.last_id}, key {checkpoint.key_id}) "
                f"in {path}."
            )
        else:
            self.stdout.write(
                f"No checkpoint in {checkpoint_directory()}: records removed from the end of the "
                "chain cannot be detected (records_checkpoint_task writes one daily)."
            )
        if report.legacy:
            self.stdout.write(
                f"{report.legacy} legacy records (written before records were keyed: plain "
                "SHA-256, key id empty) checked with the old scheme; anyone can recompute it, "
                "so a rewrite of them shows only at the first keyed record or a checkpoint."
            )
        if report.problems:
            raise CommandError(
                f"{len(report.problems)} problem(s) in {report.checked} completion records."
            )
        self.stdout.write(f"All {report.checked} completion records are intact.")

    @staticmethod
    def _described(record_id: int | None, records: dict[int, ModuleCompletion]) -> str:
        """The record as an auditor finds it in the admin: ids, module and date, no names."""
        if record_id is None:
            return "chain"
        record = records.get(record_id)
        if record is None:
            return f"record {record_id}"
        return (
            f"record {record.pk} (user {record.user_id}, module {record.module.title!r}, "
            f"completed {record.completed_at:%Y-%m-%d})"
        )
