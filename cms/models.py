"""The site shell: home page, standard pages and the worker heartbeat."""

from django.db import models
from wagtail.admin.panels import FieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page
from wagtail.search import index

from cms.blocks import StandardBlocks


class HomePage(Page):
    """The site's front page: public, with the way into training and reporting."""

    intro = RichTextField(blank=True, features=["bold", "italic", "link"])
    body = StreamField(StandardBlocks(), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("body")]
    search_fields = [*Page.search_fields, index.SearchField("intro")]

    parent_page_types = ["wagtailcore.Page"]
    max_count = 1


class StandardPage(Page):
    """A plain public page: the accessibility statement, privacy notice, help."""

    summary = models.TextField(blank=True, help_text="One or two sentences shown under the title.")
    body = StreamField(StandardBlocks())
    last_reviewed = models.DateField(null=True, blank=True)

    content_panels = [
        *Page.content_panels,
        FieldPanel("summary"),
        FieldPanel("body"),
        FieldPanel("last_reviewed"),
    ]
    search_fields = [*Page.search_fields, index.SearchField("summary"), index.SearchField("body")]

    parent_page_types = ["cms.HomePage", "cms.StandardPage"]
    subpage_types = ["cms.StandardPage"]


class Heartbeat(models.Model):
    """When a background process last proved it was alive (one row per process kind)."""

    name = models.CharField(max_length=50, unique=True)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.seen_at:%Y-%m-%d %H:%M}"


@register_setting(icon="site")
class CouncilSettings(BaseSiteSetting):
    """The council's name and contacts, shown in every page's header and footer."""

    council_name = models.CharField(max_length=120, default="Aware Demo Council")
    support_email = models.EmailField(
        blank=True, help_text="Where learners ask for help with the training site."
    )
    accessibility_contact_email = models.EmailField(
        blank=True, help_text="Where people report an accessibility problem."
    )

    panels = [
        FieldPanel("council_name"),
        FieldPanel("support_email"),
        FieldPanel("accessibility_contact_email"),
    ]

    class Meta:
        verbose_name = "Council details"
