"""The site shell: home and standard pages, the heartbeat, and the site settings and
operational alerts, re-exported from site_settings.py and operations.py (apart so that blocks
and selectors can read them without importing the pages)."""

from django.db import models
from wagtail import hooks
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page
from wagtail.search import index

from cms.blocks import StandardBlocks
from cms.operations import OperationalAlert
from cms.site_settings import (
    CouncilSettings,
    ReportingRoute,
    ReportingRoutes,
    RetentionSettings,
)

__all__ = [
    "CouncilSettings",
    "Heartbeat",
    "HomePage",
    "OperationalAlert",
    "PrivacyNoticePage",
    "ReportConcernPage",
    "ReportingRoute",
    "ReportingRoutes",
    "RetentionSettings",
    "StandardPage",
]


class HomePage(Page):
    """The site's front page: public, with the way into training and reporting."""

    intro = RichTextField(blank=True, features=["bold", "italic", "link"])
    body = StreamField(StandardBlocks(), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("body")]
    search_fields = [*Page.search_fields, index.SearchField("intro")]

    parent_page_types = ["wagtailcore.Page"]
    subpage_types = [
        "cms.StandardPage",
        "cms.ReportConcernPage",
        "cms.PrivacyNoticePage",
        "training.ModuleIndexPage",
    ]
    max_count = 1

    def get_context(self, request, *args, **kwargs):
        """Other apps add what the signed-in person should see first (training: what is due
        next) through the `aware_home_page_context` hook, so cms imports none of them."""
        context = super().get_context(request, *args, **kwargs)
        for hook in hooks.get_hooks("aware_home_page_context"):
            context.update(hook(page=self, request=request))
        return context

    def route(self, request, path_components):
        """Straight to the live page at the URL, kept whole in the site cache (cms.site_cache,
        cleared whenever an editor publishes, unpublishes, moves or deletes a page), instead of
        Wagtail's two queries a level. No page of Aware routes its own sub-URLs, so the page at
        the full URL is the one Wagtail's walk would reach; without one, Wagtail's walk decides
        (a 404)."""
        if path_components:
            from cms.site_cache import route_page

            page = route_page(self, self.url_path + "/".join(path_components) + "/")
            if page is not None:
                return page.route(request, [])
        return super().route(request, path_components)


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


class ReportConcernPage(Page):
    """ "Report a concern": every reporting route, public, linked from every page's header."""

    intro = RichTextField(blank=True, features=["bold", "italic", "link"])
    body = StreamField(StandardBlocks(), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("body")]

    parent_page_types = ["cms.HomePage"]
    subpage_types = []
    max_count = 1

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        routes_setting = ReportingRoutes.for_request(request)
        routes = routes_setting.route_list
        context["routes_setting"] = routes_setting
        context["emergency_routes"] = [r for r in routes if r.is_emergency]
        context["national_routes"] = [r for r in routes if not r.is_internal and not r.is_emergency]
        # Visitors (residents, partner agencies reading the public module) see only the council
        # routes meant for them; staff and councillors see every route.
        staff = request.user.is_authenticated
        context["internal_routes"] = [
            r for r in routes if r.is_internal and (staff or r.for_residents)
        ]
        return context


class PrivacyNoticePage(Page):
    """The privacy notice: what Aware holds, why, who sees it, how long it is kept (read from
    the live retention settings) and how to get a copy or have it erased. Its sections are in
    the template, so they stay true to what the site does; editors add the council's own text
    below them."""

    summary = models.TextField(
        blank=True,
        default="What the training site records about you, why, who can see it, how long it "
        "is kept, and how to get a copy.",
    )
    body = StreamField(
        StandardBlocks(),
        blank=True,
        help_text="The council's own additions (its legal basis, once advised, and its "
        "records retention schedule), shown after the standard sections.",
    )
    last_reviewed = models.DateField(null=True, blank=True)

    content_panels = [
        *Page.content_panels,
        FieldPanel("summary"),
        FieldPanel("body"),
        FieldPanel("last_reviewed"),
    ]

    parent_page_types = ["cms.HomePage"]
    subpage_types = []
    max_count = 1
