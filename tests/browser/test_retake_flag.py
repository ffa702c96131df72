"""The "learners must retake" tick survives Wagtail's autosave and whichever revision is published.

An editor ticks the flag and submits the module to the "Author → approver" workflow; autosave and
another save from an editing session opened before the tick then write later revisions with the
flag off; the approver approves and publishes the latest revision. The module must still become
version 2, with its ModuleVersion row.
"""

import pytest
from playwright.sync_api import expect

from tests.browser.mfa import sign_in_with_mfa

pytestmark = pytest.mark.browser
MODULE_SLUG = "county-lines-exploitation-and-cuckooing"
CHANGE_NOTE = "New guidance on cuckooing from the 2026 protocol."


def latest_revision(module):
    module.refresh_from_db()
    return module.get_latest_revision()


def test_the_retake_flag_survives_autosave_and_a_later_revision(
    live_site, browser, axe_check, settings
):
    from training.models import ModulePage, ModuleVersion

    settings.WAGTAIL_AUTOSAVE_INTERVAL = 300
    base = live_site.url
    module = ModulePage.objects.get(slug=MODULE_SLUG)
    assert module.version == 1
    edit_url = f"{base}/cms/pages/{module.pk}/edit/"

    # The approver has the module open from earlier, before the tick.
    approver = browser.new_context().new_page()
    sign_in_with_mfa(approver, base, "approver@example.gov.uk", axe_check, "retake-approver")
    approver.goto(edit_url)
    expect(approver.locator("#id_learners_must_retake")).not_to_be_checked()

    editor = browser.new_context().new_page()
    sign_in_with_mfa(editor, base, "editor@example.gov.uk", axe_check, "retake-editor")
    editor.goto(edit_url)
    editor.locator("#id_change_note").fill(CHANGE_NOTE)
    editor.locator("#id_learners_must_retake").check()
    editor.wait_for_timeout(1000)  # autosave has the tick
    editor.get_by_role("button", name="More actions").click()
    editor.get_by_role("button", name="Submit to").click()
    expect(editor.locator(".messages")).to_contain_text("submitted")
    submitted = latest_revision(module)
    assert submitted.content["learners_must_retake"] is True

    # Right after the submit, the approver's open tab autosaves a fix: autosave pauses on the
    # newer revision, the approver saves anyway, and that later revision (the tick off) is the
    # one the workflow publishes.
    approver.locator("#id_summary").fill("What cuckooing is and how to spot it early.")
    approver.wait_for_timeout(1500)
    expect(approver.get_by_text("Autosave is paused").first).to_be_visible()
    approver.get_by_role("button", name="Save draft").first.click()
    # Wagtail warns that the editor saved a newer version; the approver goes ahead.
    warning = approver.get_by_role("dialog")
    expect(warning).to_contain_text("saved a new version")
    warning.get_by_role("button", name="Save draft").click()
    expect(approver.locator(".messages")).to_contain_text("has been updated")
    latest = latest_revision(module)
    assert latest.pk != submitted.pk
    assert latest.content["learners_must_retake"] is False

    approver.goto(edit_url)
    expect(approver.locator("#id_learners_must_retake")).not_to_be_checked()
    expect(approver.get_by_test_id("retake-request")).to_contain_text(
        "Learners must retake: requested"
    )
    expect(approver.get_by_test_id("version-status")).to_contain_text("will be asked to update")
    approver.get_by_role("button", name="More actions").click()
    approver.get_by_role("button", name="Approve and Publish", exact=True).click()
    expect(approver.locator(".messages")).to_contain_text("has been updated")

    module.refresh_from_db()
    assert module.version == 2
    version = ModuleVersion.objects.get(module=module, number=2)
    assert version.change_note == CHANGE_NOTE
    assert not module.learners_must_retake
