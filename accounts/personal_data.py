"""Subject access: everything Aware holds on one person, as a ZIP of CSV files and a PDF summary.

Each app lists what it holds on a person through a Wagtail hook (PERSONAL_DATA_HOOK), so the
export reaches training's and the quizzes' records without accounts importing them. Every
section reads a fixed number of queries whatever the number of rows."""

import csv
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from html import escape

from django.utils import timezone
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from wagtail import hooks

from accounts.models import User

# fn(person: User) -> list[PersonalTable | PersonalFile], in the order the ZIP lists them.
PERSONAL_DATA_HOOK = "aware_personal_data"
# fn(*, person: User, now: datetime) -> dict[str, int]: what it erased or removed, as counts.
PERSONAL_DATA_ERASE_HOOK = "aware_personal_data_erase"


@dataclass
class PersonalTable:
    """One CSV in the export: `name` (its file name without .csv), a title for the summary."""

    name: str
    title: str
    headers: Sequence[str]
    rows: list[Sequence]


@dataclass
class PersonalFile:
    """Any other file in the export (a certificate PDF), under `name`."""

    name: str
    content: bytes


def cell(value) -> str:
    """A value as the CSV shows it: local times, ISO dates, "" for nothing."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value.tzinfo else str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    # A spreadsheet runs a cell that starts with one of these as a formula.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def personal_data_sections(*, person: User) -> list[PersonalTable | PersonalFile]:
    """What every app holds on `person`, section by section (reads only)."""
    sections: list[PersonalTable | PersonalFile] = []
    for section_list in hooks.get_hooks(PERSONAL_DATA_HOOK):
        sections.extend(section_list(person))
    return sections


def _csv(table: PersonalTable) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.headers)
    writer.writerows([cell(value) for value in row] for row in table.rows)
    return out.getvalue().encode("utf-8-sig")  # the BOM makes Excel read UTF-8


def personal_data_summary_pdf(
    *, person: User, tables: list[PersonalTable], council_name: str, now: datetime
) -> bytes:
    """A PDF that says what the ZIP holds: the person's details and each file's rows."""
    styles = getSampleStyleSheet()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title="Personal data held by Aware",
        author=council_name,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
    )
    story = [
        Paragraph(
            f"{escape(council_name)}: personal data held by the Aware training site",
            styles["Title"],
        ),
        Paragraph(
            f"Produced {timezone.localtime(now):%-d %B %Y at %H:%M} for a subject access "
            "request. Each section below is a CSV file in this ZIP, which opens in any "
            "spreadsheet program.",
            styles["Normal"],
        ),
        Spacer(1, 6 * mm),
    ]
    profile = next((t for t in tables if t.name == "01-profile"), None)
    if profile is not None and profile.rows:
        # Paragraph reads its text as markup: what people typed is escaped first.
        rows = [
            [Paragraph(h, styles["Normal"]), Paragraph(escape(cell(v)), styles["Normal"])]
            for h, v in zip(profile.headers, profile.rows[0], strict=True)
        ]
        story += [Paragraph("Your details", styles["Heading2"]), _table(rows), Spacer(1, 6 * mm)]
    rows = [["File", "What it holds", "Rows"]]
    rows += [
        [f"{t.name}.csv", Paragraph(t.title, styles["Normal"]), str(len(t.rows))] for t in tables
    ]
    story += [Paragraph("What this download holds", styles["Heading2"]), _table(rows)]
    document.build(story)
    return buffer.getvalue()


def _table(rows: list[list]) -> Table:
    table = Table(rows, colWidths=[55 * mm, 100 * mm, 20 * mm][: len(rows[0])], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, (0.6, 0.6, 0.6)),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def personal_data_zip(*, person: User, council_name: str, now: datetime | None = None) -> bytes:
    """The subject access export for one person, built in memory: one CSV per section, any
    files the sections add (certificates), and summary.pdf. Reads only; nothing is logged."""
    now = now or timezone.now()
    sections = personal_data_sections(person=person)
    tables = [s for s in sections if isinstance(s, PersonalTable)]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "summary.pdf",
            personal_data_summary_pdf(
                person=person, tables=tables, council_name=council_name, now=now
            ),
        )
        for section in sections:
            if isinstance(section, PersonalTable):
                archive.writestr(f"{section.name}.csv", _csv(section))
            else:
                archive.writestr(section.name, section.content)
    return buffer.getvalue()


# ACCOUNTS' OWN SECTIONS (registered in accounts/wagtail_hooks.py)


def accounts_personal_data(person: User) -> list[PersonalTable]:
    """The person's record, sign-in addresses and methods, emails waiting to go to them, and
    the audit trail about them. Six queries, whatever they hold."""
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator
    from django.contrib.contenttypes.models import ContentType
    from wagtail.models import ModelLogEntry

    from accounts.models import QueuedEmail

    person = User.objects.select_related("department", "line_manager").get(pk=person.pk)
    roles = ", ".join(sorted(person.groups.values_list("name", flat=True)))
    profile = PersonalTable(
        name="01-profile",
        title="Your record: name, email, employee number, role, department, line manager and "
        "dates, as HR keeps them",
        headers=[
            "Name",
            "Email address",
            "Employee number",
            "Person type",
            "Department",
            "Service area",
            "Job title",
            "Line manager",
            "Start date (councillors: election)",
            "On leave until",
            "Active",
            "Deactivated",
            "Personal data erased",
            "Account created",
            "Last signed in",
            "Roles in the admin",
        ],
        rows=[
            [
                person.full_name,
                person.email,
                person.employee_number,
                person.get_person_type_display(),
                person.department.full_name if person.department else "",
                person.get_service_area_display(),
                person.job_title,
                person.line_manager.full_name if person.line_manager else "",
                person.start_date,
                person.on_leave_until,
                person.is_active,
                person.deactivated_at,
                person.erased_at,
                person.date_joined,
                person.last_login,
                roles,
            ]
        ],
    )
    addresses = PersonalTable(
        name="02-email-addresses",
        title="The email addresses you can sign in with",
        headers=["Email address", "Verified", "Primary"],
        rows=[
            [a.email, a.verified, a.primary]
            for a in EmailAddress.objects.filter(user=person).order_by("pk")
        ],
    )
    authenticators = PersonalTable(
        name="03-two-factor",
        title="Your two-factor sign-in methods (never their secrets)",
        headers=["Method", "Added", "Last used"],
        rows=[
            [a.get_type_display(), a.created_at, a.last_used_at]
            for a in Authenticator.objects.filter(user=person).order_by("pk")
        ],
    )
    # The outbox is short (each email is deleted once sent): read it once, match the address.
    email = person.email.lower()
    queued = PersonalTable(
        name="04-queued-emails",
        title="Emails waiting to be sent to you (sign-in links are left out)",
        headers=["Kind", "Subject", "Queued", "Attempts"],
        rows=[
            [q.template, q.message.get("subject", ""), q.created_at, q.attempts]
            for q in QueuedEmail.objects.order_by("pk")
            if email in [to.lower() for to in q.message.get("to") or []]
        ],
    )
    entries = ModelLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(User), object_id=str(person.pk)
    ).select_related("user")
    trail = PersonalTable(
        name="05-audit-trail",
        title="The audit trail about your record: each change, who made it and when",
        headers=["When", "Action", "By", "What changed"],
        rows=[
            [e.timestamp, e.action, str(e.user) if e.user else "system", e.message]
            for e in entries.order_by("timestamp", "pk")
        ],
    )
    return [profile, addresses, authenticators, queued, trail]
