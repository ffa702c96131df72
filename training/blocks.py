"""Lesson-only StreamField blocks; the shared ones come from cms.blocks."""

from django.core.exceptions import ValidationError
from wagtail import blocks
from wagtail.blocks.struct_block import StructBlockValidationError

from cms.blocks import PROSE_FEATURES, StandardBlocks


class WarningSignsBlock(blocks.StructBlock):
    heading = blocks.CharBlock(default="Warning signs")
    intro = blocks.TextBlock(required=False)
    signs = blocks.ListBlock(blocks.CharBlock(max_length=300), min_num=1)

    class Meta:
        icon = "warning"
        template = "blocks/warning_signs_block.html"
        description = "A checklist of signs to look out for"
        preview_value = {
            "heading": "Signs of a cuckooed home",
            "signs": ["Lots of visitors at all hours", "The tenant seems scared or withdrawn"],
        }


class CaseStudyBlock(blocks.StructBlock):
    title = blocks.CharBlock(max_length=150)
    body = blocks.RichTextBlock(features=PROSE_FEATURES)
    outcome = blocks.RichTextBlock(features=PROSE_FEATURES, required=False)
    takeaways = blocks.ListBlock(blocks.CharBlock(max_length=300), required=False)
    source = blocks.CharBlock(
        required=False, max_length=250, help_text='Where it comes from, or "Illustrative".'
    )
    source_url = blocks.URLBlock(required=False, label="Source link")

    class Meta:
        icon = "doc-full"
        template = "blocks/case_study_block.html"
        description = "A real or illustrative case, what happened and what to learn"
        preview_value = {
            "title": "The waste site that was a front",
            "body": "<p>A waste business was used to launder money.</p>",
            "takeaways": ["Share what you see with the right partner"],
        }


class ScenarioChoiceBlock(blocks.StructBlock):
    text = blocks.CharBlock(max_length=300)
    feedback = blocks.TextBlock()
    is_best = blocks.BooleanBlock(required=False, label="This is the best choice")


class ScenarioBlock(blocks.StructBlock):
    """A formative "what would you do?" question: feedback for each choice, nothing graded."""

    situation = blocks.TextBlock()
    question = blocks.CharBlock(max_length=250, default="What would you do?")
    choices = blocks.ListBlock(ScenarioChoiceBlock(), min_num=2, max_num=4)

    class Meta:
        icon = "help"
        template = "blocks/scenario_block.html"
        description = 'A "what would you do?" scenario with feedback on each choice (not graded)'
        preview_value = {
            "situation": "On a housing visit you see six mattresses in one small room.",
            "question": "What would you do?",
            "choices": [
                {
                    "text": "Ask the landlord about it there and then",
                    "feedback": "No: confronting may put people at risk.",
                    "is_best": False,
                },
                {
                    "text": "Leave safely, write notes and report",
                    "feedback": "Yes.",
                    "is_best": True,
                },
            ],
        }

    def clean(self, value):
        value = super().clean(value)
        if not any(choice["is_best"] for choice in value["choices"]):
            raise StructBlockValidationError(
                block_errors={"choices": ValidationError("Mark at least one choice as the best.")}
            )
        return value


class DoDontBlock(blocks.StructBlock):
    heading = blocks.CharBlock(default="Do and don't")
    dos = blocks.ListBlock(blocks.CharBlock(max_length=300), min_num=1, label="Do")
    donts = blocks.ListBlock(blocks.CharBlock(max_length=300), min_num=1, label="Don't")

    class Meta:
        icon = "list-ul"
        label = "Do and don't"
        template = "blocks/do_dont_block.html"
        description = "What to do and what not to do, side by side"
        preview_value = {
            "heading": "If you suspect fraud",
            "dos": ["Write down what you saw"],
            "donts": ["Confront the person"],
        }


class SourceBlock(blocks.StructBlock):
    """One source a lesson rests on, listed under the lesson with its publisher."""

    title = blocks.CharBlock(max_length=250)
    publisher = blocks.CharBlock(
        max_length=120, help_text="For example legislation.gov.uk, GOV.UK."
    )
    url = blocks.URLBlock(label="Link")

    class Meta:
        icon = "link"


class LessonBlocks(StandardBlocks):
    """Every shared block plus the lesson-only ones."""

    warning_signs = WarningSignsBlock()
    case_study = CaseStudyBlock()
    scenario = ScenarioBlock()
    do_dont = DoDontBlock()
