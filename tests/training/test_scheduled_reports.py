"""Scheduled reports and the audit-committee pack (issue 18): who may receive one, one email per
recipient per period with a link and nothing personal, a download that needs sign-in and
permission, and a PDF whose figures match ones counted here from the definitions."""

import datetime as dt
import io
import re
from pathlib import Path

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader
from wagtail.models import ModelLogEntry

from tests.training.test_reports import council_fixture, independent_counts  # noqa: F401
from training.models import PackSettings, ScheduledReport, SentMessage
from training.reports.figures import TrendPoint
from training.reports.pack import change, pack_figures
from training.reports.scheduled import (
    period_label,
    schedule_period,
    scheduled_report_recipients_check,
)
from training.tasks import scheduled_reports_send_task

pytestmark = pytest.mark.django_db

DOCS = Path(__file__).resolve().parents[2] / "docs"
LONDON = timezone.get_current_timezone()


@pytest.fixture
def people(roles, user_factory):
    """Two HR advisers, one from Member Services and an officer, by role."""
    return {
        "hr": user_factory(email="hr-lead@example.gov.uk", full_name="Hana Reid", groups=["HR"]),
        "hr2": user_factory(email="hr-two@example.gov.uk", full_name="Ira Tull", groups=["HR"]),
        "members": user_factory(
            email="ms-lead@example.gov.uk", full_name="Dana Fletcher", groups=["Member Services"]
        ),
        "officer": user_factory(email="officer-one@example.gov.uk", full_name="Alex Morgan"),
    }


def schedule(**fields) -> ScheduledReport:
    fields.setdefault("name", "Audit committee pack")
    fields.setdefault("recipients", "hr-lead@example.gov.uk")
    return ScheduledReport.objects.create(**fields)


def pdf_text(content: bytes) -> str:
    """The PDF's text, its line breaks as spaces."""
    pages = PdfReader(io.BytesIO(content)).pages
    return " ".join(" ".join(page.extract_text().split()) for page in pages)


# Who may receive a report ----------------------------------------------------------------------


def test_recipients_must_have_an_account_that_may_see_the_report(people):
    report = ScheduledReport(
        name="Pack",
        report=ScheduledReport.Report.PACK,
        recipients="HR-Lead@example.gov.uk\nnobody@example.com\nofficer-one@example.gov.uk\n"
        "ms-lead@example.gov.uk",
    )

    with pytest.raises(ValidationError) as refused:
        scheduled_report_recipients_check(report)

    problems = " ".join(refused.value.message_dict["recipients"])
    assert "No one with an account here has this address: nobody@example.com" in problems
    assert "Not allowed to see this report: officer-one@example.gov.uk, ms-lead@example.gov.uk" in (
        problems
    )
    assert "hr-lead" not in problems  # an HR adviser, whatever the case of the address


def test_member_services_may_get_the_councillors_report_only(people):
    councillors = ScheduledReport(
        name="Councillors",
        report=ScheduledReport.Report.COUNCILLORS,
        recipients="ms-lead@example.gov.uk, hr-lead@example.gov.uk",
    )
    scheduled_report_recipients_check(councillors)  # no error

    councillors.report = ScheduledReport.Report.OVERDUE
    with pytest.raises(ValidationError, match=r"ms-lead@example\.gov\.uk"):
        scheduled_report_recipients_check(councillors)


def test_an_empty_list_of_recipients_is_refused(people):
    with pytest.raises(ValidationError, match="at least one email address"):
        scheduled_report_recipients_check(ScheduledReport(name="Pack", recipients=" \n "))


