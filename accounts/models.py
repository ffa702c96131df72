"""People: the custom user (email login) and the council's department tree."""

from datetime import datetime, timedelta

from django import forms
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from treebeard.mp_tree import MP_Node
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting


class Department(MP_Node):
    """A directorate or a service inside one: "Neighbourhoods > Environmental Health"."""

    name = models.CharField(max_length=150)
    node_order_by = ["name"]

    class Meta:
        ordering = ["path"]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        names = [a.name for a in self.get_ancestors()] + [self.name]
        return " > ".join(names)


class PersonType(models.TextChoices):
    OFFICER = "officer", "Officer"
    COUNCILLOR = "councillor", "Councillor"
    OTHER = "other", "Other (contractor, volunteer, agency)"


class ServiceArea(models.TextChoices):
    HOUSING = "housing", "Housing"
    LICENSING = "licensing", "Licensing"
    WASTE = "waste", "Waste and street scene"
    ENVIRONMENTAL_HEALTH = "environmental-health", "Environmental health"
    TRADING_STANDARDS = "trading-standards", "Trading standards"
    SOCIAL_CARE = "social-care", "Social care"
    PROCUREMENT = "procurement", "Procurement and commissioning"
    FINANCE = "finance", "Finance and payments"
    REVENUES = "revenues", "Revenues and benefits"
    PLANNING = "planning", "Planning"
    HIGHWAYS = "highways", "Highways"
    ESTATES = "estates", "Estates and property"
    DEMOCRATIC_SERVICES = "democratic-services", "Democratic services"
    CUSTOMER_SERVICES = "customer-services", "Customer services"
    PARKING = "parking", "Parking and civil enforcement"
    ECONOMIC_DEVELOPMENT = "economic-development", "Economic development and grants"
    HR_PAYROLL = "hr-payroll", "HR, payroll and recruitment"
    IT_DIGITAL = "it-digital", "IT and digital"
    OTHER = "other", "Other"


class UserManager(DjangoUserManager):
    """Creates users by email; there is no username."""

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    """A member of staff, a councillor or another learner. Leavers are deactivated, not deleted."""

    username = None
    first_name = None
    last_name = None
    email = models.EmailField("email address", unique=True)
    full_name = models.CharField(max_length=200)
    person_type = models.CharField(
        max_length=20, choices=PersonType.choices, default=PersonType.OFFICER
    )
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="people"
    )
    service_area = models.CharField(max_length=40, choices=ServiceArea.choices, blank=True)
    job_title = models.CharField(max_length=150, blank=True)
    organisation = models.CharField(
        max_length=150,
        blank=True,
        help_text="For partners, contractors and agency staff: the organisation they work for.",
    )
    employee_number = models.CharField(max_length=50, null=True, blank=True, unique=True)
    line_manager = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    start_date = models.DateField(
        null=True, blank=True, help_text="For councillors, the date of election."
    )
    on_leave_until = models.DateField(null=True, blank=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    erased_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the leaver's personal data was replaced by a pseudonym (their "
        "training evidence is kept under it).",
    )

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    objects = UserManager()

    class Meta:
        ordering = ["full_name"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]
        # "view_user" shows everyone (HR); this shows councillors and no one else (Member
        # Services), wherever people are listed or opened: accounts.selectors.people_visible_to.
        permissions = [("view_councillor", "Can view councillors (and no one else)")]

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def is_councillor(self) -> bool:
        return self.person_type == PersonType.COUNCILLOR


class PeopleImport(models.Model):
    """A people file HR uploaded in the admin, kept between its preview and the confirmation.

    The file's text is cleared once it is imported; what stays is who imported what, when.
    """

    LIFETIME = timedelta(hours=1)  # how long a preview may be confirmed

    token = models.CharField(max_length=64, unique=True)
    uploaded_by = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    filename = models.CharField(max_length=255)
    csv_text = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    imported_at = models.DateTimeField(null=True, blank=True)
    summary = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"People import {self.pk} ({self.created_at:%Y-%m-%d %H:%M})"

    def is_open(self, now: datetime) -> bool:
        """Not yet imported, and young enough to confirm."""
        return self.imported_at is None and self.created_at >= now - self.LIFETIME


