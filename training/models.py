"""Training content (Wagtail pages), audiences, module versions and learners' lesson progress."""

import hashlib
from datetime import UTC, datetime, time, timedelta

from django import forms
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey, ParentalManyToManyField
from taggit.models import TaggedItemBase
from wagtail import blocks, hooks
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page
from wagtail.search import index

from accounts.models import Department, PersonType, ServiceArea
from training.blocks import LessonBlocks


class AudienceForm(WagtailAdminModelForm):
    """Person types and service areas are stored as lists; editors tick them."""

    person_types = forms.MultipleChoiceField(
        choices=PersonType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave all unticked for every kind of person.",
    )
    service_areas = forms.MultipleChoiceField(
        choices=ServiceArea.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave all unticked for every service area.",
    )


class Audience(models.Model):
    """A group of people described by a rule over their attributes, plus named extra members.

    Within the rule every filled-in part must match; an empty part matches everyone.
    """

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    description = models.TextField(blank=True)
    person_types = models.JSONField(
        default=list, blank=True, help_text="Leave empty for every kind of person."
    )
    departments = models.ManyToManyField(
        Department,
        blank=True,
        related_name="audiences",
        help_text="Includes every service below a chosen directorate. Empty for all.",
    )
    service_areas = models.JSONField(default=list, blank=True)
    job_title_keywords = models.CharField(
        max_length=250,
        blank=True,
        help_text='Comma-separated words, any of which in a job title matches, e.g. "buyer, '
        'commissioning". Empty for all.',
    )
    extra_members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="extra_audiences",
        help_text="People who belong whatever the rule says.",
    )

    base_form_class = AudienceForm
    panels = [
        FieldPanel("name"),
        FieldPanel("slug"),
        FieldPanel("description"),
        MultiFieldPanel(
            [
                FieldPanel("person_types"),
                FieldPanel("departments"),
                FieldPanel("service_areas"),
                FieldPanel("job_title_keywords"),
            ],
            heading="Rule",
        ),
        FieldPanel("extra_members"),
    ]

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def member_filter(self) -> Q:
        """A filter on users for this audience's active members. Needs departments prefetched."""
        rule = Q()
        if self.person_types:
            rule &= Q(person_type__in=self.person_types)
        if self.service_areas:
            rule &= Q(service_area__in=self.service_areas)
        departments = list(self.departments.all())
        if departments:
            subtree = Q()
            for department in departments:
                subtree |= Q(department__path__startswith=department.path)
            rule &= subtree
        keywords = [k.strip() for k in self.job_title_keywords.split(",") if k.strip()]
        if keywords:
            titles = Q()
            for keyword in keywords:
                titles |= Q(job_title__icontains=keyword)
            rule &= titles
        if not rule:  # an empty rule is everyone (and Q() | x would be just x)
            return Q(is_active=True)
        return Q(is_active=True) & (rule | Q(extra_audiences=self))


