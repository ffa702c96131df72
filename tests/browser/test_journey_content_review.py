"""An editor opens the admin dashboard and sees what is due for review: a module past its
review-by date and the council's reporting routes nobody has verified yet; one link opens the
module to edit. (Wagtail's admin is Wagtail's: axe-core runs on our sign-in pages only.)"""

import datetime as dt
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.mfa import sign_in_with_mfa

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
EDITOR = "editor@example.gov.uk"
MODULE_SLUG = "county-lines-exploitation-and-cuckooing"


def test_an_editor_sees_content_to_review_on_the_dashboard(live_site, page, axe_check):
    from training.models import ModulePage

    module = ModulePage.objects.get(slug=MODULE_SLUG)
    ModulePage.objects.filter(pk=module.pk).update(review_by=dt.date(2026, 1, 31))
    base = live_site.url
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in_with_mfa(page, base, EDITOR, axe_check, "content-review")

    page.goto(f"{base}/cms/")

    panel = page.locator("section").filter(
        has=page.get_by_role("heading", name="Content to review")
    )
    expect(panel.get_by_role("heading", name="Modules past their review-by date")).to_be_visible()
    expect(panel.get_by_text("never verified").first).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "dashboard-content-review.png"), full_page=True)
    panel.get_by_role("link", name=module.title).click()
    expect(page).to_have_url(f"{base}/cms/pages/{module.pk}/edit/")
