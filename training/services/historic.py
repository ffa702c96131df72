"""Historic completions from a previous LMS: appended to the evidence once, however often a
file is imported, and every import recorded (CompletionImport)."""

import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from cms.audit import audit_record_import
from training.importers import (
    HistoricPlan,
    historic_completions_plan,
    historic_rows_recorded_mark,
)
from training.locks import Lock, advisory_lock
from training.models import CompletionImport
from training.reports.snapshot import report_weeks_forget
from training.services.completion import CompletionDraft, completion_records_append

logger = logging.getLogger(__name__)

# Records per completion_records_append call from a long file, so memory stays flat.
APPEND_BATCH = 5000


class HistoricImportRefused(Exception):
    """The import was refused as a whole and nothing was written; the message says why."""


@dataclass
class HistoricImportResult:
    went_ahead: bool = False  # False: rows had errors and the valid ones were not to be imported
    imported: int = 0
    already_recorded: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def refused(self) -> int:
        return len(self.errors)

    def counts(self) -> dict[str, int]:
        return {
            "imported": self.imported,
            "already_recorded": self.already_recorded,
            "refused": self.refused,
        }


def _historic_rows_append(
    *, plan: HistoricPlan, import_valid_rows: bool, expected: dict[str, int] | None = None
) -> HistoricImportResult:
    """Append the plan's rows not yet on record. Call inside a transaction."""
    if (plan.errors and not import_valid_rows) or not plan.rows:
        return HistoricImportResult(errors=plan.errors)
    # Which rows are on record is decided under the chain's lock, held until commit: an
    # overlapping import that committed first is seen here, and one that starts now waits.
    advisory_lock(Lock.COMPLETION_CHAIN)
    historic_rows_recorded_mark(plan=plan)
    if expected is not None and plan.summary() != expected:
        raise HistoricImportRefused(
            "Training records have changed since the preview (another import may have "
            "brought in some of these completions), so nothing was imported. Upload the file "
            "again to see an up-to-date preview."
        )
    rows = plan.new_rows
    for start in range(0, len(rows), APPEND_BATCH):
        completion_records_append(
            drafts=[
                CompletionDraft(
                    user_id=row.user.pk,
                    module_id=row.module.pk,
                    module_version=row.module_version,
                    score=row.score,
                    completed_at=row.completed_at,
                    expires_at=row.expires_at,
                    source="import",
                )
                for row in rows[start : start + APPEND_BATCH]
            ]
        )
    if rows:
        # The weeks these records fall in were counted without them: count them again.
        report_weeks_forget(since=min(row.completed_at for row in rows))
    result = HistoricImportResult(
        went_ahead=True,
        imported=len(rows),
        already_recorded=len(plan.recorded_lines),
        errors=plan.errors,
    )
    logger.info("Historic completions import: %s", result.counts())  # counts only
    return result


@transaction.atomic
def historic_completions_import(
    *,
    text: str,
    import_valid_rows: bool = False,
    filename: str = "",
    imported_by: User | None = None,
    now: datetime | None = None,
) -> HistoricImportResult:
    """Append completions from a previous LMS to the evidence chain (source "import").

    With any bad row nothing is written unless `import_valid_rows`. A row whose completion is
    on record already (same person, module, version and completion date, imported before) adds
    nothing and is counted as already recorded, so a file imported twice, or two overlapping
    files at once, add each completion once. When the import goes ahead it is recorded as a
    CompletionImport (by `imported_by`, or the command line when None) and in the audit trail.
    Side effects as completion_records_append."""
    plan = historic_completions_plan(text=text)
    result = _historic_rows_append(plan=plan, import_valid_rows=import_valid_rows)
    if result.went_ahead:
        now = now or timezone.now()
        record = CompletionImport.objects.create(
            imported_by=imported_by, filename=filename[:255], imported_at=now, **result.counts()
        )
        audit_record_import(
            what="historic completions",
            filename=record.filename,
            counts=result.counts(),
            record=record,
            user=imported_by,
        )
    return result


def historic_import_upload(*, uploaded_by: User, filename: str, text: str) -> CompletionImport:
    """Keep an uploaded file server-side for its preview, under a random token.

    Expired previews that were never imported are deleted: they hold people's emails.
    """
    CompletionImport.objects.filter(
        imported_at__isnull=True, created_at__lt=timezone.now() - CompletionImport.LIFETIME
    ).delete()
    return CompletionImport.objects.create(
        token=secrets.token_urlsafe(32),
        imported_by=uploaded_by,
        filename=filename[:255],
        csv_text=text,
    )


@transaction.atomic
def historic_import_confirm(
    *, token: str, user: User, expected: dict[str, int], now: datetime | None = None
) -> HistoricImportResult:
    """Import the valid rows of a previewed file, once, if the preview's counts still hold.

    The upload row is locked, so a double-submitted confirmation imports once; an unknown,
    someone else's, expired or already used token, or counts that changed since the preview,
    raise HistoricImportRefused and write nothing. See historic_completions_import for what is
    written."""
    now = now or timezone.now()
    upload = (
        CompletionImport.objects.select_for_update().filter(token=token, imported_by=user).first()
    )
    if upload is not None and upload.imported_at is not None:
        raise HistoricImportRefused(
            f"This file was already imported at {timezone.localtime(upload.imported_at):%H:%M}; "
            "nothing was imported again."
        )
    if upload is None or not upload.is_open(now):
        raise HistoricImportRefused(
            "This preview has expired or is not yours, so nothing was imported. "
            "Upload the file again."
        )
    plan = historic_completions_plan(text=upload.csv_text)
    result = _historic_rows_append(plan=plan, import_valid_rows=True, expected=expected)
    if not result.went_ahead:
        raise HistoricImportRefused("No row of this file can be imported; nothing was imported.")
    upload.imported_at = now
    upload.csv_text = ""
    upload.imported, upload.already_recorded, upload.refused = (
        result.imported,
        result.already_recorded,
        result.refused,
    )
    upload.save(
        update_fields=["imported_at", "csv_text", "imported", "already_recorded", "refused"]
    )
    audit_record_import(
        what="historic completions",
        filename=upload.filename,
        counts=result.counts(),
        record=upload,
        user=user,
    )
    return result