class SignedInPage(Page):
    """Training pages need a signed-in (and so verified) learner; the rest of the site is public."""

    class Meta:
        abstract = True

    def serve(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            from django.contrib.auth.views import redirect_to_login

            return redirect_to_login(request.get_full_path())
        return self.serve_signed_in(request, *args, **kwargs)

    def serve_signed_in(self, request, *args, **kwargs):
        return super().serve(request, *args, **kwargs)


class ModuleIndexPage(SignedInPage):
    """The training catalogue: every module, the learner's own first."""

    intro = RichTextField(blank=True, features=["bold", "italic", "link"])

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    parent_page_types = ["cms.HomePage"]
    subpage_types = ["training.ModulePage"]
    max_count = 1

    def get_context(self, request, *args, **kwargs):
        from training.selectors import module_catalogue_for_user

        context = super().get_context(request, *args, **kwargs)
        context["catalogue"] = module_catalogue_for_user(user=request.user, index=self)
        return context


class ModuleTopic(TaggedItemBase):
    content_object = ParentalKey("training.ModulePage", related_name="tagged_topics")


class ModulePage(SignedInPage):
    """One module: its lessons are child pages; its version rises only when learners must retake."""

    summary = models.TextField(help_text="One or two sentences shown in the catalogue.")
    learning_outcomes = StreamField(
        [("outcome", blocks.CharBlock(max_length=250, icon="tick"))],
        help_text='Each finishes "By the end you can…".',
    )
    estimated_minutes = models.PositiveSmallIntegerField(default=20)
    audiences = ParentalManyToManyField(Audience, blank=True, related_name="modules")
    topics = ClusterTaggableManager(through=ModuleTopic, blank=True)
    owning_team = models.CharField(
        "owner", max_length=150, help_text="The team that keeps this module accurate."
    )
    review_by = models.DateField(null=True, blank=True)
    mandatory = models.BooleanField(default=False)
    version = models.PositiveIntegerField(default=1)
    change_note = models.TextField(
        blank=True, help_text="What changed in this version, for learners and auditors."
    )
    learners_must_retake = models.BooleanField(
        default=False,
        help_text="Tick when this change matters enough that learners must take the module "
        "again. Publishing then raises the version; past completions stay on record.",
    )

    content_panels = [
        *Page.content_panels,
        FieldPanel("summary"),
        FieldPanel("learning_outcomes"),
        FieldRowPanel([FieldPanel("estimated_minutes"), FieldPanel("mandatory")]),
        FieldPanel("audiences", widget=forms.CheckboxSelectMultiple),
        FieldPanel("topics"),
        FieldRowPanel([FieldPanel("owning_team"), FieldPanel("review_by")]),
        MultiFieldPanel(
            [
                FieldPanel("version", read_only=True),
                FieldPanel("change_note"),
                FieldPanel("learners_must_retake"),
            ],
            heading="Version",
        ),
    ]
    search_fields = [
        *Page.search_fields,
        index.SearchField("summary"),
        index.FilterField("mandatory"),
    ]

    parent_page_types = ["training.ModuleIndexPage"]
    subpage_types = ["training.LessonPage"]

    def get_context(self, request, *args, **kwargs):
        from training.selectors import module_completion_latest, module_progress_for_user

        context = super().get_context(request, *args, **kwargs)
        context["progress"] = module_progress_for_user(user=request.user, module=self)
        context["completion"] = module_completion_latest(user=request.user, module=self)
        # Other apps (quizzes) add the module's assessment through this hook, so that training
        # never imports them: each returns None or {"title", "url", "status", "action"}.
        context["assessments"] = [
            step
            for hook in hooks.get_hooks("training_module_assessment")
            if (step := hook(request=request, module=self, progress=context["progress"]))
        ]
        return context


class LessonPage(SignedInPage):
    """One short lesson. Opening it and marking it complete are recorded for the learner."""

    summary = models.CharField(max_length=250, help_text="One line shown in the lesson list.")
    estimated_minutes = models.PositiveSmallIntegerField(default=5)
    body = StreamField(LessonBlocks())

    content_panels = [
        *Page.content_panels,
        FieldPanel("summary"),
        FieldPanel("estimated_minutes"),
        FieldPanel("body"),
    ]
    search_fields = [*Page.search_fields, index.SearchField("summary"), index.SearchField("body")]

    parent_page_types = ["training.ModulePage"]
    subpage_types = []

    def get_context(self, request, *args, **kwargs):
        from training.selectors import module_progress_for_user

        context = super().get_context(request, *args, **kwargs)
        module = self.get_parent().specific
        progress = module_progress_for_user(user=request.user, module=module)
        context["module"] = module
        context["module_progress"] = progress
        context["previous_lesson"], context["next_lesson"] = progress.neighbours_of(self)
        context["lesson_done"] = progress.is_done(self)
        return context

    def serve_signed_in(self, request, *args, **kwargs):
        from training.views import lesson_serve

        return lesson_serve(request, lesson=self, render=super().serve_signed_in)


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


class AssignmentRule(models.Model):
    """Who must (or should) take a module, by when, and how long a completion lasts."""

    module = models.ForeignKey(
        ModulePage, on_delete=models.CASCADE, related_name="assignment_rules"
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
    retake_due_days = models.PositiveIntegerField(
        default=30,
        help_text="When the module changes and learners must retake, the new version is due "
        "this many days later.",
    )
    active = models.BooleanField(default=True)

    panels = [
        FieldRowPanel([FieldPanel("module"), FieldPanel("audience")]),
        FieldPanel("mandatory"),
        FieldRowPanel([FieldPanel("due_days"), FieldPanel("councillor_due_weeks")]),
        FieldRowPanel([FieldPanel("valid_months"), FieldPanel("reopen_days")]),
        FieldPanel("retake_due_days"),
        FieldPanel("active"),
    ]

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["module", "audience"], name="training_rule_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.module} for {self.audience}"


class AssignmentForm(WagtailAdminModelForm):
    """HR's edits: a new due date, or an exemption with its reason (who and when are recorded)."""

    def save(self, commit=True):
        assignment = super().save(commit=False)
        if "exempt_reason" in self.changed_data:
            if assignment.exempt_reason.strip():
                assignment.exempted_by = self.for_user
                assignment.exempted_at = timezone.now()
            else:
                assignment.exempted_by = assignment.exempted_at = None
        if commit:
            assignment.save()
        return assignment


class Status(models.TextChoices):
    """Where a person stands on an assignment: the one vocabulary for pages, reports, emails."""

    NOT_STARTED = "not-started", "Not started"
    IN_PROGRESS = "in-progress", "In progress"
    COMPLETED = "completed", "Completed"
    DUE_SOON = "due-soon", "Due soon"
    OVERDUE = "overdue", "Overdue"
    EXPIRED = "expired", "Expired"
    EXEMPT = "exempt", "Exempt"


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
    module = models.ForeignKey(ModulePage, on_delete=models.PROTECT, related_name="assignments")
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
    base_form_class = AssignmentForm
    panels = [FieldPanel("due_on"), FieldPanel("exempt_reason")]

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


@register_setting(icon="mail")
class ReminderSettings(BaseSiteSetting):
    """When and how often people are chased; where escalations for councillors go."""

    send_time = models.TimeField(default=time(7, 30), help_text="Europe/London time.")
    send_days = models.CharField(
        max_length=20,
        default="mon-fri",
        help_text='Days the sweep runs, as cron day-of-week: "mon-fri", "mon,wed,fri" or "*".',
    )
    due_soon_days = models.PositiveIntegerField(
        default=7, help_text="Remind this many days before an assignment is due."
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
    member_services_email = models.EmailField(blank=True)
    monitoring_officer_email = models.EmailField(blank=True)

    panels = [
        FieldRowPanel([FieldPanel("send_time"), FieldPanel("send_days")]),
        FieldRowPanel(
            [
                FieldPanel("due_soon_days"),
                FieldPanel("overdue_every_days"),
                FieldPanel("expiring_days"),
            ]
        ),
        FieldPanel("weekly_cap"),
        FieldRowPanel([FieldPanel("escalate_after_days"), FieldPanel("escalate_again_after_days")]),
        FieldPanel("member_services_email"),
        FieldPanel("monitoring_officer_email"),
    ]

    class Meta:
        verbose_name = "Reminders"


class SentMessage(models.Model):
    """Every reminder email, recorded before it is sent (append-only evidence).

    The unique key (recipient, kind, period) means no sweep, retry or second scheduler can send
    the same message twice.
    """

    class Kind(models.TextChoices):
        LEARNER = "learner", "Learner digest"
        MANAGER = "manager", "Line manager's team digest"
        SENIOR_MANAGER = "senior-manager", "Manager's manager digest"
        MEMBER_SERVICES = "member-services", "Member Services digest (councillors)"
        MONITORING_OFFICER = "monitoring-officer", "Monitoring Officer digest (councillors)"
        HR_SUMMARY = "hr-summary", "HR weekly summary"

    class State(models.TextChoices):
        PENDING = "pending", "Waiting to send"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed after retries"

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

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["recipient_email", "kind", "period"], name="training_message_once"
            ),
        ]
        indexes = [models.Index(fields=["recipient", "created_at"], name="training_msg_recipient")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.period}"


# HR REPORTS


@register_setting(icon="table")
class ReportSettings(BaseSiteSetting):
    """Where the monthly HR pack goes."""

    hr_mailbox = models.EmailField(
        "HR mailbox", blank=True, help_text="Gets the monthly HR pack (XLSX). Empty: not sent."
    )

    panels = [FieldPanel("hr_mailbox")]

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


class CountedGroup(models.Model):
    """Figures for one module and one group of people (same department, person type and
    audiences), counted ahead so HR reports read a few hundred rows, not every assignment.

    Written only by training.report_services.report_counts_refresh."""

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


class ComplianceCount(CountedGroup):
    """The compliance overview as counted at `counted_at` (every few minutes, by Celery beat)."""

    compliant = models.PositiveIntegerField()
    in_progress = models.PositiveIntegerField()
    not_started = models.PositiveIntegerField()
    overdue = models.PositiveIntegerField()
    expired = models.PositiveIntegerField()
    exempt = models.PositiveIntegerField()
    counted_at = models.DateTimeField()


class ComplianceWeek(CountedGroup):
    """The trend: who had to comply and who did at the end of a week (Sunday, local time).

    Counted once per week and kept, so the trend is a read of 52 weeks of small rows."""

    week_ending = models.DateField()
    must_comply = models.PositiveIntegerField()
    compliant = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["week_ending"], name="training_week_ending")]
