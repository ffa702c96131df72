"""The site shell: home and standard pages, the council's settings, reporting routes, heartbeat."""

from django.db import models
from django.utils.functional import cached_property
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Orderable, Page, Site
from wagtail.search import index

from cms.blocks import StandardBlocks


class HomePage(Page):
    """The site's front page: public, with the way into training and reporting."""

    intro = RichTextField(blank=True, features=["bold", "italic", "link"])
    body = StreamField(StandardBlocks(), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("body")]
    search_fields = [*Page.search_fields, index.SearchField("intro")]

    parent_page_types = ["wagtailcore.Page"]
    subpage_types = ["cms.StandardPage", "cms.ReportConcernPage", "training.ModuleIndexPage"]
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


@register_setting(icon="warning")
class ReportingRoutes(ClusterableModel, BaseSiteSetting):
    """Where to report a concern. Editors keep each route's details and "last verified" date."""

    intro = models.TextField(
        blank=True,
        default="If someone is in immediate danger, call 999. Otherwise choose the route that "
        "fits what you have seen. If you are not sure, tell your line manager or the "
        "counter-fraud team: reporting a worry that turns out to be nothing is never wrong.",
    )

    panels = [FieldPanel("intro"), InlinePanel("routes", label="Routes", heading="Routes")]

    class Meta:
        verbose_name = "Reporting routes"

    @classmethod
    def routes_for(cls, *, request=None, slugs: list[str] | None = None) -> list["ReportingRoute"]:
        """The site's routes in their set order, optionally only those named; cached per request."""
        if request is not None:
            routes_setting = cls.for_request(request)
        else:
            routes_setting = cls.for_site(Site.objects.get(is_default_site=True))
        routes = routes_setting.route_list
        if slugs:
            return [r for r in routes if r.slug in slugs]
        return routes

    @cached_property
    def route_list(self) -> list["ReportingRoute"]:
        return list(self.routes.all())


class ReportingRoute(Orderable):
    setting = ParentalKey(ReportingRoutes, related_name="routes", on_delete=models.CASCADE)
    slug = models.SlugField(
        max_length=60, help_text="Lesson blocks name routes by this, e.g. report-fraud."
    )
    name = models.CharField(max_length=150)
    contact = models.CharField(
        max_length=250, help_text="Phone number, email or address, exactly as people should use it."
    )
    other_contact = models.CharField(
        max_length=250, blank=True, help_text="Textphone, text number or other ways to reach it."
    )
    use_for = models.TextField(help_text="What this route is for, in one or two sentences.")
    link = models.URLField(blank=True)
    is_internal = models.BooleanField(
        default=False, help_text="The council's own contact rather than a national service."
    )
    is_emergency = models.BooleanField(default=False)
    last_verified = models.DateField(
        help_text="When someone last checked these details against the official source."
    )
    verification_note = models.CharField(
        max_length=250, blank=True, help_text="How it was checked, or what still needs checking."
    )

    panels = [
        MultiFieldPanel(
            [
                FieldPanel("name"),
                FieldPanel("slug"),
                FieldPanel("contact"),
                FieldPanel("other_contact"),
                FieldPanel("use_for"),
                FieldPanel("link"),
                FieldPanel("is_internal"),
                FieldPanel("is_emergency"),
                FieldPanel("last_verified"),
                FieldPanel("verification_note"),
            ],
            heading="Route",
        )
    ]

    class Meta(Orderable.Meta):
        constraints = [
            models.UniqueConstraint(fields=["setting", "slug"], name="cms_route_slug_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def contact_href(self) -> str:
        """A tel: or mailto: link for the contact, so a phone can call it with one tap."""
        contact = self.contact.strip()
        if "@" in contact and " " not in contact:
            return f"mailto:{contact}"
        digits = "".join(ch for ch in contact if ch.isdigit())
        if digits and len(digits) == len(contact.replace(" ", "")):
            return f"tel:{digits}"
        return ""


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
        routes = ReportingRoutes.routes_for(request=request)
        context["routes_setting"] = ReportingRoutes.for_request(request)
        context["emergency_routes"] = [r for r in routes if r.is_emergency]
        context["national_routes"] = [r for r in routes if not r.is_internal and not r.is_emergency]
        context["internal_routes"] = [r for r in routes if r.is_internal]
        return context
