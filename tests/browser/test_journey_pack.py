"""HR schedules the audit-committee pack for a colleague; the scheduled run emails them a link;
they sign in from it (two-factor) and get the PDF (issue 18)."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from tests.browser.mfa import DEMO_PASSWORD, sign_in_with_mfa
from tests.conftest import totp_activate, totp_code

pytestmark = pytest.mark.browser
HR_EMAIL = "hr@example.gov.uk"
CLERK_EMAIL = "committee-clerk@example.gov.uk"


@pytest.fixture
def clerk(live_site):
    """The HR colleague who takes the pack to the audit committee, with an authenticator app."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth.models import Group

    from accounts.models import User

    user = User.objects.create_user(
        email=CLERK_EMAIL, password=DEMO_PASSWORD, full_name="Casey Clerk"
    )
    EmailAddress.objects.create(user=user, email=CLERK_EMAIL, verified=True, primary=True)
    user.groups.add(Group.objects.get(name="HR"))
    return totp_activate(user)


def test_hr_schedules_the_pack_and_the_recipient_opens_the_pdf_from_the_email(
    live_site, clerk, page, axe_check
):
    from training.models import ScheduledReport
    from training.tasks import scheduled_reports_send_task

    base = live_site.url
    sign_in_with_mfa(page, base, HR_EMAIL, axe_check, "pack-hr")

    page.goto(f"{base}/cms/snippets/training/scheduledreport/")
    axe_check(page, "pack-scheduled-reports-empty")
    page.goto(f"{base}/cms/snippets/training/scheduledreport/add/")
    axe_check(page, "pack-scheduled-report-add")
    page.locator("#id_name").fill("Audit committee pack")
    page.locator("#id_report").select_option("pack")
    page.locator("#id_frequency").select_option("monthly")
    # Someone without an account is refused with a clear message, and nothing is saved.
    page.locator("#id_recipients").fill("someone@elsewhere.example")
    page.get_by_role("button", name="Save").first.click()
    expect(page.get_by_text("No one with an account here has this address")).to_be_visible()
    page.wait_for_timeout(1000)  # Wagtail's error banner fades in: check it as it settles
    axe_check(page, "pack-scheduled-report-refused")
    assert not ScheduledReport.objects.exists()
    page.locator("#id_recipients").fill(CLERK_EMAIL)
    page.get_by_role("button", name="Save").first.click()
    page.wait_for_url(f"{base}/cms/snippets/training/scheduledreport/")
    expect(page.get_by_role("link", name="Audit committee pack")).to_be_visible()
    page.wait_for_timeout(1000)  # the "created" banner fades in too
    axe_check(page, "pack-scheduled-reports")

    # Beat's daily run: one email, to the clerk, with links and no attachment.
    mail.outbox = []
    assert scheduled_reports_send_task() == 1
    (email,) = mail.outbox
    assert email.to == [CLERK_EMAIL]
    assert email.attachments == []
    link = re.search(r"https?://\S+/pdf/", email.body).group(0)
    path = link[link.index("/cms/") :]

    # The clerk follows the link in a fresh browser: sign in (two factors), then the download.
    page.context.clear_cookies()
    page.goto(base + path)
    page.wait_for_url(re.compile(r".*/accounts/login/.*"))
    page.get_by_label("Email").fill(CLERK_EMAIL)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/accounts/2fa/authenticate/.*"))
    page.get_by_label("Code").fill(totp_code(clerk))
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Sign in").click()
    pdf = open(download_info.value.path(), "rb").read()  # noqa: SIM115
    assert pdf.startswith(b"%PDF")
    response = page.request.get(base + path)
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert len(response.body()) > 1000
