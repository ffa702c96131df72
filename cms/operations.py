"""Operational alerts: what /healthz reports as "degraded" (see training.reminders.alerts)."""

from django.db import models


class OperationalAlert(models.Model):
    """Something in the background has gone wrong (the reminder sweep failed, or sent nothing
    while people are overdue; too many emails failed): open until the next check finds it
    right again. While one is open /healthz says "degraded"."""

    kind = models.CharField(max_length=30)
    detail = models.CharField(max_length=250, help_text="What was seen (no personal data).")
    opened_at = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind"],
                condition=models.Q(cleared_at__isnull=True),
                name="cms_alert_one_open_per_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} since {self.opened_at:%Y-%m-%d %H:%M}"
