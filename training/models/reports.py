"""HR reports: where the HR pack goes, queued exports and their permissions, and the snapshot
of figures counted ahead (ComplianceCount, ComplianceWeek)."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from wagtail.admin.panels import FieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting

from accounts.models import Department
from training.models.pages import ModulePage


@register_setting(icon="table", order=1030)
class ReportSettings(BaseSiteSetting):
    """Where the monthly HR pack and the daily records checkpoint go."""

    hr_mailbox = models.EmailField(
        "HR mailbox", blank=True, help_text="Gets the monthly HR pack (XLSX). Empty: not sent."
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
