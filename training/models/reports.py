"""HR reports: their mailboxes and the council's target, reports scheduled by email, queued
exports and their permissions, and the snapshot of figures counted ahead (ComplianceCount,
ComplianceWeek)."""

from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting

from accounts.models import Department, PersonType
from training.models.assignments import Status
from training.models.audiences import Audience
from training.models.pages import ModulePage


@register_setting(icon="table", order=1030)
class ReportSettings(BaseSiteSetting):
    """Where the weekly HR summary and the daily records checkpoint go."""

    hr_mailbox = models.EmailField(
        "HR mailbox", blank=True, help_text="Gets the weekly HR summary. Empty: not sent."
    )

    checkpoint_mailbox = models.EmailField(
        "Records checkpoint mailbox",
        blank=True,
        help_text=(
            "Gets the daily signed checkpoint of the completion records, kept outside Aware so "
            "an auditor can prove none was removed. Best someone who cannot change the "
            "database (internal audit, information governance). Empty: the HR mailbox."
        ),
    )

    panels = [FieldPanel("hr_mailbox"), FieldPanel("checkpoint_mailbox")]

    class Meta:
        verbose_name = "Reports"


@register_setting(icon="pick", order=1035)
class PackSettings(BaseSiteSetting):
    """The council's completion target and the red/amber/green marks the audit-committee pack
    gives each directorate against it (HR keeps them; changes are in the audit trail)."""

    target_rate = models.PositiveSmallIntegerField(
        "completion target (%)",
        default=90,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="The share of people who must have completed their mandatory training. At or "
        "above it: green.",
    )
    amber_margin = models.PositiveSmallIntegerField(
        "amber band (percentage points below the target)",
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(99)],
        help_text="Within this many points below the target: amber. Further below: red.",
    )

    panels = [FieldPanel("target_rate"), FieldPanel("amber_margin")]

    class Meta:
        verbose_name = "Audit committee pack"


class ScheduledReport(models.Model):
    """A report HR saved with its filters, emailed as a link to a signed-in download to its
    recipients each week, month or quarter (training.reports.scheduled)."""

    class Report(models.TextChoices):
        PACK = "pack", "Audit committee pack (PDF and XLSX)"
        OVERVIEW = "overview", "Compliance overview (XLSX)"
        COUNCILLORS = "councillors", "Councillors' compliance (XLSX)"
        OVERDUE = "overdue", "Overdue list (XLSX)"
        PEOPLE = "people", "Everyone's status (XLSX)"
        TREND = "trend", "Weekly trend (XLSX)"

    class Frequency(models.TextChoices):
        WEEKLY = "weekly", "Weekly (on Mondays)"
        MONTHLY = "monthly", "Monthly (on the 1st)"
        QUARTERLY = "quarterly", "Quarterly (1 January, April, July and October)"

    name = models.CharField(max_length=120, help_text='For example, "Audit committee pack".')
    report = models.CharField(max_length=20, choices=Report.choices, default=Report.PACK)
    frequency = models.CharField(
        max_length=10, choices=Frequency.choices, default=Frequency.MONTHLY
    )
    recipients = models.TextField(
        help_text="Email addresses, one a line, of people with an account here who may see this "
        "report. They get a link and sign in to download it: nothing personal is attached."
    )
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Only this department and the services under it. Empty: all.",
    )
    audience = models.ForeignKey(
        Audience, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    module = models.ForeignKey(
        ModulePage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    person_type = models.CharField(max_length=20, blank=True, choices=PersonType.choices)
    status = models.CharField(max_length=20, blank=True, choices=Status.choices)
    active = models.BooleanField(default=True, help_text="Untick to stop sending it.")

    panels = [
        FieldPanel("name"),
        FieldRowPanel([FieldPanel("report"), FieldPanel("frequency")]),
        FieldPanel("recipients"),
        MultiFieldPanel(
            [
                FieldPanel("department"),
                FieldPanel("audience"),
                FieldPanel("module"),
                FieldRowPanel([FieldPanel("person_type"), FieldPanel("status")]),
            ],
            heading="Filters (not used by the pack, which covers everyone)",
        ),
        FieldPanel("active"),
    ]

    class Meta:
        ordering = ["name"]
        verbose_name = "scheduled report"

    def __str__(self) -> str:
        return self.name

    def recipient_emails(self) -> list[str]:
        """The addresses, one a line, lower-cased, each once, in order."""
        lines = (line.strip().lower() for line in self.recipients.replace(",", "\n").splitlines())
        return list(dict.fromkeys(line for line in lines if line))


class ReportExport(models.Model):
    """A large report export built by Celery: its owner, progress and a file that expires.

    Also carries the report permissions: HR sees every report, Member Services councillors only.
    """

    LIFETIME = timedelta(hours=24)

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Being built"
        READY = "ready", "Ready to download"
        FAILED = "failed", "Failed"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="report_exports"
    )
    report = models.CharField(max_length=40)
    export_format = models.CharField(max_length=4)
    params = models.JSONField(default=dict, help_text="The filters, as the report's query string.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    file_name = models.CharField(max_length=100, blank=True, help_text="Under MEDIA_ROOT/exports.")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("view_hr_reports", "Can see every HR report"),
            ("view_councillor_reports", "Can see reports on councillors"),
        ]

    def __str__(self) -> str:
        return f"{self.report} export {self.pk}"

    @property
    def percent(self) -> int:
        return round(100 * self.rows_done / self.rows_total) if self.rows_total else 0


class SnapshotGroup(models.Model):
    """Figures for one module and one group of people (same department, person type and
    audiences), counted ahead so HR reports read a few hundred rows, not every assignment.

    Written only by training.reports.snapshot.report_counts_refresh."""

    module = models.ForeignKey(ModulePage, on_delete=models.CASCADE, related_name="+")
    department = models.ForeignKey(
        Department, null=True, on_delete=models.CASCADE, related_name="+"
    )
    person_type = models.CharField(max_length=20)
    # The audiences the group's people belong to, as ",3,5," so one audience is a "contains".
    audience_key = models.CharField(max_length=500)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"module {self.module_id}, {self.person_type}, department {self.department_id}"

    @staticmethod
    def key_for(audience_ids) -> str:
        return "," + "".join(f"{pk}," for pk in sorted(audience_ids))

    @property
    def audience_ids(self) -> list[int]:
        return [int(pk) for pk in self.audience_key.strip(",").split(",") if pk]


class ComplianceCount(SnapshotGroup):
    """The compliance overview as counted at `counted_at` (every few minutes, by Celery beat)."""

    compliant = models.PositiveIntegerField()
    in_progress = models.PositiveIntegerField()
    not_started = models.PositiveIntegerField()
    overdue = models.PositiveIntegerField()
    expired = models.PositiveIntegerField()
    exempt = models.PositiveIntegerField()
    counted_at = models.DateTimeField()


class ComplianceWeek(SnapshotGroup):
    """The trend: who had to comply and who did at the end of a week (Sunday, local time).

    Counted once per week and kept, so the trend is a read of 52 weeks of small rows."""

    week_ending = models.DateField()
    must_comply = models.PositiveIntegerField()
    compliant = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["week_ending"], name="training_week_ending")]
