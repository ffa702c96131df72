"""Question bank, each module's quiz, learners' attempts (snapshots) and extra-time adjustments."""

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from taggit.models import TaggedItemBase
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import (
    FieldPanel,
    FieldRowPanel,
    InlinePanel,
    MultiFieldPanel,
)
from wagtail.models import Orderable

from accounts.models import ServiceArea
from training.models import LessonPage, ModulePage


class QuestionKind(models.TextChoices):
    SINGLE = "single", "Single choice"
    MULTIPLE = "multiple", "Multiple response (select all that apply)"
    TRUE_FALSE = "true_false", "True or false"
    SCENARIO = "scenario", "Scenario (a short case, then a question)"


def choice_rule_errors(*, kind: str, scenario: str, correct_flags: list[bool]) -> list[str]:
    """What is wrong with a question's shape, in words an editor or an import report can use."""
    errors = []
    correct = sum(correct_flags)
    if len(correct_flags) < 2:
        errors.append("A question needs at least two choices.")
    if kind == QuestionKind.MULTIPLE:
        if correct < 1:
            errors.append("A multiple-response question needs at least one correct choice.")
    elif correct != 1:
        errors.append("This kind of question needs exactly one correct choice.")
    if kind == QuestionKind.TRUE_FALSE and len(correct_flags) != 2:
        errors.append("A true-or-false question has exactly two choices.")
    if kind == QuestionKind.SCENARIO and not scenario.strip():
        errors.append("A scenario question needs the short case (the scenario) filled in.")
    return errors


class QuestionForm(WagtailAdminModelForm):
    """Editors tick service areas; the choices must make a question that can be answered."""

    service_areas = forms.MultipleChoiceField(
        choices=ServiceArea.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave all unticked if it suits everyone.",
    )

    def clean(self):
        cleaned = super().clean()
        choices = self.formsets.get("choices")
        if choices is None or not choices.is_valid():
            return cleaned
        flags = [
            bool(f.cleaned_data.get("is_correct"))
            for f in choices.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]
        for error in choice_rule_errors(
            kind=cleaned.get("kind", ""), scenario=cleaned.get("scenario", ""), correct_flags=flags
        ):
            self.add_error(None, error)
        return cleaned


class QuestionTag(TaggedItemBase):
    content_object = ParentalKey("quizzes.Question", related_name="tagged_items")


