"""Reminder settings and the log of every reminder email sent (append-only)."""

from datetime import time

import pgtrigger
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from wagtail.admin.panels import FieldPanel, FieldRowPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting

# What identifies a logged reminder and what it said: never changed once written.
SENT_MESSAGE_FIXED_FIELDS = (
    "recipient",
    "recipient_email",
    "kind",
    "period",
    "items",
    "created_at",
)


@register_setting(icon="mail", order=1020)
class ReminderSettings(BaseSiteSetting):
    """When and how often people are chased; where escalations for councillors go."""

    send_time = models.TimeField(default=time(7, 30), help_text="Europe/London time.")
    send_days = models.CharField(
        max_length=20,
        default="mon-fri",
        help_text='Days the sweep runs, as cron day-of-week: "mon-fri", "mon,wed,fri" or "*".',
    )
    overdue_every_days = models.PositiveIntegerField(
        default=7, help_text="After the first overdue reminder, remind again every this many days."
    )
    expiring_days = models.PositiveIntegerField(
        default=30, help_text="Remind this many days before a completion expires."
    )
    weekly_cap = models.PositiveIntegerField(
        default=2, help_text="At most this many reminder emails to one person in 7 days."
    )
    escalate_after_days = models.PositiveIntegerField(
        default=14, help_text="Days overdue before the line manager (or Member Services) is told."
    )
    escalate_again_after_days = models.PositiveIntegerField(
        default=28,
        help_text="Days overdue before the manager's manager (or Monitoring Officer) is told.",
    )
    member_services_email = models.EmailField(
        "Member Services mailbox",
        blank=True,
        help_text="Told when a councillor is overdue past the first escalation point. Blank: "
        "nobody is, and the admin dashboard and the sweep warn.",
    )
    monitoring_officer_email = models.EmailField(
        "Monitoring Officer mailbox",
        blank=True,
        help_text="Told when a councillor is overdue past the second escalation point. Blank: "
        "nobody is, and the admin dashboard and the sweep warn.",
    )
    manager_extension_max_days = models.PositiveIntegerField(
        "longest extension a manager may give (days)",
        default=28,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="From My team, a line manager may move a report's due date this many days "
        "later at most (counted from the due date, or from today when it has passed).",
    )

    panels = [
        FieldRowPanel([FieldPanel("send_time"), FieldPanel("send_days")]),
        FieldRowPanel(
            [
                FieldPanel("overdue_every_days"),
                FieldPanel("expiring_days"),
            ]
        ),
        FieldPanel("weekly_cap"),
        FieldPanel("manager_extension_max_days"),
        FieldRowPanel([FieldPanel("escalate_after_days"), FieldPanel("escalate_again_after_days")]),
        FieldPanel("member_services_email"),
        FieldPanel("monitoring_officer_email"),
    ]

    class Meta:
        verbose_name = "Reminders"
        # Member Services sets the two mailboxes (and nothing else here): training/reminders/
        # mailboxes.py.
        permissions = [
            ("change_escalation_mailboxes", "Can set the councillors' escalation mailboxes")
        ]


class SentMessage(models.Model):
    """Every scheduled email (reminders, the HR summary and pack, the records checkpoint),
    recorded before it is sent (append-only evidence).

    The unique key (recipient, kind, period) means no sweep, retry or second scheduler can send
    the same message twice. A send claims the row (pending -> sending), marks the moment it hands
    the message to the SMTP server, and records the server's acceptance, so a crash in between
    is settled without a second copy: never handed over, it is sent again; handed over without
    a recorded acceptance, it is "uncertain" and never sent again automatically.
    """

    class Kind(models.TextChoices):
        LEARNER = "learner", "Learner digest"
        MANAGER = "manager", "Line manager's team digest"
        SENIOR_MANAGER = "senior-manager", "Manager's manager digest"
        MEMBER_SERVICES = "member-services", "Member Services digest (councillors)"
        MONITORING_OFFICER = "monitoring-officer", "Monitoring Officer digest (councillors)"
        HR_SUMMARY = "hr-summary", "HR weekly summary"
        MODULE_UPDATED = "module-updated", "Module updated"
        HR_PACK = "hr-pack", "Monthly HR pack (attached; replaced by scheduled reports)"
        SCHEDULED_REPORT = "scheduled-report", "Scheduled report (a link)"
        RECORDS_CHECKPOINT = "records-checkpoint", "Records checkpoint"
        CONTENT_REVIEW = "content-review", "Weekly content review digest"
        OPERATIONAL_ALERT = "operational-alert", "Operational alert to administrators"
        NUDGE = "nudge", "Line manager's nudge"
        EXEMPTION_REQUEST = "exemption-request", "Exemption request to HR"

    class State(models.TextChoices):
        PENDING = "pending", "Waiting to send"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed after retries"
        UNCERTAIN = "uncertain", "Handed to the mail server, acceptance not recorded"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="messages_received",
    )
    recipient_email = models.EmailField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    period = models.CharField(max_length=20, help_text="The day (or ISO week) it belongs to.")
    items = models.JSONField(default=list, help_text="What it listed: assignment ids and why.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=250, blank=True)
    claimed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the last attempt to send it started."
    )
    handed_over_at = models.DateTimeField(
        null=True, blank=True, help_text="When that attempt gave the message to the SMTP server."
    )
    smtp_reply = models.CharField(
        max_length=250, blank=True, help_text="The SMTP server's acceptance (its reply to DATA)."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["recipient_email", "kind", "period"], name="training_message_once"
            ),
        ]
        indexes = [models.Index(fields=["recipient", "created_at"], name="training_msg_recipient")]
        # Its state moves pending -> sent/failed, but what identifies the message and what it
        # said never change, and no row is deleted (the same on SQLite: migration 0009).
        triggers = [
            pgtrigger.Protect(name="no_delete", operation=pgtrigger.Delete),
            pgtrigger.Protect(
                name="what_was_sent_fixed",
                operation=pgtrigger.Update,
                condition=pgtrigger.AnyChange(*SENT_MESSAGE_FIXED_FIELDS),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.period}"
