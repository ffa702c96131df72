"""StreamField blocks shared by every page type."""

from wagtail import blocks


class DetailsBlock(blocks.StructBlock):
    summary = blocks.CharBlock(max_length=120, help_text="The line the reader clicks to open.")
    body = blocks.RichTextBlock(features=["bold", "italic", "link", "ol", "ul"])

    class Meta:
        icon = "collapse-down"
        template = "blocks/details_block.html"
        description = "A section the reader can open for more detail"
        preview_value = {
            "summary": "What counts as a protected disclosure?",
            "body": "<p>Information you reasonably believe shows a crime or a danger.</p>",
        }


class StandardBlocks(blocks.StreamBlock):
    rich_text = blocks.RichTextBlock(
        features=["h2", "h3", "bold", "italic", "link", "ol", "ul"],
        icon="pilcrow",
        template="blocks/rich_text_block.html",
        description="Paragraphs, headings, lists and links",
        preview_value="<p>Write in plain English, in short paragraphs.</p>",
    )
    details = DetailsBlock()