# Periods ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frequency", "day", "period", "label"),
    [
        ("weekly", dt.date(2026, 12, 1), "2026-W49", "week 49 of 2026"),
        ("weekly", dt.date(2027, 1, 1), "2026-W53", "week 53 of 2026"),
        ("monthly", dt.date(2026, 12, 31), "2026-12", "December 2026"),
        ("quarterly", dt.date(2026, 11, 15), "2026-Q4", "October to December 2026"),
        ("quarterly", dt.date(2026, 1, 1), "2026-Q1", "January to March 2026"),
    ],
)
def test_each_run_belongs_to_its_week_month_or_quarter(frequency, day, period, label):
    assert schedule_period(frequency=frequency, day=day) == period
    assert period_label(period) == label


# Sending ---------------------------------------------------------------------------------------


def at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(6, 30), tzinfo=LONDON)


def test_each_recipient_gets_one_email_a_period_with_links_and_nothing_personal(
    council, people, mailoutbox
):
    weekly = schedule(
        name="Overdue this week",
        report=ScheduledReport.Report.OVERDUE,
        frequency=ScheduledReport.Frequency.WEEKLY,
        recipients="hr-lead@example.gov.uk\nhr-two@example.gov.uk",
    )
    quarterly = schedule(frequency=ScheduledReport.Frequency.QUARTERLY)
    schedule(name="Stopped", active=False)

    sent = []
    for day in (dt.date(2026, 12, 1), dt.date(2026, 12, 2), dt.date(2026, 12, 7)):
        with time_machine.travel(at(day), tick=False):
            sent.append((scheduled_reports_send_task(), scheduled_reports_send_task()))

    # Week 49: both overdue emails and the quarter's pack; week 50: the overdue emails again.
    assert sent == [(3, 0), (0, 0), (2, 0)]
    assert sorted((m.to[0], m.subject) for m in mailoutbox) == [
        (
            "hr-lead@example.gov.uk",
            "Aware training: Audit committee pack for October to December 2026",
        ),
        ("hr-lead@example.gov.uk", "Aware training: Overdue this week for week 49 of 2026"),
        ("hr-lead@example.gov.uk", "Aware training: Overdue this week for week 50 of 2026"),
        ("hr-two@example.gov.uk", "Aware training: Overdue this week for week 49 of 2026"),
        ("hr-two@example.gov.uk", "Aware training: Overdue this week for week 50 of 2026"),
    ]
    pack_email = next(m for m in mailoutbox if "pack" in m.subject)
    assert f"/cms/aware-reports/scheduled/{quarterly.pk}/pdf/" in pack_email.body
    assert f"/cms/aware-reports/scheduled/{quarterly.pk}/xlsx/" in pack_email.body
    overdue_email = next(m for m in mailoutbox if "Overdue" in m.subject)
    assert f"/cms/aware-reports/scheduled/{weekly.pk}/xlsx/" in overdue_email.body
    everyone = [*council["people"].values(), *people.values()]
    for message in mailoutbox:
        assert message.attachments == []
        for person in everyone:
            assert person.full_name not in message.body
            assert person.email not in message.body
        assert not re.search(r"\d+(\.\d)?%", message.body)  # no figures either
    logged = SentMessage.objects.filter(kind=SentMessage.Kind.SCHEDULED_REPORT)
    assert logged.count() == 5
    assert {m.recipient for m in logged} == {people["hr"], people["hr2"]}


def test_a_recipient_who_lost_access_is_sent_nothing(people, mailoutbox):
    schedule(recipients="hr-lead@example.gov.uk\nhr-two@example.gov.uk")
    people["hr2"].groups.clear()  # moved out of HR after being added

    assert scheduled_reports_send_task() == 1

    assert [m.to for m in mailoutbox] == [["hr-lead@example.gov.uk"]]


# The download ----------------------------------------------------------------------------------


