"""An editor writes a lesson in Wagtail and submits it; the approver approves; the learner reads it.

The lesson carries one of each of the eleven lesson block types, each added through Wagtail's
own StreamField menu, so a block an editor cannot fill in or save fails here.

Wagtail's admin is Wagtail's, not ours, so axe-core runs only on our pages here (sign-in, the
two-factor page and the learner's lesson), never on the admin pages under /cms/.
"""

from io import BytesIO

import pytest
from PIL import Image as PILImage
from playwright.sync_api import expect

from tests.browser.mfa import sign_in, sign_in_with_mfa

pytestmark = pytest.mark.browser
MODULE_SLUG = "county-lines-exploitation-and-cuckooing"
TITLE = "Spotting a cuckooed flat"
IMAGE_TITLE = "Front door with a broken lock"
IMAGE_ALT = "A flat's front door, its lock forced and taped over"
# A page link, not an MP4: the block then shows a link to the video's page, and the learner's
# browser fetches nothing from outside this machine.
VIDEO_URL = "https://video.example.gov.uk/spotting-a-cuckooed-flat"


def block_insert(editor, label: str) -> str:
    """Add a block at the end of the lesson body from Wagtail's block menu.

    Returns the prefix of the new block's form fields, e.g. "body-3-value-".
    """
    body = editor.locator("[data-contentpath=body]").first
    index = int(body.locator("input[name=body-count]").input_value())
    # The StreamField's own "+" buttons, not Draftail's or a list's.
    body.locator("button.c-sf-add-button[title='Insert a block']").last.click()
    editor.get_by_role("option", name=label, exact=True).click()
    expect(body.locator("input[name=body-count]")).to_have_value(str(index + 1))
    return f"body-{index}-value-"


def rich_text_fill(editor, name: str, text: str) -> None:
    """Type into the Draftail editor whose hidden input is `name`."""
    widget = editor.locator(f"[data-streamfield-widget]:has(> input[name='{name}'])")
    textbox = widget.locator("[role=textbox][contenteditable=true]")
    textbox.click()
    textbox.type(text)


def list_item_add(editor, name: str) -> None:
    """Append an item to the ListBlock whose item fields start with `name`."""
    container = editor.locator("[data-streamfield-list-container]").filter(
        has=editor.locator(f"[name^='{name}-0-']")
    )
    count = container.locator(":scope > [data-streamfield-child]").count()
    # Each item has its own "+" after it; the last one appends.
    container.locator(":scope > button[data-streamfield-list-add]").last.click()
    expect(container.locator(":scope > [data-streamfield-child]")).to_have_count(count + 1)


def image_make(title: str):
    """A real (small) PNG in Wagtail's image library, for the editor to choose."""
    from django.core.files.images import ImageFile
    from wagtail.images import get_image_model

    png = BytesIO()
    PILImage.new("RGB", (120, 80), (29, 79, 118)).save(png, "PNG")
    return get_image_model().objects.create(title=title, file=ImageFile(png, name="door.png"))


