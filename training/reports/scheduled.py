"""Reports scheduled by email: who may receive one, the period each run belongs to, logging each
run once per recipient, the email (a link, never the report), and the signed-in download.

A run's key in the message log is (recipient, "scheduled-report", "<schedule id>/<period>"), so a
second beat, a retried task or a rerun in the same week, month or quarter sends nothing."""

import io
import logging
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from training.models import ScheduledReport, SentMessage
from training.reminders.log import scheduled_message_log
from training.reports.exports import XLSX_TYPE, xlsx_write
from training.reports.filters import ReportFilters
from training.reports.permissions import report_scope
from training.reports.tables import report_table

logger = logging.getLogger(__name__)

Report = ScheduledReport.Report
Frequency = ScheduledReport.Frequency

PDF_TYPE = "application/pdf"


def report_formats(report: str) -> list[str]:
    """The files a scheduled report comes as: the pack as a PDF and an XLSX, the rest as XLSX."""
    return ["pdf", "xlsx"] if report == Report.PACK else ["xlsx"]


def report_visible_to(*, report: str, user: User) -> bool:
    """May this person see this report? HR every report; Member Services the councillors'."""
    if not user.is_active:
        return False
    scope = report_scope(user)
    return scope == "all" or (scope == "councillors" and report == Report.COUNCILLORS)


def scheduled_report_recipients_check(schedule: ScheduledReport) -> list[User]:
    """The recipients' accounts, or a ValidationError naming each address that is not someone
    with an account allowed to see the report (their download needs them to sign in)."""
    emails = schedule.recipient_emails()
    if not emails:
        raise ValidationError({"recipients": "Add at least one email address."})
    users = _accounts(emails)
    unknown = [e for e in emails if e not in users or not users[e].is_active]
    refused = [
        e for e in emails if e in users and e not in unknown and not _allowed(schedule, users[e])
    ]
    problems = []
    if unknown:
        problems.append(
            "No one with an account here has "
            + ("this address: " if len(unknown) == 1 else "these addresses: ")
            + ", ".join(unknown)
            + ". Recipients sign in to download the report, so each must have an account."
        )
    if refused:
        problems.append(
            "Not allowed to see this report: "
            + ", ".join(refused)
            + ". Only HR may get it (Member Services may get the councillors' report)."
        )
    if problems:
        raise ValidationError({"recipients": problems})
    return [users[e] for e in emails]


def _accounts(emails: list[str]) -> dict[str, User]:
    """The accounts with these addresses (any case), by lower-cased address: one query."""
    if not emails:
        return {}
    match = Q()
    for email in emails:
        match |= Q(email__iexact=email)
    return {u.email.lower(): u for u in User.objects.filter(match)}


def _allowed(schedule: ScheduledReport, user: User) -> bool:
    return report_visible_to(report=schedule.report, user=user)


def schedule_period(*, frequency: str, day: date) -> str:
    """The week ("2026-W49"), month ("2026-12") or quarter ("2026-Q4") a day belongs to."""
    if frequency == Frequency.WEEKLY:
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if frequency == Frequency.QUARTERLY:
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return f"{day:%Y-%m}"


def period_label(period: str) -> str:
    """A period key as people say it: "week 49 of 2026", "December 2026", "October to
    December 2026"."""
    year, _, part = period.partition("-")
    if part.startswith("W"):
        return f"week {int(part[1:])} of {year}"
    if part.startswith("Q"):
        first = (int(part[1:]) - 1) * 3 + 1
        start, end = date(int(year), first, 1), date(int(year), first + 2, 1)
        return f"{start:%B} to {end:%B} {year}"
    return f"{date(int(year), int(part), 1):%B %Y}"


