"""The learner's pages at 320 px wide: nothing scrolls sideways, nothing is cut off, axe passes."""

import pytest
from playwright.sync_api import expect

from tests.browser.journeys import WIDTH, check_fits

pytestmark = pytest.mark.browser
EMAIL = "small.screen@example.gov.uk"
PASSWORD = "a-long-password-3"
MODULE_SLUG = "county-lines-exploitation-and-cuckooing"


@pytest.fixture
def learner(live_site):
    from allauth.account.models import EmailAddress

    from accounts.models import User
    from quizzes.models import Quiz

    user = User.objects.create_user(email=EMAIL, password=PASSWORD, full_name="Jo Small")
    EmailAddress.objects.create(user=user, email=EMAIL, verified=True, primary=True)
    # The quiz pages are what is measured here, not the path to them: no lessons needed first.
    Quiz.objects.filter(module__slug=MODULE_SLUG).update(lessons_first=False, questions_to_draw=4)
    return user


def test_learner_pages_fit_a_320_pixel_screen(live_site, learner, browser, axe_check):
    base = live_site.url
    context = browser.new_context(viewport={"width": WIDTH, "height": 720})
    page = context.new_page()

    page.goto(f"{base}/accounts/login/")
    check_fits(page, "sign-in", axe_check)
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")
    check_fits(page, "home-signed-in", axe_check)

    page.goto(f"{base}/my-training/")
    expect(page.get_by_role("heading", level=1)).to_have_text("My training")
    check_fits(page, "my-training", axe_check)

    page.goto(f"{base}/training/")
    expect(page.get_by_test_id("module-card").first).to_be_visible()
    check_fits(page, "catalogue", axe_check)

    page.goto(f"{base}/training/{MODULE_SLUG}/")
    check_fits(page, "module", axe_check)
    page.get_by_test_id("start-or-continue").click()
    expect(page.get_by_test_id("complete-lesson")).to_be_visible()
    check_fits(page, "lesson", axe_check)

    page.goto(f"{base}/training/{MODULE_SLUG}/")
    page.get_by_role("link", name="Start the assessment").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Assessment")
    check_fits(page, "quiz-start", axe_check)
    page.get_by_role("button", name="Start the assessment").click()
    fieldsets = page.locator("form[data-testid=attempt-form] fieldset")
    expect(fieldsets).to_have_count(4)
    check_fits(page, "quiz-attempt", axe_check)
    for fieldset in fieldsets.all():
        fieldset.locator("input").first.check()
    page.get_by_test_id("submit-answers").click()
    expect(page.get_by_test_id("result-score")).to_be_visible()
    check_fits(page, "quiz-result", axe_check)

    page.goto(f"{base}/")
    page.get_by_role("link", name="Report a concern").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Report a concern")
    check_fits(page, "report-a-concern", axe_check)
    context.close()


def test_a_resident_reads_the_public_module_at_320_pixels_without_signing_in(
    live_site, browser, axe_check
):
    base = live_site.url
    context = browser.new_context(viewport={"width": WIDTH, "height": 720})
    page = context.new_page()

    page.goto(f"{base}/")
    check_fits(page, "home-signed-out", axe_check)
    page.get_by_test_id("public-modules").get_by_role("link", name="Spot it, report it").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Spot it, report it")
    expect(page.get_by_test_id("public-module-note")).to_be_visible()
    check_fits(page, "public-module", axe_check)

    page.get_by_test_id("start-or-continue").click()
    lessons = 1
    while True:
        expect(page.get_by_test_id("complete-lesson")).to_have_count(0)
        check_fits(page, f"public-lesson-{lessons}", axe_check)
        following = page.get_by_role("link", name="Next lesson")
        if following.count() == 0:
            break
        following.click()
        lessons += 1
    assert lessons == 4
    # The self-check at the end: open a choice and read its feedback; nothing is sent.
    page.locator(".aware-scenario details summary").last.click()
    expect(page.locator(".aware-scenario details[open]")).to_have_count(1)
    expect(page.get_by_role("heading", name="Where to report it", level=2)).to_be_visible()

    page.goto(f"{base}/training/{MODULE_SLUG}/")
    page.wait_for_url(f"{base}/accounts/login/?next=/training/{MODULE_SLUG}/")
    context.close()