def test_editor_writes_a_lesson_with_every_block_the_approver_publishes_it_the_learner_reads_it(
    live_site, browser, axe_check, settings, tmp_path
):
    from cms.selectors import reporting_route_list
    from training.blocks import LessonBlocks
    from training.models import LessonPage, ModulePage

    settings.MEDIA_ROOT = str(tmp_path)
    base = live_site.url
    module = ModulePage.objects.get(slug=MODULE_SLUG)
    image = image_make(IMAGE_TITLE)

    editor = browser.new_context().new_page()
    sign_in_with_mfa(editor, base, "editor@example.gov.uk", axe_check, "editor")
    editor.get_by_role("link", name="Admin").click()
    editor.goto(f"{base}/cms/pages/{module.pk}/")
    editor.get_by_role("link", name="Add child page").first.click()
    editor.locator("#id_title").fill(TITLE)
    editor.locator("#id_summary").fill("What a cuckooed flat looks like from the doorstep.")

    field = block_insert(editor, "Rich text")
    rich_text_fill(editor, field.rstrip("-"), "A tenant who seems afraid.")

    field = block_insert(editor, "Statistic")
    editor.locator(f"[name={field}value]").fill("1 in 5")
    editor.locator(f"[name={field}description]").fill("tenancies checked that showed signs")
    editor.locator(f"[name={field}source]").fill("Example Council audit")
    editor.locator(f"[name={field}year]").fill("2025")

    field = block_insert(editor, "Quote")
    editor.locator(f"[name={field}text]").fill("If it feels wrong, it probably is.")
    editor.locator(f"[name={field}attribution]").fill("A housing officer")

    field = block_insert(editor, "Details")
    editor.locator(f"[name={field}summary]").fill("What the law says about cuckooing")
    rich_text_fill(editor, f"{field}body", "Taking over a home to deal drugs is exploitation.")

    field = block_insert(editor, "Image")
    editor.locator(f"[data-contentpath=image]:has([name={field}image])").get_by_role(
        "button", name="Choose an image"
    ).click()
    editor.get_by_role("dialog").get_by_role("link", name=IMAGE_TITLE).click()
    expect(editor.get_by_role("dialog")).to_be_hidden()
    expect(editor.locator(f"[name={field}image]")).to_have_value(str(image.pk))
    editor.locator(f"[name={field}alt_text]").fill(IMAGE_ALT)
    editor.locator(f"[name={field}caption]").fill("Forced locks are often the first sign.")

    field = block_insert(editor, "Video")
    editor.locator(f"[name={field}title]").fill("A visit to a cuckooed flat")
    editor.locator(f"[name={field}video_url]").fill(VIDEO_URL)
    rich_text_fill(editor, f"{field}transcript", "Narrator: the curtains stay shut all day.")

    field = block_insert(editor, "How to report")
    editor.locator(f"[name={field}heading]").fill("Who to tell about a cuckooed flat")

    field = block_insert(editor, "Warning signs")
    editor.locator(f"[name={field}signs-0-value]").fill("New faces coming and going at night")

    field = block_insert(editor, "Case study")
    editor.locator(f"[name={field}title]").fill("The flat above the chip shop")
    rich_text_fill(editor, f"{field}body", "A repairs officer noticed six phones on a table.")
    editor.locator(f"[name={field}takeaways-0-value]").fill("Small details add up")

    field = block_insert(editor, "Scenario")
    editor.locator(f"[name={field}situation]").fill("A tenant whispers that friends are staying.")
    editor.locator(f"[name={field}choices-0-value-text]").fill("Leave and report it the same day")
    editor.locator(f"[name={field}choices-0-value-feedback]").fill("Yes: you stay safe.")
    editor.locator(f"[name={field}choices-0-value-is_best]").check()
    list_item_add(editor, f"{field}choices")
    editor.locator(f"[name={field}choices-1-value-text]").fill("Ask the friends to leave")
    editor.locator(f"[name={field}choices-1-value-feedback]").fill("No: that puts you at risk.")

    field = block_insert(editor, "Do and don't")
    editor.locator(f"[name={field}dos-0-value]").fill("Write down dates and times")
    editor.locator(f"[name={field}donts-0-value]").fill("Confront the visitors")

    editor.get_by_role("button", name="More actions").click()
    editor.get_by_role("button", name="Submit to").click()
    expect(editor.locator(".messages")).to_contain_text("submitted")
    lesson = LessonPage.objects.get(title=TITLE)
    assert not lesson.live
    draft = lesson.get_latest_revision_as_object()
    assert sorted(block.block_type for block in draft.body) == sorted(LessonBlocks.base_blocks)

    approver = browser.new_context().new_page()
    sign_in_with_mfa(approver, base, "approver@example.gov.uk", axe_check, "approver")
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
    main = learner.get_by_role("main")
    # rich text, statistic, quote
    expect(main.get_by_text("A tenant who seems afraid.")).to_be_visible()
    expect(main.get_by_text("1 in 5")).to_be_visible()
    expect(main.get_by_text("If it feels wrong, it probably is.")).to_be_visible()
    # details: closed until the learner opens it
    main.get_by_text("What the law says about cuckooing").click()
    expect(main.get_by_text("Taking over a home to deal drugs is exploitation.")).to_be_visible()
    # image: Wagtail's rendition of the chosen image, with the editor's alt text and caption
    rendition = image.get_rendition("width-800")
    picture = main.get_by_role("img", name=IMAGE_ALT)
    expect(picture).to_have_attribute("src", rendition.url)
    picture.scroll_into_view_if_needed()
    assert picture.evaluate("img => img.decode().then(() => img.naturalWidth)") > 0  # it loaded
    expect(main.get_by_text("Forced locks are often the first sign.")).to_be_visible()
    # video: a link to the video's page, and the transcript behind "Read the transcript"
    expect(main.get_by_role("heading", name="A visit to a cuckooed flat")).to_be_visible()
    expect(main.get_by_role("link", name="Watch “A visit to a cuckooed flat”")).to_have_attribute(
        "href", VIDEO_URL
    )
    main.get_by_text("Read the transcript").click()
    expect(main.get_by_text("Narrator: the curtains stay shut all day.")).to_be_visible()
    # how to report: no slugs chosen, so every route from site settings
    report = main.locator("section").filter(
        has=learner.get_by_role("heading", name="Who to tell about a cuckooed flat")
    )
    routes = reporting_route_list()
    expect(report.get_by_role("term")).to_contain_text([route.name for route in routes])
    # warning signs, case study
    expect(main.get_by_role("heading", name="Warning signs")).to_be_visible()
    expect(main.get_by_text("New faces coming and going at night")).to_be_visible()
    expect(main.get_by_role("heading", name="The flat above the chip shop")).to_be_visible()
    expect(main.get_by_text("A repairs officer noticed six phones on a table.")).to_be_visible()
    expect(main.get_by_text("Small details add up")).to_be_visible()
    # scenario: each choice opens to its feedback
    expect(main.get_by_text("A tenant whispers that friends are staying.")).to_be_visible()
    main.get_by_text("Ask the friends to leave").click()
    expect(main.get_by_text("No: that puts you at risk.")).to_be_visible()
    # do and don't
    expect(main.get_by_text("Write down dates and times")).to_be_visible()
    expect(main.get_by_text("Confront the visitors")).to_be_visible()
    axe_check(learner, "editor-new-lesson")
