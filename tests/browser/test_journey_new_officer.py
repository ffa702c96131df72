"""A new officer imported by HR sets a password, learns, fails, retakes, passes and is certified."""

import re
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from tests.browser.journeys import hr_imports_an_officer, module_shorten, quiz_answer

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
MODULE_SLUG = "organised-crime-and-your-council"
LESSONS_KEPT = 2
EMAIL = "sam.okafor@example.gov.uk"
PASSWORD = "a-brand-new-password-7"


@pytest.fixture
def celery_eager():
    """Queued tasks (the invitation, the assignment sync) run at once, as a worker would."""
    from config.celery_app import app

    app.conf.task_always_eager, was_eager = True, app.conf.task_always_eager
    yield
    app.conf.task_always_eager = was_eager


@pytest.fixture
def short_module(live_site):
    """The first mandatory module cut to two lessons, with a quiz that can be retaken at once."""
    return module_shorten(slug=MODULE_SLUG, keep=LESSONS_KEPT)


def test_imported_officer_is_invited_fails_retakes_passes_and_is_certified(
    live_site, short_module, celery_eager, mailoutbox, tmp_path, page, axe_check
):
    base = live_site.url
    hr_imports_an_officer(
        tmp_path,
        employee_number="E9001",
        email=EMAIL,
        full_name="Sam Okafor",
        start_date="2026-11-02",
    )

    invitation = next(m for m in mailoutbox if EMAIL in m.to)
    link = re.search(r"https?://\S+/accounts/password/reset/key/\S+/", invitation.body).group(0)
    page.goto(base + urlparse(link).path)
    axe_check(page, "set-password")
    page.locator("input[name=password1]").fill(PASSWORD)
    page.locator("input[name=password2]").fill(PASSWORD)
    page.get_by_role("button", name="Change Password").click()
    expect(page.get_by_text("Your password is now changed.")).to_be_visible()
    axe_check(page, "set-password-done")

    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")
    expect(page.get_by_test_id("welcome")).to_contain_text("Sam Okafor")

    page.get_by_role("link", name="My training").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My training")
    to_do = page.get_by_test_id("assignments").first
    expect(to_do).to_contain_text(short_module.title)
    axe_check(page, "my-training-to-do")

    to_do.get_by_role("link", name=short_module.title).click()
    expect(page.get_by_test_id("module-progress")).to_contain_text(f"0 of {LESSONS_KEPT}")
    axe_check(page, "new-officer-module")
    page.get_by_test_id("start-or-continue").click()
    for n in range(LESSONS_KEPT):
        axe_check(page, f"new-officer-lesson-{n + 1}")
        page.get_by_test_id("complete-lesson").click()
    expect(page.get_by_test_id("module-progress")).to_contain_text(
        f"{LESSONS_KEPT} of {LESSONS_KEPT}"
    )

    page.get_by_role("link", name="Start the assessment").click()
    axe_check(page, "quiz-start")
    page.get_by_role("button", name="Start the assessment").click()
    axe_check(page, "quiz-attempt")
    quiz_answer(page, right=False)
    page.get_by_test_id("submit-answers").click()
    expect(page.get_by_test_id("result-panel")).to_have_text("You did not pass this time")
    expect(page.get_by_test_id("result-score")).to_contain_text("You scored 0%")
    axe_check(page, "quiz-result-failed")

    page.get_by_role("link", name="Try the assessment again").click()
    expect(page.get_by_test_id("quiz-state")).to_contain_text("which is not a pass")
    page.get_by_role("button", name="Retake the assessment").click()
    quiz_answer(page, right=True)
    page.get_by_test_id("submit-answers").click()
    expect(page.get_by_test_id("result-panel")).to_contain_text("You passed")
    expect(page.get_by_test_id("result-score")).to_contain_text("You scored 100%")
    axe_check(page, "quiz-result-passed")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "quiz-result-desktop.png"), full_page=True)

    page.get_by_role("link", name="My training").first.click()
    certificate = page.get_by_test_id("certificate-link")
    expect(certificate).to_have_count(1)
    axe_check(page, "my-training-certified")
    page.screenshot(path=str(SCREENSHOTS / "my-training-desktop.png"), full_page=True)
    with page.expect_download() as download_info:
        certificate.click()
    pdf = Path(download_info.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")

    code = re.search(r"Code (\w+)", page.get_by_text(re.compile(r"^Code ")).inner_text()).group(1)
    page.goto(f"{base}/verify/{code}/")
    expect(page.get_by_test_id("certificate-status")).to_contain_text("Valid")
    expect(page.locator(".govuk-summary-list")).to_contain_text("Sam Okafor")
    axe_check(page, "certificate-verify")