class QueuedEmail(models.Model):
    """An email a request asked for (password reset, address verification, invitation), kept
    until the SMTP server accepts it, then deleted: it may hold a sign-in link.

    A send claims it first (waiting -> being sent) and notes when it hands it to the server, so
    a sender that died midway is settled: before the hand-over it waits again, after it the
    email is "uncertain" and never sent again automatically (accounts.outbox)."""

    class State(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENDING = "sending", "Being sent"
        UNCERTAIN = "uncertain", "Handed to the mail server, acceptance not recorded"

    template = models.CharField(max_length=100)  # allauth's template prefix: names the kind
    message = models.JSONField()  # subject, body, html, from_email, to
    created_at = models.DateTimeField(default=timezone.now)
    next_try_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=100, blank=True)  # error type and SMTP code only
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    claimed_at = models.DateTimeField(null=True, blank=True)
    handed_over_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["next_try_at"]
        indexes = [models.Index(fields=["next_try_at"]), models.Index(fields=["state"])]

    def __str__(self) -> str:
        return f"Queued email {self.pk} ({self.template})"


class MatchClaim(models.TextChoices):
    EMAIL = "email", "Verified email address"
    EMPLOYEE_NUMBER = "employee_number", "Employee number (from a custom claim)"


class CreationRule(models.TextChoices):
    HR_FILE = "hr_file", "Only people already in HR's file"
    COUNCIL_DOMAINS = (
        "council_domains",
        "Anyone with a verified email address in the council's domains",
    )


@register_setting(icon="key", order=1050)
class SignInSettings(BaseSiteSetting):
    """How people sign in with the council's own account (single sign-on); accounts.sso
    applies it."""

    sso_button_text = models.CharField(
        "button text",
        max_length=120,
        blank=True,
        help_text="Leave empty for “Sign in with <council name> account”.",
    )
    sso_providers = models.ManyToManyField(
        "socialaccount.SocialApp",
        blank=True,
        related_name="+",
        verbose_name="identity providers shown",
        help_text="The identity providers offered on the sign-in page. Add them under "
        "Settings → Single sign-on providers. None ticked: no single sign-on.",
    )
    match_claim = models.CharField(
        "match people on",
        max_length=20,
        choices=MatchClaim.choices,
        default=MatchClaim.EMAIL,
        help_text="How a first sign-in finds the person HR imported. An email address the "
        "identity provider has not verified is never used.",
    )
    employee_number_claim = models.CharField(
        "employee number claim",
        max_length=100,
        default="employeeid",
        help_text="The claim (or SAML attribute) that carries the employee number.",
    )
    creation_rule = models.CharField(
        "who may sign in for the first time",
        max_length=20,
        choices=CreationRule.choices,
        default=CreationRule.HR_FILE,
        help_text="People created at their first sign-in are in no audience until HR's next "
        "import. Single sign-on never creates or grants a privileged role.",
    )
    council_domains = models.TextField(
        "council email domains",
        blank=True,
        help_text="One a line, e.g. council.gov.uk. Used by the second rule above.",
    )
    sso_only_domains = models.TextField(
        "single sign-on only domains",
        blank=True,
        help_text="One a line. People with these addresses must use single sign-on: password "
        "sign-in, password reset and sign-up are turned off for them.",
    )
    trust_idp_mfa = models.BooleanField(
        "trust the identity provider's two-factor check",
        default=False,
        help_text="When on, privileged roles skip Aware's authenticator code if the identity "
        "provider says it checked a second factor (OpenID Connect “amr”, SAML "
        "AuthnContextClassRef). When off, they always enter Aware's code too.",
    )

    panels = [
        MultiFieldPanel(
            [
                FieldPanel("sso_providers", widget=forms.CheckboxSelectMultiple),
                FieldPanel("sso_button_text"),
            ],
            heading="Sign-in page",
        ),
        MultiFieldPanel(
            [
                FieldPanel("match_claim"),
                FieldPanel("employee_number_claim"),
                FieldPanel("creation_rule"),
                FieldPanel("council_domains"),
            ],
            heading="First sign-in",
        ),
        FieldPanel("sso_only_domains"),
        FieldPanel("trust_idp_mfa"),
    ]

    class Meta:
        verbose_name = "Sign-in and single sign-on"

    def shown_providers(self) -> models.QuerySet:
        """The identity providers on the sign-in page (none before the settings are saved)."""
        if self.pk is None:
            return self._meta.get_field("sso_providers").related_model.objects.none()
        return self.sso_providers.all()

    @staticmethod
    def _domains(text: str) -> set[str]:
        return {line.strip().lower().lstrip("@") for line in text.splitlines() if line.strip()}

    @property
    def council_domain_set(self) -> set[str]:
        return self._domains(self.council_domains)

    @property
    def sso_only_domain_set(self) -> set[str]:
        return self._domains(self.sso_only_domains)
