"""The training pages: the catalogue, a module and its lessons (fields, panels and tree rules)."""

from django import forms
from django.db import models
from django.utils import timezone
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey, ParentalManyToManyField
from taggit.models import TaggedItemBase
from wagtail import blocks, hooks
from wagtail.admin.forms import WagtailAdminPageForm
from wagtail.admin.panels import FieldPanel, FieldRowPanel, HelpPanel, MultiFieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page, PageViewRestriction
from wagtail.search import index

from cms.site_cache import cached
from training.blocks import LessonBlocks, SourceBlock
from training.models.audiences import Audience


class SignedInPage(Page):
    """Training pages need a signed-in (and so verified) learner; the rest of the site is public.

    What they show the learner comes from the `training_page_context` hook, and what opening or
    completing a lesson records from a `before_serve_page` hook, both wired in
    training/wagtail_hooks.py: page models import no views, services or selectors."""

    class Meta:
        abstract = True

    def open_without_sign_in(self) -> bool:
        """Whether anyone may read this page without signing in: a public module and its
        lessons (ModulePage.public)."""
        return False

    def serve(self, request, *args, **kwargs):
        if not request.user.is_authenticated and not self.open_without_sign_in():
            from django.contrib.auth.views import redirect_to_login

            return redirect_to_login(request.get_full_path())
        return super().serve(request, *args, **kwargs)

    def get_view_restrictions(self):
        """The view restrictions on this page and its ancestors (an alias's source standing for
        the alias, as in Wagtail), with their groups: kept in the site cache (cms.site_cache
        forgets them when a restriction or its groups change, or a page moves) and on this
        instance, as Wagtail's own check and ours (training.selectors.page_is_open_to) both ask
        per request. A queryset, as Wagtail's API promises (its admin calls exists() and
        order_by() on it), evaluated: iterating it again, or exists(), reads its result cache."""
        if not hasattr(self, "_aware_view_restrictions"):
            self._aware_view_restrictions = cached(
                ("restrictions", self.path), self._view_restrictions_read
            )
        return self._aware_view_restrictions

    def _view_restrictions_read(self):
        paths = [self.path[:end] for end in range(self.steplen, len(self.path) + 1, self.steplen)]
        on_tree = models.Q(page__path__in=paths, page__alias_of__isnull=True)
        restrictions = (
            PageViewRestriction.objects.filter(on_tree | models.Q(page__aliases__path__in=paths))
            .distinct()
            .prefetch_related("groups")
        )
        len(restrictions)  # evaluates it, filling its result cache (and the groups')
        return restrictions

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        for hook in hooks.get_hooks("training_page_context"):
            context.update(hook(page=self, request=request))
        return context


class VersionStatusPanel(HelpPanel):
    """The Version panel's read-out for editors and approvers: what publishing would do (how many
    people would be asked to update, how many certificates stay valid and until when). Its
    figures come from the `training_version_panel_context` hook (training/wagtail_hooks.py), as
    page models import no selectors."""

    def __init__(self, **kwargs):
        kwargs.setdefault("template", "training/admin/version_status_panel.html")
        kwargs.setdefault("heading", "What publishing will do")
        super().__init__(**kwargs)

    class BoundPanel(HelpPanel.BoundPanel):
        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            for hook in hooks.get_hooks("training_version_panel_context"):
                context.update(hook(module=self.instance))
            return context


