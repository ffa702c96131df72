"""The evidence: module versions, lesson progress, quiz passes and completion records."""

import json
from datetime import UTC, datetime, time

import pgtrigger
from django.conf import settings
from django.db import models
from django.utils import timezone

from training.hashing import legacy_sha256, records_hmac, records_key
from training.models.pages import LessonPage, ModulePage


def append_only() -> pgtrigger.Protect:
    """PostgreSQL refuses UPDATE and DELETE of the model's rows (training's migration 0009 makes
    the same refusal on SQLite)."""
    return pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)


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
    update_by = models.DateField(
        null=True,
        blank=True,
        help_text="Learners must retake: completions of earlier versions count until the end "
        "of this day (or their own expiry, if sooner).",
    )
    changed_lessons = models.ManyToManyField(
        LessonPage,
        blank=True,
        related_name="+",
        help_text="The lessons the editor marked as changed: people who completed an earlier "
        "version redo only these (and a short quiz on them). None marked: the whole module.",
    )

    class Meta:
        ordering = ["module", "number"]
        constraints = [
            models.UniqueConstraint(fields=["module", "number"], name="training_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.module} v{self.number}"

    @property
    def update_by_ends_at(self) -> datetime | None:
        """The last moment of the update-by day, local time: earlier versions count until then."""
        if self.update_by is None:
            return None
        return timezone.make_aware(datetime.combine(self.update_by, time.max))


class RetakeRequestQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(withdrawn_at__isnull=True, version__isnull=True)


class RetakeRequest(models.Model):
    """An editor's "learners must retake", recorded when a revision of the module with the tick
    on is saved (autosave, save draft or submit). It stays pending until a publish of any later
    revision raises the version, or an editor withdraws it, so a later revision with the tick
    off (a stale tab's save, an approver's edit) cannot lose it."""

    module = models.ForeignKey(ModulePage, on_delete=models.CASCADE, related_name="retake_requests")
    revision = models.ForeignKey(
        "wagtailcore.Revision", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField()
    change_note = models.TextField(blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.ForeignKey(
        ModuleVersion,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="retake_requests",
        help_text="The version whose publish fulfilled the request.",
    )

    objects = RetakeRequestQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["module"],
                condition=models.Q(withdrawn_at__isnull=True, version__isnull=True),
                name="training_one_pending_retake_request",
            ),
        ]

    def __str__(self) -> str:
        return f"retake request {self.pk} for {self.module}"


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
        triggers = [append_only()]

    def __str__(self) -> str:
        return f"pass {self.pk}"


class CompletionSource(models.TextChoices):
    """How a completion came about: online in Aware, imported from a previous LMS, or at a
    toolbox talk (a supervisor-led session; its ToolboxAttendance names the witness)."""

    AWARE = "aware", "Online"
    IMPORT = "import", "Imported"
    TOOLBOX = "toolbox", "Toolbox talk"


class ModuleCompletion(models.Model):
    """Evidence that a person completed version N of a module on a date: the certificate.

    Append-only: the database refuses UPDATE and DELETE (a trigger), and every record carries an
    HMAC under the records key (key_id) over its content and the previous record's hash, so
    `verify_records` finds any change made behind the application's back. Records with an empty
    key_id are legacy: plain SHA-256 over fewer fields.
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
        max_length=20, choices=CompletionSource.choices, default=CompletionSource.AWARE
    )
    previous_hash = models.CharField(max_length=64, blank=True)
    record_hash = models.CharField(max_length=64)
    key_id = models.CharField(
        max_length=32, blank=True, help_text="The records key that signed it; empty: legacy."
    )

    class Meta:
        indexes = [
            models.Index(fields=["module", "completed_at"], name="training_completion_mod"),
            models.Index(fields=["user", "module"], name="training_completion_user"),
        ]
        triggers = [append_only()]

    def __str__(self) -> str:
        return f"completion {self.pk}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("Completion records are evidence and cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Completion records are evidence and cannot be deleted.")

    @property
    def is_legacy(self) -> bool:
        return not self.key_id

    def compute_hash(self) -> str:
        """The HMAC under the record's key (RecordsKeyUnknown if it is not configured), or for
        a legacy record the plain SHA-256."""
        if self.is_legacy:
            return legacy_sha256(self.legacy_content_for_hash())
        return records_hmac(key=records_key(self.key_id), content=self.content_for_hash())

    def content_for_hash(self) -> str:
        """Every field that says what the record proves, and the key and link, as JSON."""
        return json.dumps(
            [
                "aware-completion-v2",
                self.key_id,
                self.user_id,
                self.module_id,
                self.module_version,
                self.quiz_pass_id,
                self.attempt_id,
                self.score,
                self.completed_at.astimezone(UTC).isoformat(),
                self.expires_at.astimezone(UTC).isoformat() if self.expires_at else None,
                self.verification_code,
                self.source,
                self.previous_hash,
            ],
            separators=(",", ":"),
        )

    def legacy_content_for_hash(self) -> str:
        """What the first records hashed (no quiz_pass_id, no key): kept so they still verify."""
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
