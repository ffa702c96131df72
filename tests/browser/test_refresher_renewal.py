"""A renewer in Chromium: the module page's renewal banner and the refresher lesson, at desktop
width and 320 px, pass axe-core; reading the refresher leaves only the fresh assessment."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from tests.browser.journeys import check_fits

pytestmark = pytest.mark.browser
MODULE_URL = "/training/county-lines-exploitation-and-cuckooing/"


@pytest.fixture
def renewer(live_site):
    """An officer whose completion of the county lines module expired a month ago."""
    from allauth.account.models import EmailAddress
    from django.utils import timezone

    from accounts.models import User
    from training.models import ModulePage
    from training.services.completion import completion_record_create

    user = User.objects.create_user(
        email="renewer@example.gov.uk", password="a-long-password-1", full_name="Sam Okafor"
    )
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    now = timezone.now()
    completion_record_create(
        user=user,
        module=ModulePage.objects.get(slug="county-lines-exploitation-and-cuckooing"),
        module_version=1,
        score=90,
        completed_at=now - dt.timedelta(days=400),
        expires_at=now - dt.timedelta(days=35),
    )
    return user


def test_a_renewer_reads_the_refresher_then_takes_a_fresh_assessment(
    live_site, renewer, page, axe_check
):
    from quizzes.models import AttemptQuestion
    from training.models import LessonPage, ModulePage

    module = ModulePage.objects.get(slug="county-lines-exploitation-and-cuckooing")
    total = LessonPage.objects.child_of(module).live().count()
    base = live_site.url
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill("renewer@example.gov.uk")
    page.get_by_label("Password").fill("a-long-password-1")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")

    page.goto(f"{base}{MODULE_URL}")
    banner = page.get_by_test_id("refresher")
    expect(banner).to_contain_text("To renew it you do not take the whole module again")
    expect(page.get_by_test_id("lesson-refresher")).to_have_count(1)
    # The lessons taken before count as done; only the refresher is left.
    expect(page.get_by_test_id("module-progress")).to_contain_text(
        f"{total - 1} of {total} lessons done"
    )
    axe_check(page, "refresher-module-desktop")
    page.set_viewport_size({"width": 320, "height": 720})
    check_fits(page, "refresher-module", axe_check)

    page.get_by_test_id("start-or-continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Refresher: what is new and what matters (2026)"
    )
    check_fits(page, "refresher-lesson", axe_check)
    page.get_by_test_id("complete-lesson").click()

    page.goto(f"{base}{MODULE_URL}")
    expect(page.get_by_test_id("module-progress")).to_contain_text(
        f"{total} of {total} lessons done"
    )
    expect(page.get_by_text("A fresh set for your renewal: 10 questions")).to_be_visible()
    page.get_by_role("link", name=re.compile("the assessment$")).click()
    page.locator("button.govuk-button--start").click()
    page.wait_for_url(re.compile(r"/quizzes/attempts?/"))
    check_fits(page, "refresher-attempt", axe_check)
    assert AttemptQuestion.objects.filter(attempt__user=renewer).count() == 10
