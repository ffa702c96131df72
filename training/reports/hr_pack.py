"""The monthly HR pack: built as one XLSX workbook and emailed to the HR mailbox."""

import io
import logging
from datetime import datetime

from django.core.mail import EmailMessage
from django.utils import timezone
from wagtail.models import Site

from training.models import ReportSettings
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


def hr_pack_send(*, now: datetime | None = None) -> bool:
    """Email the HR pack to the HR mailbox in the report settings; False when none is set.

    Sends one email with the XLSX attached."""
    now = now or timezone.now()
    site = Site.objects.filter(is_default_site=True).first()
    mailbox = ReportSettings.for_site(site).hr_mailbox if site else ""
    if not mailbox:
        logger.info("HR pack not sent: no HR mailbox in the report settings")
        return False
    month = timezone.localdate(now).strftime("%B %Y")
    message = EmailMessage(
        subject=f"Aware training: HR pack for {month}",
        body=(
            f"The training compliance pack for {month} is attached: compliance by module, "
            "department, audience and person type; councillors; the weekly trend over the last "
            "year; and everyone overdue.\n\nThe figures include small numbers: keep it within HR."
        ),
        to=[mailbox],
    )
    message.attach(
        f"aware-hr-pack-{timezone.localdate(now):%Y-%m}.xlsx", hr_pack_build(now=now), XLSX_TYPE
    )
    message.send()
    return True
