"""StreamField blocks shared by every page type (lesson-only blocks live in training/blocks.py)."""

from django.core.exceptions import ValidationError
from django.utils import timezone
from wagtail import blocks
from wagtail.blocks.struct_block import StructBlockValidationError
from wagtail.images.blocks import ImageChooserBlock

from cms.selectors import reporting_route_list

PROSE_FEATURES = ["h2", "h3", "bold", "italic", "link", "ol", "ul"]


class RichTextBlock(blocks.RichTextBlock):
    def __init__(self, **kwargs):
        super().__init__(features=PROSE_FEATURES, **kwargs)

    class Meta:
        icon = "pilcrow"
        template = "blocks/rich_text_block.html"
        description = "Paragraphs, headings, lists and links, in plain English"
        preview_value = "<p>Write in short paragraphs. Say what to do, then why.</p>"


class DetailsBlock(blocks.StructBlock):
    summary = blocks.CharBlock(max_length=120, help_text="The line the reader clicks to open.")
    body = blocks.RichTextBlock(features=PROSE_FEATURES)

    class Meta:
        icon = "collapse-down"
        template = "blocks/details_block.html"
        description = "An expandable section for detail most readers can skip"
        preview_value = {
            "summary": "What counts as a protected disclosure?",
            "body": "<p>Information you reasonably believe shows a crime or a danger.</p>",
        }


class QuoteBlock(blocks.StructBlock):
    text = blocks.TextBlock()
    attribution = blocks.CharBlock(help_text="Who said or wrote it: required.")
    source_url = blocks.URLBlock(required=False, label="Source link")

    class Meta:
        icon = "openquote"
        template = "blocks/quote_block.html"
        description = "A quotation or official definition, with who it is from"
        preview_value = {
            "text": "Serious crime planned, coordinated and committed by people working together.",
            "attribution": "Home Office, Serious and Organised Crime Strategy",
        }


class StatisticBlock(blocks.StructBlock):
    value = blocks.CharBlock(max_length=40, help_text='The figure, e.g. "£1bn" or "1 in 5".')
    description = blocks.CharBlock(max_length=250, help_text="What the figure measures.")
    source = blocks.CharBlock(max_length=250, help_text="Who published it: required.")
    source_url = blocks.URLBlock(required=False, label="Source link")
    year = blocks.IntegerBlock(min_value=1900, help_text="The year the figure applies to.")

    class Meta:
        icon = "table"
        template = "blocks/statistic_block.html"
        description = "One figure with its source and year"
        preview_value = {
            "value": "£1bn",
            "description": "the estimated yearly cost of waste crime in England",
            "source": "Environmental Services Association",
            "year": 2021,
        }

    def clean(self, value):
        value = super().clean(value)
        if value["year"] > timezone.localdate().year:
            raise StructBlockValidationError(
                block_errors={"year": ValidationError("The year cannot be in the future.")}
            )
        return value


class ImageBlock(blocks.StructBlock):
    image = ImageChooserBlock()
    alt_text = blocks.CharBlock(
        max_length=250,
        help_text="Describe what the image shows for people who cannot see it: required.",
    )
    caption = blocks.CharBlock(required=False, max_length=250)

    class Meta:
        icon = "image"
        template = "blocks/image_block.html"
        description = "An image with alt text (required) and an optional caption"


class VideoBlock(blocks.StructBlock):
    title = blocks.CharBlock(max_length=150)
    video_url = blocks.URLBlock(help_text="A link to an MP4 or WebM file, or to the video's page.")
    captions_url = blocks.URLBlock(required=False, help_text="A WebVTT captions file.")
    transcript = blocks.RichTextBlock(
        features=PROSE_FEATURES, help_text="The full transcript: required."
    )

    class Meta:
        icon = "media"
        template = "blocks/video_block.html"
        description = "A video with its transcript (required) and optional captions"
        preview_value = {
            "title": "Spotting a cuckooed flat",
            "video_url": "https://example.org/video.mp4",
            "transcript": "<p>Narrator: the tenant has stopped answering the door...</p>",
        }


class HowToReportBlock(blocks.StructBlock):
    heading = blocks.CharBlock(default="How to report it")
    intro = blocks.TextBlock(required=False)
    routes = blocks.ListBlock(
        blocks.CharBlock(max_length=60),
        required=False,
        default=[],  # not one empty item, which the editor would have to delete before saving
        help_text="Route slugs from Settings → Reporting routes. Leave empty to show every route.",
    )

    class Meta:
        icon = "warning"
        template = "blocks/how_to_report_block.html"
        description = "The reporting routes from site settings, always up to date"
        preview_value = {"heading": "How to report it", "routes": []}

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context=parent_context)
        request = (parent_context or {}).get("request")
        context["reporting_routes"] = reporting_route_list(
            request=request, slugs=list(value["routes"])
        )
        return context


class StandardBlocks(blocks.StreamBlock):
    rich_text = RichTextBlock()
    details = DetailsBlock()
    quote = QuoteBlock()
    statistic = StatisticBlock()
    image = ImageBlock()
    video = VideoBlock()
    how_to_report = HowToReportBlock()
