"""Site settings editors keep: the council's details and where to report a concern."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.functional import cached_property
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.models import Orderable


@register_setting(icon="site", order=1000)
class CouncilSettings(BaseSiteSetting):
    """The council's name and contacts, shown in every page's header and footer."""

    council_name = models.CharField(max_length=120, default="Aware Demo Council")
    support_email = models.EmailField(
        blank=True, help_text="Where learners ask for help with the training site."
    )
    accessibility_contact_email = models.EmailField(
        blank=True, help_text="Where people report an accessibility problem."
    )
    data_protection_email = models.EmailField(
        "data protection officer's email",
        blank=True,
        help_text="The council's data protection officer (or information governance team): "
        "the privacy notice tells people to write here for a copy of their data or to "
        "complain about how it is used. Empty: the notice gives the help address instead.",
    )

    panels = [
        FieldPanel("council_name"),
        FieldPanel("support_email"),
        FieldPanel("accessibility_contact_email"),
        FieldPanel("data_protection_email"),
    ]

    class Meta:
        verbose_name = "Council details"


@register_setting(icon="lock", order=1040)
class RetentionSettings(BaseSiteSetting):
    """How long Aware keeps personal data HR does not need any more (read by the daily
    retention job and shown on the privacy notice). Changes are in the audit trail."""

    leaver_months = models.PositiveIntegerField(
        "keep a leaver's personal data for (months)",
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(240)],
        help_text="Months after someone is deactivated before their name, email address, "
        "employee number and job title are replaced by a pseudonym and their sign-in is "
        "removed. Their training evidence (completions, certificates, quiz results) is kept "
        "under the pseudonym, so audits still add up. 24 months lets HR answer questions about "
        "a leaver's training for two audit cycles; your records retention schedule may say "
        "otherwise. Take legal advice before you shorten or lengthen it.",
    )
    message_log_months = models.PositiveIntegerField(
        "keep the log of emails sent for (months)",
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(240)],
        help_text="Months the log of reminder, digest and report emails (who was sent what, "
        "when) is kept before it is deleted. It shows that people were chased; it is not the "
        "training evidence. Take legal advice.",
    )

    panels = [FieldPanel("leaver_months"), FieldPanel("message_log_months")]

    class Meta:
        verbose_name = "Personal data retention"


@register_setting(icon="warning", order=1010)
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
        max_length=250,
        blank=True,
        help_text="Phone number, email or address, exactly as people should use it. Leave "
        "empty until the council has one: learners are told it is not set up yet.",
    )
    other_contact = models.CharField(
        max_length=250, blank=True, help_text="Textphone, text number or other ways to reach it."
    )
    use_for = models.TextField(help_text="What this route is for, in one or two sentences.")
    link = models.URLField(blank=True)
    is_internal = models.BooleanField(
        default=False, help_text="The council's own contact rather than a national service."
    )
    for_residents = models.BooleanField(
        default=False,
        help_text="A council route residents and partner agencies may use too (the counter-fraud "
        "team, safeguarding): shown to visitors who are not signed in. The others (the MLRO, the "
        "whistleblowing line, Member Services) are shown only to staff and councillors.",
    )
    is_emergency = models.BooleanField(default=False)
    last_verified = models.DateField(
        null=True,
        blank=True,
        help_text="When someone last checked these details against the official source. "
        "Leave empty until someone has.",
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
                FieldPanel("for_residents"),
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

    def clean(self):
        if self.last_verified and not self.contact.strip():
            raise ValidationError(
                {"last_verified": "Enter the contact before you record when it was verified."}
            )

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
