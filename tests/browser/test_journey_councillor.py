"""A councillor completes the councillor module; Member Services counts the figures again and sees
the councillors report change.

axe-core runs on the councillor's pages and on the councillors report (our template in Wagtail's
admin frame).
"""

import pytest
from playwright.sync_api import expect

from tests.browser.journeys import module_shorten, quiz_answer
from tests.browser.mfa import sign_in, sign_in_with_mfa

pytestmark = pytest.mark.browser
MODULE_SLUG = "councillors-and-organised-crime"
MEMBERS_EMAIL = "members@example.gov.uk"


@pytest.fixture
def councillor_module(live_site):
    from training.reports.snapshot import report_counts_refresh
    from training.services.assignments import assignments_sync

    module = module_shorten(slug=MODULE_SLUG, keep=1)
    assignments_sync()
    report_counts_refresh()  # as Celery beat does every 10 minutes
    return module


def module_row(page, title: str):
    """The module's row in the councillors report's by-module table: its cells' figures (a
    figure that is a link to its people says, to screen readers only, what it counts)."""
    table = page.get_by_role("table", name="Compliance by module")
    row = table.get_by_role("row").filter(has=page.get_by_role("rowheader", name=title, exact=True))
    return [text.split("\n")[0] for text in row.get_by_role("cell").all_inner_texts()]


def test_councillor_completes_their_module_and_member_services_sees_it(
    live_site, councillor_module, browser, axe_check
):
    base = live_site.url
    title = councillor_module.title
    members = browser.new_context().new_page()
    sign_in_with_mfa(members, base, MEMBERS_EMAIL, axe_check, "members")
    members.goto(f"{base}/cms/aware-reports/councillors/")
    # Assigned, compliant, in progress, not started, overdue, expired, exempt, rate.
    assert module_row(members, title) == ["1", "0", "0", "1", "0", "0", "0", "0.0%"]
    axe_check(members, "councillors-report-before")

    councillor = browser.new_context().new_page()
    sign_in(councillor, base, "councillor@example.gov.uk")
    councillor.get_by_role("link", name="My training").first.click()
    to_do = councillor.get_by_test_id("assignments").first
    expect(to_do.get_by_test_id("assignment").filter(has_text=title)).to_contain_text("Not started")
    axe_check(councillor, "councillor-my-training")

    to_do.get_by_role("link", name=title).click()
    councillor.get_by_test_id("start-or-continue").click()
    axe_check(councillor, "councillor-lesson")
    councillor.get_by_test_id("complete-lesson").click()
    councillor.get_by_role("link", name="Start the assessment").click()
    councillor.get_by_role("button", name="Start the assessment").click()
    quiz_answer(councillor, right=True)
    councillor.get_by_test_id("submit-answers").click()
    expect(councillor.get_by_test_id("result-panel")).to_contain_text("You passed")
    axe_check(councillor, "councillor-quiz-result")

    # The page shows the figures as last counted (the completion queued a count for a minute
    # later, and no worker runs here), until Member Services asks for a count now.
    members.reload()
    expect(members.get_by_test_id("counted-at")).to_contain_text("Figures as counted at")
    assert module_row(members, title) == ["1", "0", "0", "1", "0", "0", "0", "0.0%"]
    members.get_by_role("button", name="Count again now").click()
    expect(members.locator(".messages")).to_contain_text("The figures have been counted again")
    assert module_row(members, title) == ["1", "1", "0", "0", "0", "0", "0", "100.0%"]
    # Wagtail's message slides in: check contrast once it has stopped moving.
    members.wait_for_function("document.getAnimations().every(a => a.playState !== 'running')")
    axe_check(members, "councillors-report-after")