def test_the_link_needs_sign_in_and_a_recipient_who_may_see_the_report(
    client, council, people, roles
):
    from allauth.mfa.models import Authenticator

    from tests.conftest import totp_activate

    pack = schedule(recipients="hr-lead@example.gov.uk")
    councillors = schedule(
        name="Councillors",
        report=ScheduledReport.Report.COUNCILLORS,
        recipients="ms-lead@example.gov.uk",
    )
    url = f"/cms/aware-reports/scheduled/{pack.pk}/pdf/"

    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/") or "login" in response["Location"]

    for person in people.values():
        if not Authenticator.objects.filter(user=person).exists():
            totp_activate(person)
    client.force_login(people["members"])  # not a recipient, and may not see the pack
    response = client.get(url)
    assert response.status_code in (302, 403)
    assert not response.has_header("Content-Disposition")
    assert client.get(f"/cms/aware-reports/scheduled/{councillors.pk}/xlsx/").status_code == 200
    assert client.get(f"/cms/aware-reports/scheduled/{councillors.pk}/pdf/").status_code == 404

    client.force_login(people["hr"])
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert "attachment" in response["Content-Disposition"]


# The pack --------------------------------------------------------------------------------------


def test_the_pack_pdf_states_the_figures_counted_from_the_definitions(council, site, settings):
    from training.reports.pack_pdf import pack_pdf

    target = PackSettings.for_site(site)
    target.target_rate, target.amber_margin = 60, 20
    target.save()
    now = timezone.now()
    counts = independent_counts(params=())
    must = sum(c["assigned"] - c["exempt"] for c in counts.values())
    done = sum(c["compliant"] for c in counts.values())
    overdue = sum(c["overdue"] for c in counts.values())
    rate = 100 * done / must
    councillor_counts = independent_counts(where="AND u.person_type = 'councillor'")
    councillors_must = sum(c["assigned"] - c["exempt"] for c in councillor_counts.values())
    mark = "Green" if rate >= 60 else "Amber" if rate >= 40 else "Red"

    content = pack_pdf(now=now)
    reader = PdfReader(io.BytesIO(content))
    text = pdf_text(content)

    assert reader.metadata.title.startswith("Training compliance: audit committee pack")
    assert f"{rate:.1f}%" in text
    assert f"{done} of {must} completed; {overdue} overdue" in text
    assert f"target of 60%: {mark}" in text
    assert "Green at or above the target (60%); Amber from 40% to below the target" in text
    # Two councillors: fewer than five, so their rate is not shown.
    assert councillors_must < 5
    assert "Councillors' completion rate: Too few to show" in text
    assert "Fraud basics" in text  # the content in force
    assert "Cuckooing" in text
    assert "No signed checkpoint" in text
    for person in council["people"].values():
        assert person.full_name not in text

    # The first page, as a committee sees it, kept under docs/ (issue 18).
    import pypdfium2

    page = pypdfium2.PdfDocument(content)[0]
    image = page.render(scale=1.5).to_pil()
    assert image.width > 800
    image.save(DOCS / "hr-pack-first-page.png")


def test_each_directorate_has_a_mark_in_words_and_overdue_small_numbers_are_suppressed(
    council, site
):
    figures = pack_figures(now=timezone.now())

    directorates = {row[0]: row for row in figures.tables["directorates"].rows}
    assert set(directorates) >= {"Neighbourhoods", "Resources"}
    assert all(
        row[3] in ("Green", "Amber", "Red", "Too few to show") for row in directorates.values()
    )
    overdue = figures.tables["overdue"].rows
    assert overdue, "someone is overdue in the small council"
    assert all(row[1] == "<5" for row in overdue)  # every service has fewer than five overdue


def test_the_pack_says_what_changed_since_last_month_and_last_year(council, site):
    from training.reports.snapshot import report_counts_refresh

    now = timezone.now()
    report_counts_refresh(now=now)
    figures = pack_figures(now=now)

    assert figures.month_ago is not None
    assert figures.year_ago is not None
    assert figures.month_ago.week_ending <= timezone.localdate(now) - dt.timedelta(days=28)
    assert figures.year_ago.week_ending <= timezone.localdate(now) - dt.timedelta(weeks=51)
    summary = dict(figures.tables["summary"].rows)
    month = f"Change since last month (week ending {figures.month_ago.week_ending:%d %B %Y})"
    # Nobody had been assigned anything a month ago in the small council: no change to give.
    assert summary[month] == "No data"
    assert change(50.0, TrendPoint(dt.date(2026, 1, 4), 10, 4)) == "+10.0 points"
    assert change(35.5, TrendPoint(dt.date(2026, 1, 4), 10, 4)) == "-4.5 points"


