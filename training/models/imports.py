"""Historic completion imports: each file brought in from a previous LMS, by whom and with what
result (the records themselves are in records.py)."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models


class CompletionImport(models.Model):
    """One import of historic completions, from the admin or the command line.

    An admin upload keeps the file's text between its preview and the confirmation, under a
    random token; once imported the text is cleared and what stays is who imported which file,
    when, and the counts. A command-line import is recorded the same way, with nobody's name.
    """

    LIFETIME = timedelta(hours=1)  # how long an admin preview may be confirmed

    token = models.CharField(max_length=64, unique=True, null=True, blank=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty for an import from the command line.",
    )
    filename = models.CharField(max_length=255)
    csv_text = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    imported_at = models.DateTimeField(null=True, blank=True)
    imported = models.PositiveIntegerField(default=0, help_text="Records added.")
    already_recorded = models.PositiveIntegerField(
        default=0, help_text="Rows already on record, so not added again."
    )
    refused = models.PositiveIntegerField(default=0, help_text="Rows with errors, not imported.")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Completion import {self.pk} ({self.filename})"

    @property
    def imported_by_label(self) -> str:
        return str(self.imported_by) if self.imported_by_id else "command line"

    def is_open(self, now: datetime) -> bool:
        """Not yet imported, and young enough to confirm."""
        return self.imported_at is None and self.created_at >= now - self.LIFETIME
