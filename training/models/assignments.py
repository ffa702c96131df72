"""Who must take which module by when: assignment rules, assignments and their status."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from wagtail.admin.panels import FieldPanel, FieldRowPanel

from training.models.audiences import Audience
from training.models.pages import ModulePage


class AssignmentRule(models.Model):
    """Who must (or should) take a module, by when, and how long a completion lasts."""

    module = models.ForeignKey(
        ModulePage,
        on_delete=models.CASCADE,
        related_name="assignment_rules",
        limit_choices_to={"public": False},  # a public module is assigned to nobody
    )
    audience = models.ForeignKey(Audience, on_delete=models.PROTECT, related_name="rules")
    mandatory = models.BooleanField(default=True, help_text="Untick for recommended training.")
    due_days = models.PositiveIntegerField(
        default=28, help_text="Due this many days after the person starts or is assigned."
    )
    councillor_due_weeks = models.PositiveIntegerField(
        default=8, help_text="Councillors: due this many weeks after their election."
    )
    valid_months = models.PositiveIntegerField(
        null=True, blank=True, help_text="A completion lasts this long. Empty: it never expires."
    )
    reopen_days = models.PositiveIntegerField(
        default=60, help_text="Recertification opens this many days before a completion expires."
    )
    active = models.BooleanField(default=True)

    panels = [
        FieldRowPanel([FieldPanel("module"), FieldPanel("audience")]),
        FieldPanel("mandatory"),
        FieldRowPanel([FieldPanel("due_days"), FieldPanel("councillor_due_weeks")]),
        FieldRowPanel([FieldPanel("valid_months"), FieldPanel("reopen_days")]),
        FieldPanel("active"),
    ]

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["module", "audience"], name="training_rule_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.module} for {self.audience}"


class Status(models.TextChoices):
    """Where a person stands on an assignment: the one vocabulary for pages, reports, emails."""

    NOT_STARTED = "not-started", "Not started"
    IN_PROGRESS = "in-progress", "In progress"
    COMPLETED = "completed", "Completed"
    DUE_SOON = "due-soon", "Due soon"
    OVERDUE = "overdue", "Overdue"
    EXPIRED = "expired", "Expired"
    EXEMPT = "exempt", "Exempt"


# "Due soon": due within this many days. The one definition, for pages, reports and reminders.
DUE_SOON_DAYS = 14


class AssignmentQuerySet(models.QuerySet):
    def open(self):
        return self.filter(closed_at__isnull=True)

    def overdue(self, now: datetime):
        """Open assignments whose status (with_status) is "overdue", as plain conditions the
        database can estimate and serve from the training_assignment_unfinished index."""
        return self.open().filter(
            Q(valid_until__isnull=True) | Q(valid_until__gt=now),
            Q(recertify_from__isnull=True) | Q(recertify_from__gt=now),
            exempt_reason="",
            completed_at__isnull=True,
            due_on__lt=timezone.localdate(now),
        )

    def with_status(self, now: datetime):
        """Annotate `status` (a Status value): the only place status is worked out.

        Order matters: exempt; then a completion that satisfies the assignment (expired, in its
        recertification window, or completed); then, with none, overdue, due soon, in progress.
        """
        today = timezone.localdate(now)
        due_soon_from = today + timedelta(days=DUE_SOON_DAYS)
        return self.annotate(
            status=models.Case(
                models.When(~Q(exempt_reason=""), then=models.Value(Status.EXEMPT)),
                models.When(
                    completed_at__isnull=False,
                    valid_until__isnull=True,
                    then=models.Value(Status.COMPLETED),
                ),
                models.When(valid_until__lte=now, then=models.Value(Status.EXPIRED)),
                models.When(recertify_from__lte=now, then=models.Value(Status.DUE_SOON)),
                models.When(completed_at__isnull=False, then=models.Value(Status.COMPLETED)),
                models.When(due_on__lt=today, then=models.Value(Status.OVERDUE)),
                models.When(due_on__lte=due_soon_from, then=models.Value(Status.DUE_SOON)),
                models.When(started_at__isnull=False, then=models.Value(Status.IN_PROGRESS)),
                default=models.Value(Status.NOT_STARTED),
                output_field=models.CharField(),
            )
        )


class Assignment(models.Model):
    """A person's duty to complete a module. Closed assignments are kept as history."""

    class Closed(models.TextChoices):
        LEFT_AUDIENCE = "left-audience", "No longer in the audience"
        SUPERSEDED = "superseded", "Replaced by a newer version of the module"
        DEACTIVATED = "deactivated", "Person deactivated"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assignments"
    )
    module = models.ForeignKey(
        ModulePage,
        on_delete=models.PROTECT,
        related_name="assignments",
        limit_choices_to={"public": False},  # a public module is assigned to nobody
    )
    rule = models.ForeignKey(
        AssignmentRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    mandatory = models.BooleanField(default=True)
    required_version = models.PositiveIntegerField(
        default=1, help_text="A completion of this version or later satisfies the assignment."
    )
    assigned_at = models.DateTimeField()
    due_on = models.DateField()
    valid_months = models.PositiveIntegerField(null=True, blank=True)
    reopen_days = models.PositiveIntegerField(default=60)
    exempt_reason = models.TextField(blank=True)
    exempted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    exempted_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_reason = models.CharField(max_length=20, choices=Closed.choices, blank=True)
    # Kept up to date from the records by training.services (lesson_open, completions), so that
    # status is one SQL expression (AssignmentQuerySet.with_status) for pages, reports, reminders.
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(
        null=True, blank=True, help_text="The latest completion that satisfies this assignment."
    )
    valid_until = models.DateTimeField(null=True, blank=True)
    recertify_from = models.DateTimeField(null=True, blank=True)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "module"],
                condition=models.Q(closed_at__isnull=True),
                name="training_one_open_assignment",
            ),
        ]
        indexes = [
            models.Index(fields=["module", "due_on"], name="training_assignment_due"),
            models.Index(fields=["user", "closed_at"], name="training_assignment_user"),
            # The overdue list's order (longest overdue first, one person's modules together),
            # over unfinished open assignments only: its first page reads 50 entries.
            models.Index(
                fields=["due_on", "user", "id"],
                condition=Q(closed_at__isnull=True, completed_at__isnull=True, exempt_reason=""),
                name="training_assignment_unfinished",
            ),
        ]

    def __str__(self) -> str:
        return f"assignment {self.pk}"


class ExemptionRequest(models.Model):
    """A line manager's request that HR exempt one of their reports from an assignment. HR
    approves it (the exemption is then made by training.services.exemptions) or refuses it."""

    class State(models.TextChoices):
        PENDING = "pending", "Waiting for HR"
        APPROVED = "approved", "Approved"
        REFUSED = "refused", "Refused"

    assignment = models.ForeignKey(
        Assignment, on_delete=models.PROTECT, related_name="exemption_requests"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    reason = models.TextField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        verbose_name = "exemption request"
        constraints = [
            # One waiting request per assignment, whatever the race (a double submit).
            models.UniqueConstraint(
                fields=["assignment"],
                condition=Q(state="pending"),
                name="training_one_pending_exemption_request",
            ),
        ]

    def __str__(self) -> str:
        return f"Exemption request: {self.assignment.user}, {self.assignment.module.title}"
