"""Member Services sees the dashboard warning, sets its mailbox, and an overdue councillor's
escalation reaches it; the councillor's home page and My training lead with what is due, at
320 px (issue 18).

axe-core runs on the dashboard, the mailboxes page and the councillor's pages; the dashboard's
warning is kept as docs/screenshots/dashboard-warnings.png.
"""

import datetime as dt
import re
from pathlib import Path

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.journeys import WIDTH, check_fits, words_broken
from tests.browser.mfa import sign_in, sign_in_with_mfa

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
MEMBERS_EMAIL = "members@example.gov.uk"
COUNCILLOR_EMAIL = "councillor@example.gov.uk"
MODULE_SLUG = "councillors-and-organised-crime"
MAILBOX = "member.services@council.example.gov.uk"


@pytest.fixture
def overdue_councillor(live_site):
    """The demo councillor, 20 days overdue with their own module: past the first escalation
    point (14 days), not the second (28). The sweep runs every day, so any day will do."""
    from training.models import Assignment, ReminderSettings
    from training.reminders.planning import reminder_settings
    from training.services.assignments import assignments_sync

    assignments_sync()
    ReminderSettings.objects.update(send_days="*")
    assert reminder_settings().member_services_email == ""
    Assignment.objects.filter(user__email=COUNCILLOR_EMAIL, module__slug=MODULE_SLUG).update(
        due_on=timezone.localdate() - dt.timedelta(days=20)
    )


def test_member_services_sets_its_mailbox_and_a_councillors_escalation_reaches_it(
    live_site, overdue_councillor, browser, axe_check
):
    from training.models import ModulePage, SentMessage
    from training.reminders.sending import reminders_sweep

    base = live_site.url
    title = ModulePage.objects.get(slug=MODULE_SLUG).title
    # Before: the sweep tells nobody, and says so.
    assert [u.mailbox for u in reminders_sweep(dry_run=True).unrouted] == ["Member Services"]

    members = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in_with_mfa(members, base, MEMBERS_EMAIL, axe_check, "member-services")
    members.goto(f"{base}/cms/")
    warning = members.get_by_test_id("escalation-mailboxes-warning")
    expect(warning).to_contain_text(
        "The Member Services and Monitoring Officer mailboxes are blank"
    )
    axe_check(members, "dashboard-warnings")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    members.screenshot(path=str(SCREENSHOTS / "dashboard-warnings.png"))

    warning.get_by_role("link", name="Set the escalation mailboxes").click()
    expect(members.get_by_role("heading", level=1)).to_have_text("Escalation mailboxes")
    axe_check(members, "escalation-mailboxes")
    members.get_by_label("Member Services mailbox").fill("not an address")
    members.get_by_role("button", name="Save mailboxes").click()
    expect(members.get_by_text("Enter a valid email address.")).to_be_visible()
    axe_check(members, "escalation-mailboxes-error")
    members.get_by_label("Member Services mailbox").fill(MAILBOX)
    members.get_by_role("button", name="Save mailboxes").click()
    expect(members.get_by_text("Escalation mailboxes saved.")).to_be_visible()
    members.goto(f"{base}/cms/")
    expect(members.get_by_test_id("escalation-mailboxes-warning")).to_contain_text(
        "The Monitoring Officer mailbox is blank"
    )

    # The daily sweep, in this process: the escalation now goes to the mailbox, once.
    reminders_sweep(send_now=True)
    escalations = [m for m in mail.outbox if m.to == [MAILBOX]]
    assert len(escalations) == 1
    assert re.search(
        rf"Cllr Sam Whitfield: {re.escape(title)}, due .+, overdue by 20 days", escalations[0].body
    )
    assert SentMessage.objects.filter(recipient_email=MAILBOX, state="sent").count() == 1
    reminders_sweep(send_now=True)
    assert len([m for m in mail.outbox if m.to == [MAILBOX]]) == 1

    # The councillor, on a phone: the home page says what is due next; My training leads with it.
    councillor = browser.new_context(viewport={"width": WIDTH, "height": 720}).new_page()
    sign_in(councillor, base, COUNCILLOR_EMAIL)
    due_next = councillor.get_by_test_id("due-next")
    expect(due_next).to_contain_text(title)
    expect(due_next).to_contain_text("Overdue")
    check_fits(councillor, "councillor-home", axe_check)
    assert words_broken(councillor) == []

    due_next.get_by_role("link", name=title).click()
    expect(councillor.get_by_role("heading", level=1)).to_have_text(title)
    councillor.goto(f"{base}/my-training/")
    first = councillor.get_by_test_id("assignment").first
    expect(first).to_contain_text(title)
    expect(first).to_contain_text("Overdue")
    check_fits(councillor, "councillor-my-training", axe_check)
    assert words_broken(councillor) == []