class Question(ClusterableModel):
    """One question in a module's bank. Retire it rather than delete it once it has been served."""

    module = models.ForeignKey(
        ModulePage,
        on_delete=models.PROTECT,
        related_name="quiz_questions",
        help_text="The module whose quiz draws this question.",
    )
    kind = models.CharField(max_length=20, choices=QuestionKind.choices)
    scenario = models.TextField(blank=True, help_text="Scenario questions only: the short case.")
    text = models.TextField("question")
    explanation = models.TextField(help_text="Why the right answer is right, shown after marking.")
    tags = ClusterTaggableManager(through=QuestionTag, blank=True)
    service_areas = models.JSONField(default=list, blank=True)
    lesson = models.ForeignKey(
        LessonPage,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The lesson to revisit when this question is answered wrongly.",
    )
    outcome = models.PositiveSmallIntegerField(
        "learning outcome",
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="The number of the module's learning outcome it tests: 1 for the first. "
        "Every attempt draws at least one question for each outcome.",
    )
    retired = models.BooleanField(
        default=False,
        help_text="Retired questions are never drawn again; past attempts keep them.",
    )
    source_key = models.CharField(
        max_length=120,
        unique=True,
        null=True,
        blank=True,
        editable=False,
        help_text="Where the starter content loader took it from.",
    )
    source_hash = models.CharField(
        max_length=64,
        blank=True,
        editable=False,
        help_text="A fingerprint of the starter content as loaded: while the question still "
        "matches it, no editor has changed it and the loader may update it.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    base_form_class = QuestionForm
    panels = [
        FieldPanel("module"),
        FieldRowPanel([FieldPanel("kind"), FieldPanel("retired")]),
        FieldPanel("scenario"),
        FieldPanel("text"),
        InlinePanel("choices", label="Choices", min_num=2, max_num=8),
        FieldPanel("explanation"),
        MultiFieldPanel(
            [
                FieldPanel("outcome"),
                FieldPanel("lesson"),
                FieldPanel("tags"),
                FieldPanel("service_areas"),
            ],
            heading="Drawing and feedback",
        ),
    ]

    class Meta:
        ordering = ["module", "pk"]
        indexes = [models.Index(fields=["module", "retired"], name="quizzes_question_bank")]
        permissions = [
            ("statistics_question", "Can see item statistics (without the question bank)")
        ]

    def __str__(self) -> str:
        return self.text if len(self.text) <= 80 else self.text[:79] + "…"

    def clean(self):
        unknown = set(self.service_areas or []) - set(ServiceArea.values)
        if unknown:
            raise ValidationError({"service_areas": f"Unknown service areas: {sorted(unknown)}"})
        if self.lesson_id and self.module_id and self.lesson.get_parent().pk != self.module_id:
            raise ValidationError({"lesson": "Choose a lesson from this question's module."})
        if self.outcome and self.module_id:
            outcomes = len(self.module.learning_outcomes)
            if self.outcome > outcomes:
                raise ValidationError(
                    {
                        "outcome": f"The module has {outcomes} learning outcome(s): choose 1 to "
                        f"{outcomes}."
                    }
                )


class Choice(Orderable):
    """One answer option with the feedback a learner sees after marking."""

    question = ParentalKey(Question, on_delete=models.CASCADE, related_name="choices")
    text = models.CharField(max_length=500)
    is_correct = models.BooleanField("correct", default=False)
    feedback = models.TextField(blank=True)

    panels = [FieldPanel("text"), FieldPanel("is_correct"), FieldPanel("feedback")]

    def __str__(self) -> str:
        return self.text


class ShowAnswers(models.TextChoices):
    ALWAYS = "always", "After every attempt, passed or failed"
    AFTER_PASS = "after_pass", "Only after passing"


class QuizDrawTag(TaggedItemBase):
    content_object = ParentalKey("quizzes.Quiz", related_name="tagged_items")


class Quiz(ClusterableModel):
    """The assessment at the end of a module: how questions are drawn and how it is marked."""

    module = models.OneToOneField(ModulePage, on_delete=models.PROTECT, related_name="quiz")
    pass_mark = models.PositiveSmallIntegerField(
        "pass mark (%)",
        default=80,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )
    questions_to_draw = models.PositiveSmallIntegerField(
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text="Fewer are drawn if the bank has fewer questions.",
    )
    draw_tags = ClusterTaggableManager(
        "draw only from these tags",
        through=QuizDrawTag,
        blank=True,
        help_text="Leave empty to draw from the module's whole bank.",
    )
    shuffle_questions = models.BooleanField(default=True)
    shuffle_choices = models.BooleanField(
        default=True, help_text="True-or-false questions always keep True first."
    )
    attempts_allowed = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        default=3,
        validators=[MinValueValidator(1)],
        help_text="How many attempts in a row before a wait (see below). Leave empty for "
        "unlimited.",
    )
    retry_after_hours = models.PositiveSmallIntegerField(
        "hours before a new set of attempts",
        null=True,
        blank=True,
        default=24,
        help_text="When the attempts are used up without a pass, learners can start a new set "
        "this many hours after the last one. Leave empty to stop them until the module's owner "
        "helps.",
    )
    cooldown_minutes = models.PositiveIntegerField("minutes to wait between attempts", default=0)
    time_limit_minutes = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Leave empty for no limit. Learners' extra-time adjustments add to it.",
    )
    show_answers = models.CharField(
        "show correct answers",
        max_length=20,
        choices=ShowAnswers.choices,
        default=ShowAnswers.AFTER_PASS,
        help_text="After a failed attempt learners always see which outcomes were weak, "
        "feedback on the options they chose and the lessons to revisit.",
    )
    lessons_first = models.BooleanField("learners must finish the lessons first", default=True)

    panels = [
        FieldPanel("module"),
        FieldRowPanel([FieldPanel("pass_mark"), FieldPanel("questions_to_draw")]),
        FieldPanel("draw_tags"),
        FieldRowPanel([FieldPanel("shuffle_questions"), FieldPanel("shuffle_choices")]),
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel("attempts_allowed"), FieldPanel("retry_after_hours")]),
                FieldPanel("cooldown_minutes"),
                FieldPanel("time_limit_minutes"),
                FieldPanel("lessons_first"),
            ],
            heading="Attempts",
        ),
        FieldPanel("show_answers"),
    ]

    class Meta:
        verbose_name_plural = "quizzes"

    def __str__(self) -> str:
        return f"Assessment: {self.module.title}"


class AttemptStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    SUBMITTED = "submitted", "Submitted"
    EXPIRED = "expired", "Time ran out"


class Attempt(models.Model):
    """One learner's try at a quiz: its questions were fixed when it started. Never deleted."""

    quiz = models.ForeignKey(Quiz, on_delete=models.PROTECT, related_name="attempts")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="quiz_attempts"
    )
    number = models.PositiveSmallIntegerField(help_text="1 for the learner's first attempt.")
    module_version = models.PositiveIntegerField()
    pass_mark = models.PositiveSmallIntegerField(help_text="The pass mark when it started.")
    status = models.CharField(
        max_length=20, choices=AttemptStatus.choices, default=AttemptStatus.IN_PROGRESS
    )
    started_at = models.DateTimeField()
    deadline = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    score = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Percentage.")
    passed = models.BooleanField(null=True)

    class Meta:
        ordering = ["quiz", "user", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["quiz", "user", "number"], name="quizzes_attempt_number_unique"
            ),
            # At most one open attempt per learner and quiz, whatever the race.
            models.UniqueConstraint(
                fields=["quiz", "user"],
                condition=Q(status="in_progress"),
                name="quizzes_attempt_one_open",
            ),
        ]

    def __str__(self) -> str:
        return f"attempt {self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status == AttemptStatus.IN_PROGRESS


class AttemptQuestion(models.Model):
    """A question as served in an attempt: a snapshot of its text and choices in display order.

    The snapshot keeps past attempts readable when editors later change or retire the question.
    """

    attempt = models.ForeignKey(Attempt, on_delete=models.PROTECT, related_name="items")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="served")
    position = models.PositiveSmallIntegerField()
    snapshot = models.JSONField()
    selected = models.JSONField(default=list, blank=True, help_text="Chosen choice ids.")
    is_correct = models.BooleanField(null=True)

    class Meta:
        ordering = ["attempt", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["attempt", "position"], name="quizzes_item_position_unique"
            ),
            models.UniqueConstraint(
                fields=["attempt", "question"], name="quizzes_item_question_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"item {self.pk}"


class ExtraTime(models.Model):
    """An accessibility adjustment: more time on timed assessments for one person."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="quiz_extra_time"
    )
    percent = models.PositiveSmallIntegerField(
        "extra time (%)",
        default=25,
        validators=[MinValueValidator(1), MaxValueValidator(400)],
        help_text="25 gives a 20-minute assessment 25 minutes.",
    )
    note = models.CharField(
        max_length=250, blank=True, help_text="Optional; never shown to the learner's manager."
    )
    updated_at = models.DateTimeField(auto_now=True)

    panels = [FieldPanel("user"), FieldPanel("percent"), FieldPanel("note")]

    class Meta:
        verbose_name = "extra time adjustment"

    def __str__(self) -> str:
        return f"{self.user}: +{self.percent}%"


class AttemptGrant(models.Model):
    """One more attempt for a learner locked out of a quiz's attempts, given by their line
    manager from My team. `after_attempts` is how many attempts of the module's version they had
    used: a second grant for the same lock (a double submit) breaks the unique key."""

    quiz = models.ForeignKey(Quiz, on_delete=models.PROTECT, related_name="grants")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="quiz_attempt_grants"
    )
    module_version = models.PositiveIntegerField()
    after_attempts = models.PositiveSmallIntegerField()
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    granted_at = models.DateTimeField()

    class Meta:
        verbose_name = "extra attempt"
        constraints = [
            models.UniqueConstraint(
                fields=["quiz", "user", "module_version", "after_attempts"],
                name="quizzes_grant_once_per_lock",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user}: one more attempt at {self.quiz}"
