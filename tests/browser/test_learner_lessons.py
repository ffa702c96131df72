"""A new learner works through lessons in Chromium, signs out, and resumes where they left off."""

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
MODULE_URL = "/training/county-lines-exploitation-and-cuckooing/"
THIRD_LESSON = "Signs in young people and adults at risk"


@pytest.fixture
def new_learner(live_site):
    from allauth.account.models import EmailAddress

    from accounts.models import User

    user = User.objects.create_user(
        email="new.starter@example.gov.uk", password="a-long-password-1", full_name="Robin Ellis"
    )
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def sign_in(page, base_url):
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Email").fill("new.starter@example.gov.uk")
    page.get_by_label("Password").fill("a-long-password-1")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/")


def assert_fits(page, name):
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= page.viewport_size["width"], f"{name} scrolls sideways"


def capture(page, name, axe_check):
    """axe at desktop and 320 px, no sideways scrolling at 320 px, screenshots for the README."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    axe_check(page, f"{name}-desktop")
    page.screenshot(path=str(SCREENSHOTS / f"{name}-desktop.png"), full_page=True)
    page.set_viewport_size({"width": 320, "height": 720})
    assert_fits(page, name)
    axe_check(page, f"{name}-320")
    page.screenshot(path=str(SCREENSHOTS / f"{name}-320.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_learner_finishes_two_lessons_signs_out_and_continues_at_the_third(
    live_site, new_learner, page, axe_check
):
    base = live_site.url
    sign_in(page, base)

    page.get_by_role("link", name="All modules").click()
    assert page.get_by_test_id("module-card").count() == 17
    capture(page, "catalogue", axe_check)

    page.get_by_role("link", name="County lines, child criminal exploitation and cuckooing").click()
    assert "0 of 7 lessons done" in page.get_by_test_id("module-progress").inner_text()
    page.get_by_test_id("start-or-continue").click()
    assert page.get_by_role("heading", level=1).inner_text() == "How county lines work"
    capture(page, "lesson", axe_check)

    page.get_by_test_id("complete-lesson").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Child criminal exploitation"
    assert "is complete" in page.locator(".govuk-notification-banner").inner_text()
    page.get_by_test_id("complete-lesson").click()
    assert page.get_by_role("heading", level=1).inner_text() == THIRD_LESSON

    page.goto(f"{base}/accounts/logout/")
    page.get_by_role("button", name="Sign out").click()
    # Signing out ends on the home page; going on before it does would abort that navigation.
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}{MODULE_URL}")
    assert "/accounts/login/" in page.url

    sign_in(page, base)
    page.goto(f"{base}{MODULE_URL}")
    assert "2 of 7 lessons done" in page.get_by_test_id("module-progress").inner_text()
    capture(page, "module", axe_check)
    continue_button = page.get_by_test_id("start-or-continue")
    assert "Continue" in continue_button.inner_text()
    continue_button.click()
    assert page.get_by_role("heading", level=1).inner_text() == THIRD_LESSON


def test_report_a_concern_is_public_and_accessible(live_site, page, axe_check):
    page.goto(f"{live_site.url}/")
    page.get_by_role("link", name="Report a concern").first.click()
    assert page.get_by_role("heading", level=1).inner_text() == "Report a concern"
    assert page.get_by_text("08000 121 700").is_visible()
    capture(page, "report-a-concern", axe_check)
