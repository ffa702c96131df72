"""The evidence: module versions, lesson progress, quiz passes and completion records."""

import hashlib
from datetime import UTC

from django.conf import settings
from django.db import models

from training.models.pages import LessonPage, ModulePage


class ModuleVersion(models.Model):
    """Append-only history of a module's versions: which content learners were assessed on."""

    module = models.ForeignKey(ModulePage, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    change_note = models.TextField(blank=True)
    revision = models.ForeignKey(
        "wagtailcore.Revision", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField()
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["module", "number"]
        constraints = [
            models.UniqueConstraint(fields=["module", "number"], name="training_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.module} v{self.number}"


class LessonProgress(models.Model):
    """One row per learner and lesson: when they first opened it and when they completed it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="lesson_progress"
    )
    lesson = models.ForeignKey(LessonPage, on_delete=models.PROTECT, related_name="progress")
    module = models.ForeignKey(ModulePage, on_delete=models.PROTECT, related_name="progress")
    module_version = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "lesson"], name="training_progress_unique"),
        ]
        indexes = [models.Index(fields=["user", "module"], name="training_progress_user_mod")]
        verbose_name_plural = "lesson progress"

    def __str__(self) -> str:
        return f"progress {self.pk}"


class QuizPass(models.Model):
    """A passed assessment reported by the quizzes app (append-only)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="quiz_passes"
    )
    module = models.ForeignKey(ModulePage, on_delete=models.PROTECT, related_name="quiz_passes")
    module_version = models.PositiveIntegerField()
    score = models.PositiveSmallIntegerField(help_text="Percentage.")
    attempt_id = models.PositiveBigIntegerField(help_text="The quizzes app's attempt.")
    passed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["attempt_id"], name="training_quizpass_attempt_unique"),
        ]

    def __str__(self) -> str:
        return f"pass {self.pk}"


class ModuleCompletion(models.Model):
    """Evidence that a person completed version N of a module on a date: the certificate.

    Append-only: saving an existing record or deleting one is refused, and every record carries a
    hash over its content and the previous record's hash, so `verify_records` finds any change
    made behind the application's back.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="module_completions"
    )
    module = models.ForeignKey(ModulePage, on_delete=models.PROTECT, related_name="completions")
    module_version = models.PositiveIntegerField()
    quiz_pass = models.OneToOneField(
        QuizPass, null=True, on_delete=models.PROTECT, related_name="completion"
    )
    attempt_id = models.PositiveBigIntegerField(null=True, help_text="The quiz attempt.")
    score = models.PositiveSmallIntegerField()
    completed_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    verification_code = models.CharField(max_length=16, unique=True)
    source = models.CharField(
        max_length=20, default="aware", help_text='"aware", or "import" for a previous LMS.'
    )
    previous_hash = models.CharField(max_length=64, blank=True)
    record_hash = models.CharField(max_length=64)

    class Meta:
        indexes = [
            models.Index(fields=["module", "completed_at"], name="training_completion_mod"),
            models.Index(fields=["user", "module"], name="training_completion_user"),
        ]

    def __str__(self) -> str:
        return f"completion {self.pk}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("Completion records are evidence and cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Completion records are evidence and cannot be deleted.")

    def compute_hash(self) -> str:
        return hashlib.sha256(self.content_for_hash().encode()).hexdigest()

    def content_for_hash(self) -> str:
        fields = [
            self.user_id,
            self.module_id,
            self.module_version,
            self.attempt_id,
            self.score,
            self.completed_at.astimezone(UTC).isoformat(),
            self.expires_at.astimezone(UTC).isoformat() if self.expires_at else "",
            self.verification_code,
            self.source,
            self.previous_hash,
        ]
        return "|".join(str(f) for f in fields)