class ModulePageForm(WagtailAdminPageForm):
    """The Version panel offers only this module's own lessons as "changed"; a review-by date
    an editor sets must not be in the past."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("changed_lessons")
        if field is not None:
            lessons = LessonPage.objects.none()
            if self.instance.pk:
                lessons = LessonPage.objects.child_of(self.instance).order_by("path")
            field.queryset = lessons

    def clean_review_by(self):
        """Refuse a past date when the editor sets or changes it. A module whose date has passed
        since it was set keeps it through edits of other fields (its owner and the editors are
        reminded weekly), so publishing an urgent fix never waits on a review."""
        review_by = self.cleaned_data.get("review_by")
        if review_by and "review_by" in self.changed_data and review_by < timezone.localdate():
            raise forms.ValidationError(
                "The review-by date must be today or in the future. Enter the date by which "
                "someone will next check this module."
            )
        return review_by

    def clean(self):
        """A public module is for anyone, so it is assigned to nobody: no audiences."""
        cleaned_data = super().clean()
        if cleaned_data.get("public") and cleaned_data.get("audiences"):
            self.add_error(
                "audiences",
                "A public module is open to everyone and assigned to nobody, so it has no "
                "audiences. Untick the audiences, or untick “Public”.",
            )
        return cleaned_data


class ModuleIndexPage(SignedInPage):
    """The training catalogue: every module, the learner's own first."""

    intro = RichTextField(blank=True, features=["bold", "italic", "link"])

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    parent_page_types = ["cms.HomePage"]
    subpage_types = ["training.ModulePage"]
    max_count = 1


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
    owner_email = models.EmailField(
        "owner's email",
        blank=True,
        help_text="Where learners can ask for help, for example when they have used their "
        "attempts. Leave empty to show the council's support email.",
    )
    review_by = models.DateField(null=True, blank=True)
    mandatory = models.BooleanField(default=False)
    public = models.BooleanField(
        default=False,
        help_text="Anyone may read this module and its lessons without signing in (residents, "
        "partner agencies). Nothing is recorded about who reads it, and it has no audiences, "
        "assignment rules or quiz.",
    )
    version = models.PositiveIntegerField(default=1)
    change_note = models.TextField(
        blank=True, help_text="What changed in this version, for learners and auditors."
    )
    learners_must_retake = models.BooleanField(
        default=False,
        help_text="Tick when this change matters enough that learners must take the module "
        "again. Publishing then raises the version; past completions stay on record.",
    )
    changed_lessons = ParentalManyToManyField(
        "training.LessonPage",
        blank=True,
        related_name="+",
        verbose_name="lessons changed in this version",
        help_text="When learners must retake: tick the lessons this change affects. People who "
        "completed an earlier version then read only those again and take a short quiz on them. "
        "Tick none and everyone takes the whole module again.",
    )
    update_by_days = models.PositiveIntegerField(
        "update by (days)",
        default=60,
        help_text="When learners must retake: people who completed an earlier version stay "
        "up to date until this many days after publishing (or until their completion expires, "
        "if sooner), and the new version is due then.",
    )

    content_panels = [
        *Page.content_panels,
        FieldPanel("summary"),
        FieldPanel("learning_outcomes"),
        FieldRowPanel(
            [FieldPanel("estimated_minutes"), FieldPanel("mandatory"), FieldPanel("public")]
        ),
        FieldPanel("audiences", widget=forms.CheckboxSelectMultiple),
        FieldPanel("topics"),
        FieldRowPanel([FieldPanel("owning_team"), FieldPanel("owner_email")]),
        FieldPanel("review_by"),
        MultiFieldPanel(
            [
                FieldPanel("version", read_only=True),
                FieldPanel("change_note"),
                FieldPanel("learners_must_retake"),
                FieldPanel("changed_lessons", widget=forms.CheckboxSelectMultiple),
                FieldPanel("update_by_days"),
                VersionStatusPanel(),
            ],
            heading="Version",
        ),
    ]
    search_fields = [
        *Page.search_fields,
        index.SearchField("summary"),
        index.FilterField("mandatory"),
    ]

    base_form_class = ModulePageForm
    parent_page_types = ["training.ModuleIndexPage"]
    subpage_types = ["training.LessonPage"]

    def open_without_sign_in(self) -> bool:
        return self.public


class LessonPage(SignedInPage):
    """One short lesson. Opening it and marking it complete are recorded for the learner."""

    summary = models.CharField(max_length=250, help_text="One line shown in the lesson list.")
    estimated_minutes = models.PositiveSmallIntegerField(default=5)
    body = StreamField(LessonBlocks())
    last_reviewed = models.DateField(
        null=True,
        blank=True,
        help_text="When someone last checked the lesson against the law and its sources.",
    )
    refresher = models.BooleanField(
        "refresher lesson",
        default=False,
        help_text="Only for people renewing the module (their completion has expired or is "
        "about to): a short “what is new and what matters” read in place of the "
        "whole module, before a fresh set of questions. People taking the module for the first "
        "time do not see it in their lessons.",
    )
    sources = StreamField(
        [("source", SourceBlock())],
        blank=True,
        help_text="The primary sources the lesson rests on (legislation.gov.uk, GOV.UK, NCA…).",
    )

    content_panels = [
        *Page.content_panels,
        FieldPanel("summary"),
        FieldRowPanel([FieldPanel("estimated_minutes"), FieldPanel("refresher")]),
        FieldPanel("body"),
        MultiFieldPanel(
            [FieldPanel("sources"), FieldPanel("last_reviewed")], heading="Sources and review"
        ),
    ]
    search_fields = [*Page.search_fields, index.SearchField("summary"), index.SearchField("body")]

    parent_page_types = ["training.ModulePage"]
    subpage_types = []

    def open_without_sign_in(self) -> bool:
        return ModulePage.objects.parent_of(self).filter(public=True).exists()
