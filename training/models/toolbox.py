"""Toolbox talks: a supervisor-led session for a crew, who was there and how each did."""

import pgtrigger
from django.conf import settings
from django.db import models

from training.models.pages import ModulePage
from training.models.records import ModuleCompletion, append_only


class ToolboxSession(models.Model):
    """One toolbox talk: a module talked through on one screen by its supervisor, for the team
    of `team_of` (the roster HR imported), with the three questions every attendee answers.

    Evidence: nothing about it may change but the moment it closes, and it is never deleted."""

    module = models.ForeignKey(ModulePage, on_delete=models.PROTECT, related_name="+")
    module_version = models.PositiveIntegerField()
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="toolbox_sessions_run"
    )
    team_of = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The line manager whose reports are the roster (the supervisor, or for HR "
        "the manager they chose).",
    )
    token = models.CharField(max_length=64, unique=True, help_text="The session URL's secret.")
    questions = models.JSONField(
        help_text="The three questions as asked: text, choices and which choice is right."
    )
    pass_mark = models.PositiveSmallIntegerField(help_text="Percentage, from the module's quiz.")
    started_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        triggers = [
            pgtrigger.Protect(name="toolbox_session_no_delete", operation=pgtrigger.Delete),
            pgtrigger.Protect(
                name="toolbox_session_fixed",
                operation=pgtrigger.Update,
                condition=pgtrigger.AnyChange(exclude=["closed_at"]),
            ),
            pgtrigger.Protect(
                name="toolbox_session_closed_stays",
                operation=pgtrigger.Update,
                condition=pgtrigger.Q(old__closed_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"toolbox talk {self.pk}"


class ToolboxPresence(models.Model):
    """The supervisor ticked this person present (append-only): only they may answer."""

    session = models.ForeignKey(ToolboxSession, on_delete=models.PROTECT, related_name="present")
    attendee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    ticked_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["session", "attendee"], name="training_toolbox_present_unique"
            ),
        ]
        triggers = [append_only()]

    def __str__(self) -> str:
        return f"present {self.pk}"


class ToolboxAttendance(models.Model):
    """One attendee's check at a toolbox talk, witnessed by its supervisor (append-only): one
    row per attendee and session; a pass links the completion it gave."""

    session = models.ForeignKey(
        ToolboxSession, on_delete=models.PROTECT, related_name="attendances"
    )
    attendee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="toolbox_attendances"
    )
    witness = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    answers = models.JSONField(help_text="The choice picked for each question, in order.")
    score = models.PositiveSmallIntegerField(help_text="Percentage.")
    passed = models.BooleanField()
    completion = models.OneToOneField(
        ModuleCompletion, null=True, on_delete=models.PROTECT, related_name="toolbox_attendance"
    )
    on_own_device = models.BooleanField(help_text="Answered on their own phone (the QR code).")
    answered_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["session", "attendee"], name="training_toolbox_attendance_unique"
            ),
        ]
        triggers = [append_only()]

    def __str__(self) -> str:
        return f"toolbox attendance {self.pk}"
