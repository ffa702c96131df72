"""HR at scale (issue 18): HR searches Assignments for a person and exempts them with a reason;
the compliance overview fits a 1280 px screen and its figures lead to the people behind them."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.mfa import sign_in_with_mfa
from tests.browser.test_journey_hr import HR_EMAIL

pytestmark = pytest.mark.browser
MODULE = "Organised crime and your council"


def test_hr_searches_assignments_for_a_person_and_exempts_them(
    live_site, assigned, page, axe_check
):
    from training.models import Assignment

    base = live_site.url
    sign_in_with_mfa(page, base, HR_EMAIL, axe_check, "hr")

    page.goto(f"{base}/cms/snippets/training/assignment/")
    page.get_by_role("textbox", name="Search term").fill("Alex Morgan")
    # The listing refreshes as HR types: only Alex Morgan's assignments are left.
    rows = page.locator("#listing-results table.listing tbody tr")
    expect(rows.filter(has_not_text="Alex Morgan")).to_have_count(0)
    row = rows.filter(has_text=MODULE)
    expect(row).to_have_count(1)
    expect(page.locator("tbody tr", has_text="Alex Morgan").first).to_be_visible()
    axe_check(page, "hr-assignments-search")

    # The row's bulk-action tick box opens this page for the ticked rows. Driven here by its
    # URL: in Playwright, the listing's search box swapped the results in again after the
    # tick (its change event), unticking the row before the footer's button could be clicked.
    ticked = Assignment.objects.get(
        user__email="officer@example.gov.uk", module__title=MODULE, closed_at=None
    )
    page.goto(
        f"{base}/cms/bulk/training/assignment/exempt/?id={ticked.pk}"
        "&next=/cms/snippets/training/assignment/%3Fq%3DAlex%2BMorgan"
    )
    page.wait_for_url("**/bulk/training/assignment/exempt/**")
    expect(page.get_by_text(f"Alex Morgan (officer@example.gov.uk): {MODULE}")).to_be_visible()
    axe_check(page, "hr-assignments-exempt")
    page.get_by_label("Reason for the exemption").fill("Seconded to the police until March")
    page.get_by_role("button", name="Exempt them").click()

    page.wait_for_url("**/snippets/training/assignment/**")
    expect(page.get_by_text("1 assignment exempted.")).to_be_visible()
    row = page.locator("#listing-results table.listing tbody tr", has_text=MODULE).filter(
        has_text="Alex Morgan"
    )
    expect(row).to_contain_text("Exempt")
    assignment = Assignment.objects.get(
        user__email="officer@example.gov.uk", module__title=MODULE, closed_at=None
    )
    assert assignment.exempt_reason == "Seconded to the police until March"

    row.get_by_role("link", name="Alex Morgan").click()
    expect(page).to_have_title(re.compile(f"Alex Morgan.*{MODULE}"))
    expect(page.get_by_test_id("assignment-summary")).to_contain_text("officer@example.gov.uk")


def test_the_overview_fits_1280_px_and_a_figure_opens_its_people(
    live_site, assigned, page, axe_check
):
    base = live_site.url
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in_with_mfa(page, base, HR_EMAIL, axe_check, "hr")

    page.goto(f"{base}/cms/aware-reports/compliance/")
    expect(page.locator(".w-breadcrumbs")).to_contain_text("Compliance overview")
    # Each table ends inside the window, or scrolls inside a box that does.
    cut_off = page.evaluate(
        """[...document.querySelectorAll('table.listing')].filter(table => {
            const box = table.closest('.aware-table-scroll');
            const scrolls = box && getComputedStyle(box).overflowX === 'auto';
            const right = (scrolls ? box : table).getBoundingClientRect().right;
            return right > window.innerWidth;
        }).map(table => table.querySelector('caption').textContent)"""
    )
    assert cut_off == [], f"tables running off the right at 1280 px: {cut_off}"
    # Every chart label is inside the chart (none runs off its left edge).
    left = page.evaluate(
        "Math.min(...[...document.querySelectorAll('figure svg text')].map("
        "t => t.getBoundingClientRect().left - t.ownerSVGElement.getBoundingClientRect().left))"
    )
    assert left >= 0

    not_started = page.locator("#by-module-heading ~ div a[href*='category=not_started']").first
    expected = int(re.match(r"\d+", not_started.inner_text()).group())
    not_started.click()
    page.wait_for_url("**/aware-reports/figure/?*")
    expect(page.get_by_test_id("figure-described")).to_contain_text("Not started")
    rows = page.locator("tbody tr th[scope=row] a")
    assert rows.count() == min(expected, 50)
    axe_check(page, "hr-figure-people")
