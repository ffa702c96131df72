"""A line manager opens My team from the header, gives a report more time (and sees the new
date), and sends a report a reminder: the email arrives once, however often the button is
pressed. axe-core runs on My team and on each action's page, at desktop and at 320 px."""

import datetime as dt
from pathlib import Path

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.mfa import sign_in

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
MANAGER, OFFICER = "manager@example.gov.uk", "officer@example.gov.uk"


@pytest.fixture
def team(live_site):
    """Jordan Reid manages Alex Morgan (the demo people), who now manages Chris Lee: Alex is
    overdue on one module; everyone else's training is as assigned."""
    from allauth.account.models import EmailAddress

    from accounts.models import User
    from training.models import Assignment
    from training.services.assignments import assignments_sync

    alex = User.objects.get(email=OFFICER)
    chris = User.objects.create_user(
        email="chris.lee@example.gov.uk",
        password="a-long-password-1",
        full_name="Chris Lee",
        line_manager=alex,
        department=alex.department,
    )
    EmailAddress.objects.create(user=chris, email=chris.email, verified=True, primary=True)
    assignments_sync()
    late = (
        Assignment.objects.open()
        .filter(user=alex, mandatory=True)
        .select_related("module")
        .order_by("module__title")
        .first()
    )
    late.due_on = timezone.localdate() - dt.timedelta(days=9)
    late.save()
    return late


def fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], "My team scrolls sideways"


def test_a_manager_gives_more_time_and_nudges_once(live_site, team, page, axe_check):
    base = live_site.url
    title = team.module.title
    sign_in(page, base, MANAGER)
    page.get_by_role("link", name="My team").first.click()
    expect(page.get_by_role("heading", name="My team", level=1)).to_be_visible()

    # Most urgent first: Alex's overdue module; Chris, two levels down, is there too.
    first = page.get_by_test_id("team-row").first
    expect(first).to_contain_text(f"Alex Morgan: {title}")
    expect(first).to_contain_text("Overdue")
    expect(page.get_by_text("Chris Lee:").first).to_be_visible()
    page.set_viewport_size({"width": 1280, "height": 1500})  # the totals and the first cards
    axe_check(page, "my-team-desktop")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "my-team.png"))
    page.set_viewport_size({"width": 320, "height": 720})
    fits(page)
    axe_check(page, "my-team-320")
    page.set_viewport_size({"width": 1280, "height": 900})

    # More time: 14 days from today, as the due date has passed.
    first.get_by_role("link", name=f"Give more time to Alex Morgan for {title}").click()
    axe_check(page, "my-team-extend")
    page.get_by_role("button", name="Change the due date").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter how many more days")
    axe_check(page, "my-team-extend-errors")
    page.get_by_label("How many more days do they need?").fill("14")
    page.get_by_label("Why do they need more time?").fill("Back from two weeks' leave")
    page.get_by_role("button", name="Change the due date").click()
    new_date = timezone.localdate() + dt.timedelta(days=14)
    shown = f"{new_date.day} {new_date:%B %Y}"
    expect(page.locator(".govuk-notification-banner")).to_contain_text(f"now has until {shown}")
    row = page.get_by_test_id("team-row").filter(has_text=f"Alex Morgan: {title}")
    expect(row.get_by_test_id("due")).to_have_text(shown)
    team.refresh_from_db()
    assert team.due_on == new_date

    # A reminder: sent once; pressing again is refused with a clear message.
    row.get_by_role("link", name=f"Send a reminder to Alex Morgan about {title}").click()
    axe_check(page, "my-team-nudge")
    page.get_by_role("button", name="Send the reminder").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Reminder sent to Alex Morgan"
    )
    page.go_back()
    page.get_by_role("button", name="Send the reminder").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "already been sent a reminder"
    )
    assert [m.to for m in mail.outbox] == [[OFFICER]]
    assert "Jordan Reid has asked us to remind you" in mail.outbox[0].body


def test_the_header_has_no_my_team_link_for_someone_without_reports(live_site, page):
    sign_in(page, live_site.url, "councillor@example.gov.uk")

    expect(page.get_by_role("link", name="My training").first).to_be_visible()
    expect(page.get_by_role("link", name="My team")).to_have_count(0)