def scheduled_reports_log(*, now: datetime | None = None) -> list[int]:
    """Log this period's email of each active scheduled report to each of its recipients who
    may still see it, once (the message log's unique key). Returns the ids still waiting to be
    sent (a rerun in the same period finds none). Sends nothing."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    pending = []
    for schedule in ScheduledReport.objects.filter(active=True).order_by("pk"):
        period = schedule_period(frequency=schedule.frequency, day=today)
        emails = schedule.recipient_emails()
        people = _accounts(emails)
        for email in emails:
            user = people.get(email)
            if user is None or not _allowed(schedule, user):
                # Lost their account or their access since HR added them: nothing goes.
                logger.warning("scheduled report %s: a recipient may not see it", schedule.pk)
                continue
            message_id = scheduled_message_log(
                kind=SentMessage.Kind.SCHEDULED_REPORT,
                email=user.email,
                period=f"{schedule.pk}/{period}",
                items=[{"schedule": schedule.pk, "period": period}],
                recipient=user,
            )
            if message_id is not None:
                pending.append(message_id)
    return pending


def download_url(*, schedule_id: int, export_format: str) -> str:
    path = reverse("aware_reports_scheduled_download", args=[schedule_id, export_format])
    return settings.SITE_URL.rstrip("/") + path


def scheduled_report_email(message: SentMessage) -> EmailMessage:
    """A scheduled report's email: what it is, for which period, and links to sign in and
    download it. No figures, no names, no attachment."""
    item = message.items[0]
    schedule = ScheduledReport.objects.filter(pk=item["schedule"]).first()
    name = schedule.name if schedule else "A scheduled report"
    report = schedule.report if schedule else Report.OVERVIEW
    when = period_label(item["period"])
    links = "\n".join(
        f"- {fmt.upper()}: {download_url(schedule_id=item['schedule'], export_format=fmt)}"
        for fmt in report_formats(report)
    )
    return EmailMessage(
        subject=f"Aware training: {name} for {when}",
        body=(
            f"{name} for {when} is ready.\n\n"
            f"Sign in to Aware to download it:\n{links}\n\n"
            "The figures are as they are when you open the link. Only you can use these links, "
            "and only while you may see HR reports. Nothing personal is in this email.\n\n"
            "HR sends this report on a schedule. Ask HR to take you off the list."
        ),
        to=[message.recipient_email],
    )


@dataclass
class ReportFile:
    content: bytes
    filename: str
    content_type: str


def scheduled_report_filters(schedule: ScheduledReport) -> ReportFilters:
    return ReportFilters(
        department=schedule.department,
        audience=schedule.audience,
        module=schedule.module,
        person_type=schedule.person_type,
        status=schedule.status,
        councillors_only=schedule.report == Report.COUNCILLORS,
    )


def scheduled_report_file(
    *, schedule: ScheduledReport, user: User, export_format: str, now: datetime
) -> ReportFile:
    """The report's file as it is now, for one of its recipients who may see it (or an HR
    adviser who may change schedules). PermissionError for anyone else; LookupError for a format
    it does not come in."""
    recipient = user.email.lower() in schedule.recipient_emails()
    if not (
        (recipient or user.has_perm("training.change_scheduledreport")) and _allowed(schedule, user)
    ):
        raise PermissionError
    if export_format not in report_formats(schedule.report):
        raise LookupError(export_format)
    stem = f"aware-{schedule.report}-{timezone.localdate(now):%Y-%m-%d}"
    if schedule.report == Report.PACK:
        from training.reports.pack import pack_xlsx
        from training.reports.pack_pdf import pack_pdf

        if export_format == "pdf":
            return ReportFile(pack_pdf(now=now), f"{stem}.pdf", PDF_TYPE)
        return ReportFile(pack_xlsx(now=now), f"{stem}.xlsx", XLSX_TYPE)
    table_name = "overview" if schedule.report == Report.COUNCILLORS else schedule.report
    table = report_table(report=table_name, filters=scheduled_report_filters(schedule), now=now)
    output = io.BytesIO()
    xlsx_write([table], output)
    return ReportFile(output.getvalue(), f"{stem}.xlsx", XLSX_TYPE)
