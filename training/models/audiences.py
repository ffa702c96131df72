"""Audiences: groups of people described by a rule over their attributes, plus named members."""

from django import forms
from django.conf import settings
from django.db import models
from django.db.models import Q
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, MultiFieldPanel

from accounts.models import Department, PersonType, ServiceArea


class AudienceForm(WagtailAdminModelForm):
    """Person types and service areas are stored as lists; editors tick them."""

    person_types = forms.MultipleChoiceField(
        choices=PersonType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave all unticked for every kind of person.",
    )
    service_areas = forms.MultipleChoiceField(
        choices=ServiceArea.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave all unticked for every service area.",
    )


class Audience(models.Model):
    """A group of people described by a rule over their attributes, plus named extra members.

    Within the rule every filled-in part must match; an empty part matches everyone.
    """

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    description = models.TextField(blank=True)
    person_types = models.JSONField(
        default=list, blank=True, help_text="Leave empty for every kind of person."
    )
    departments = models.ManyToManyField(
        Department,
        blank=True,
        related_name="audiences",
        help_text="Includes every service below a chosen directorate. Empty for all.",
    )
    service_areas = models.JSONField(default=list, blank=True)
    job_title_keywords = models.CharField(
        max_length=250,
        blank=True,
        help_text='Comma-separated words, any of which in a job title matches, e.g. "buyer, '
        'commissioning". Empty for all.',
    )
    with_organisation = models.BooleanField(
        "only people with an organisation",
        default=False,
        help_text="Partners, contractors and agency staff: people HR invited with the name of "
        "the organisation they work for (associated persons).",
    )
    extra_members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="extra_audiences",
        help_text="People who belong whatever the rule says.",
    )

    base_form_class = AudienceForm
    panels = [
        FieldPanel("name"),
        FieldPanel("slug"),
        FieldPanel("description"),
        MultiFieldPanel(
            [
                FieldPanel("person_types"),
                FieldPanel("departments"),
                FieldPanel("service_areas"),
                FieldPanel("job_title_keywords"),
                FieldPanel("with_organisation"),
            ],
            heading="Rule",
        ),
        FieldPanel("extra_members"),
    ]

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def member_filter(self) -> Q:
        """A filter on users for this audience's active members. Needs departments prefetched."""
        rule = Q()
        if self.person_types:
            rule &= Q(person_type__in=self.person_types)
        if self.service_areas:
            rule &= Q(service_area__in=self.service_areas)
        departments = list(self.departments.all())
        if departments:
            subtree = Q()
            for department in departments:
                subtree |= Q(department__path__startswith=department.path)
            rule &= subtree
        keywords = [k.strip() for k in self.job_title_keywords.split(",") if k.strip()]
        if keywords:
            titles = Q()
            for keyword in keywords:
                titles |= Q(job_title__icontains=keyword)
            rule &= titles
        if self.with_organisation:
            rule &= ~Q(organisation="")
        if not rule:  # an empty rule is everyone (and Q() | x would be just x)
            return Q(is_active=True)
        return Q(is_active=True) & (rule | Q(extra_audiences=self))