def test_the_pack_counts_emails_sent_by_kind_and_reads_the_checkpoint(council, site, settings):
    from training.services.checkpoints import records_checkpoint_write

    checkpoint = records_checkpoint_write()
    SentMessage.objects.create(
        recipient_email="a@example.gov.uk",
        kind=SentMessage.Kind.LEARNER,
        period="2026-01-01",
        created_at=timezone.now(),
        sent_at=timezone.now(),
        state=SentMessage.State.SENT,
    )

    figures = pack_figures(now=timezone.now())

    reminders = dict(figures.tables["reminders"].rows)
    assert reminders["Learner digest"] == 1
    assert figures.checkpoint["last_hash"] == checkpoint.last_hash
    assert figures.checkpoint["today"] is True


def test_the_pack_xlsx_has_the_summary_then_the_detail(council, site):
    from training.reports.pack import pack_xlsx

    workbook = load_workbook(io.BytesIO(pack_xlsx(now=timezone.now())))

    assert workbook.sheetnames == [
        "Summary",
        "Directorates",
        "Councillors by module",
        "Where overdue training is",
        "Completion rate by week",
        "Content in force",
        "Emails sent in the last 30 days",
        "Compliance overview",
        "Councillors detail",
        "Weekly trend",
        "Overdue",
    ]


def test_the_pack_figures_cost_a_bounded_number_of_queries(
    council, site, django_assert_max_num_queries
):
    from training.reports.snapshot import report_counts_refresh

    report_counts_refresh()
    with django_assert_max_num_queries(25):
        pack_figures(now=timezone.now())


# HR configures it in the admin -----------------------------------------------------------------


def test_hr_schedules_a_report_in_the_admin_and_the_change_is_audited(
    client, signed_in_with_mfa, people
):
    hr = signed_in_with_mfa("hr-admin@example.gov.uk", groups=["HR"], full_name="Hal Ross")
    url = "/cms/snippets/training/scheduledreport/add/"
    form = {
        "name": "Committee pack",
        "report": "pack",
        "frequency": "monthly",
        "recipients": "nobody@example.com",
        "person_type": "",
        "status": "",
        "active": "on",
    }

    response = client.post(url, form)
    assert response.status_code == 200
    assert "No one with an account here has this address" in response.content.decode()
    assert not ScheduledReport.objects.exists()

    response = client.post(url, form | {"recipients": "hr-lead@example.gov.uk"})
    assert response.status_code == 302
    created = ScheduledReport.objects.get()
    entry = ModelLogEntry.objects.for_instance(created).get(action="wagtail.create")
    assert entry.user == hr
    assert {c["field"] for c in entry.data["changes"]} >= {"name", "recipients", "frequency"}

    response = client.post(
        f"/cms/snippets/training/scheduledreport/edit/{created.pk}/",
        form | {"recipients": "hr-lead@example.gov.uk\nhr-two@example.gov.uk"},
    )
    assert response.status_code == 302
    edit = ModelLogEntry.objects.for_instance(created).get(action="wagtail.edit")
    (change,) = edit.data["changes"]
    assert change["field"] == "recipients"


def test_hr_sets_the_target(client, signed_in_with_mfa, site):
    signed_in_with_mfa("hr-admin@example.gov.uk", groups=["HR"])

    response = client.post(
        f"/cms/settings/training/packsettings/{site.pk}/",
        {"target_rate": "95", "amber_margin": "5"},
    )

    assert response.status_code == 302
    assert PackSettings.for_site(site).target_rate == 95
