"""The demo learner signs in with real Chromium and sees their name; pages pass axe-core."""

import pytest

pytestmark = pytest.mark.browser


def test_demo_learner_signs_in_and_sees_their_name(live_site, page, axe_check):
    page.goto(f"{live_site.url}/")
    axe_check(page, "home-signed-out")

    page.get_by_role("link", name="Sign in", exact=True).first.click()
    axe_check(page, "sign-in")
    page.get_by_label("Email").fill("officer@example.gov.uk")
    page.get_by_label("Password").fill("aware-demo-2026")
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url(f"{live_site.url}/")
    assert "Alex Morgan" in page.get_by_test_id("welcome").inner_text()
    axe_check(page, "home-signed-in")


def test_wrong_password_shows_a_govuk_error_summary(live_site, page, axe_check):
    page.goto(f"{live_site.url}/accounts/login/")
    page.get_by_label("Email").fill("officer@example.gov.uk")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()

    summary = page.locator(".govuk-error-summary")
    assert summary.get_by_text("There is a problem").is_visible()
    assert page.title().startswith("Error:")
    axe_check(page, "sign-in-error")
