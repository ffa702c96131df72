"""An editor writes a lesson in Wagtail and submits it; the approver approves; the learner reads it.

Wagtail's admin is Wagtail's, not ours, so axe-core runs only on our pages here (sign-in, the
two-factor page and the learner's lesson), never on the admin pages under /cms/.
"""

import pytest
from playwright.sync_api import expect

from tests.browser.mfa import sign_in, sign_in_with_mfa, totp_activate

pytestmark = pytest.mark.browser
MODULE_SLUG = "county-lines-exploitation-and-cuckooing"
TITLE = "Spotting a cuckooed flat"


def test_editor_writes_a_lesson_the_approver_publishes_it_and_the_learner_reads_it(
    live_site, browser, axe_check
):
    from training.models import LessonPage, ModulePage

    base = live_site.url
    module = ModulePage.objects.get(slug=MODULE_SLUG)
    editor_secret = totp_activate("editor@example.gov.uk")
    approver_secret = totp_activate("approver@example.gov.uk")

    editor = browser.new_context().new_page()
    sign_in_with_mfa(editor, base, "editor@example.gov.uk", editor_secret, axe_check, "editor")
    editor.get_by_role("link", name="Admin").click()
    editor.goto(f"{base}/cms/pages/{module.pk}/")
    editor.get_by_role("link", name="Add child page").first.click()
    editor.locator("#id_title").fill(TITLE)
    editor.locator("#id_summary").fill("What a cuckooed flat looks like from the doorstep.")

    body = editor.locator("[data-contentpath=body]")
    body.get_by_role("button", name="Insert a block").first.click()
    editor.get_by_role("option", name="Rich text").click()
    rich_text = body.locator("[role=textbox][contenteditable=true]").first
    rich_text.click()
    rich_text.type("Many callers at all hours and a tenant who seems afraid.")

    body.get_by_role("button", name="Insert a block").last.click()
    editor.get_by_role("option", name="Statistic").click()
    body.locator("input[name$='-value-value']").fill("1 in 5")
    body.locator("input[name$='-value-description']").fill("tenancies checked that showed signs")
    body.locator("input[name$='-value-source']").fill("Example Council audit")
    body.locator("input[name$='-value-year']").fill("2025")

    body.get_by_role("button", name="Insert a block").last.click()
    editor.get_by_role("option", name="Quote").click()
    body.locator("textarea[name$='-value-text']").fill("If it feels wrong, it probably is.")
    body.locator("input[name$='-value-attribution']").fill("A housing officer")

    editor.get_by_role("button", name="More actions").click()
    editor.get_by_role("button", name="Submit to").click()
    expect(editor.locator(".messages")).to_contain_text("submitted")
    lesson = LessonPage.objects.get(title=TITLE)
    assert not lesson.live

    approver = browser.new_context().new_page()
    sign_in_with_mfa(
        approver, base, "approver@example.gov.uk", approver_secret, axe_check, "approver"
    )
    approver.goto(f"{base}/cms/pages/{lesson.pk}/edit/")
    approver.get_by_role("button", name="More actions").click()
    approver.get_by_role("button", name="Approve and Publish", exact=True).click()
    expect(approver.locator(".messages")).to_contain_text("has been updated")
    lesson.refresh_from_db()
    assert lesson.live

    learner = browser.new_context().new_page()
    sign_in(learner, base, "officer@example.gov.uk")
    learner.goto(f"{base}/training/{MODULE_SLUG}/")
    learner.get_by_role("link", name=TITLE).click()
    expect(learner.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(learner.get_by_text("a tenant who seems afraid")).to_be_visible()
    expect(learner.get_by_text("1 in 5")).to_be_visible()
    expect(learner.get_by_text("If it feels wrong, it probably is.")).to_be_visible()
    axe_check(learner, "editor-new-lesson")
