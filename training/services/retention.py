"""The retention job: what Aware stops keeping once its time is up (leavers' personal data, the
email log, stored import files, report exports), and the one path that may delete the email log."""

import logging
from dataclasses import asdict, dataclass
from datetime import datetime

import pgtrigger
from dateutil.relativedelta import relativedelta
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.erasure import leavers_erase_due
from accounts.models import PeopleImport
from cms.audit import ACTION_RETENTION, audit_record_counts
from cms.selectors import retention_settings
from training.models import CompletionImport, SentMessage
from training.reports.exports import report_exports_purge

logger = logging.getLogger(__name__)

# The email log's delete trigger: lifted by sent_messages_delete only, for its own rows.
SENT_MESSAGE_NO_DELETE = "training.SentMessage:no_delete"
SQLITE_NO_DELETE = "aware_sentmessage_no_delete"


@transaction.atomic
def sent_messages_delete(*, messages: QuerySet[SentMessage], reason: str) -> int:
    """Delete these email log rows: the only way the log's append-only trigger lets a row go,
    for the retention job ("retention") and a person's erasure ("erasure"). The trigger is
    lifted for this one statement inside this transaction (pgtrigger.ignore on PostgreSQL;
    on SQLite, which has no such switch, dropped and recreated in the same transaction), so
    every other delete is still refused. The caller's audit entry records the count."""
    ids = list(messages.values_list("pk", flat=True))
    if not ids:
        return 0
    rows = SentMessage.objects.filter(pk__in=ids)
    if connection.vendor == "postgresql":
        with pgtrigger.ignore(SENT_MESSAGE_NO_DELETE):
            deleted = rows.delete()[0]
    else:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = %s",
                [SQLITE_NO_DELETE],
            )
            (trigger_sql,) = cursor.fetchone()
            cursor.execute(f"DROP TRIGGER {SQLITE_NO_DELETE}")
            try:
                deleted = rows.delete()[0]
            finally:
                cursor.execute(trigger_sql)
    logger.info("Deleted %d email log entries (%s)", deleted, reason)
    return deleted


@dataclass
class RetentionResult:
    leavers_erased: int = 0
    email_log_entries_deleted: int = 0
    import_files_cleared: int = 0
    report_exports_deleted: int = 0


def retention_sweep(*, now: datetime | None = None) -> RetentionResult:
    """Daily (beat): erase leavers past the retention period HR set (accounts.erasure, one
    audit entry each), delete the email log older than its period, clear the text of import
    files never confirmed once their preview has expired, and delete expired report exports
    (files and rows). One audit entry records the counts (no names); logs counts only."""
    now = now or timezone.now()
    periods = retention_settings()
    result = RetentionResult(leavers_erased=leavers_erase_due(now=now))
    old = SentMessage.objects.filter(
        created_at__lt=now - relativedelta(months=periods.message_log_months)
    ).exclude(state__in=[SentMessage.State.PENDING, SentMessage.State.SENDING])
    result.email_log_entries_deleted = sent_messages_delete(messages=old, reason="retention")
    for model in (PeopleImport, CompletionImport):
        result.import_files_cleared += (
            model.objects.filter(imported_at__isnull=True, created_at__lt=now - model.LIFETIME)
            .exclude(csv_text="")
            .update(csv_text="")
        )
    result.report_exports_deleted = report_exports_purge(now=now)
    counts = asdict(result)
    audit_record_counts(
        model=SentMessage,
        action=ACTION_RETENTION,
        label="Retention job",
        counts=counts,
    )
    logger.info("Retention run: %s", counts)
    return result
