"""The monthly HR pack: built as one XLSX workbook and emailed to the HR mailbox."""

import io
import logging
from datetime import datetime

from django.core.mail import EmailMessage
from django.utils import timezone
from wagtail.models import Site

from training.models import ReportSettings, SentMessage
from training.reminders.log import scheduled_message_log
from training.reports.exports import XLSX_TYPE, xlsx_write
from training.reports.filters import ReportFilters
from training.reports.tables import overdue_table, overview_table, trend_table

logger = logging.getLogger(__name__)


def hr_pack_build(*, now: datetime) -> bytes:
    """The monthly HR pack: overview (small numbers kept, it stays in HR), councillors, trend and
    the overdue list, as one XLSX workbook."""
    everyone = ReportFilters()
    councillors = ReportFilters(councillors_only=True)
    tables = [
        overview_table(filters=everyone, now=now),
        overview_table(filters=councillors, now=now),
        trend_table(filters=everyone, now=now),
        overdue_table(filters=everyone, now=now),
    ]
    tables[1].title = "Councillors"
    output = io.BytesIO()
    xlsx_write(tables, output)
    return output.getvalue()


def hr_pack_log(*, now: datetime | None = None) -> int | None:
    """Log this month's HR pack to the HR mailbox in the report settings, once: its key is the
    mailbox and the month, so a second beat, a retry or a rerun finds it there. Returns its id
    while it waits to be sent, else None (no mailbox set, or already sent or being sent).
    Sends nothing: hr_pack_send_task sends it."""
    now = now or timezone.now()
    site = Site.objects.filter(is_default_site=True).first()
    mailbox = ReportSettings.for_site(site).hr_mailbox if site else ""
    if not mailbox:
        logger.info("HR pack not sent: no HR mailbox in the report settings")
        return None
    month = timezone.localdate(now).strftime("%Y-%m")
    return scheduled_message_log(
        kind=SentMessage.Kind.HR_PACK, email=mailbox, period=month, items=[{"month": month}]
    )


def hr_pack_email(message: SentMessage) -> EmailMessage:
    """The HR pack's email for a logged month, with the XLSX (figures as they are now)."""
    now = timezone.now()
    month = datetime.strptime(message.period, "%Y-%m").strftime("%B %Y")  # noqa: DTZ007
    email = EmailMessage(
        subject=f"Aware training: HR pack for {month}",
        body=(
            f"The training compliance pack for {month} is attached: compliance by module, "
            "department, audience and person type; councillors; the weekly trend over the last "
            "year; and everyone overdue.\n\nThe figures include small numbers: keep it within HR."
        ),
        to=[message.recipient_email],
    )
    email.attach(f"aware-hr-pack-{message.period}.xlsx", hr_pack_build(now=now), XLSX_TYPE)
    return email
