"""Wagtail admin wiring for training."""

from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.templatetags.static import static
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.panels import FieldPanel, ObjectList
from wagtail.permission_policies.pages import PagePermissionPolicy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from accounts.personal_data import PERSONAL_DATA_ERASE_HOOK, PERSONAL_DATA_HOOK
from cms.choosers import ListingPermissionChooserViewSet
from cms.menus import PermittedMenuItem
from training.assignment_admin import (
    AssignmentEditView,
    AssignmentFilterSet,
    AssignmentIndexView,
    AssignmentRuleIndexView,
    BulkExemptAction,
    BulkExtendAction,
)
from training.dashboard import ContentReviewPanel
from training.forms import AssignmentForm, ExemptionRequestDecisionForm
from training.import_admin import (
    IMPORT_PERMISSION,
    CompletionImportPreviewView,
    CompletionImportUploadView,
)
from training.models import (
    Assignment,
    AssignmentRule,
    Audience,
    ExemptionRequest,
    LessonPage,
    ModulePage,
    SentMessage,
)
from training.privacy import training_personal_data, training_personal_data_erase
from training.reminders.mailboxes import (
    MAILBOXES_PERMISSION,
    EscalationMailboxesView,
    escalation_mailboxes_panel,
)
from training.reports.admin import (
    REPORT_MENU,
    ScheduledReportViewSet,
    report_menu_hook,
    report_urls,
)
from training.selectors import (
    PARTNER_NOT_ASSIGNED,
    is_partner,
    lesson_module_shown,
    module_open_to_partner,
    page_is_open_to,
)
from training.tasks import report_counts_refresh_soon
from training.views import (
    home_page_context,
    learner_page_context,
    lesson_progress_record,
    reminder_preview,
    retake_request_withdraw_view,
    version_panel_context,
)

page_permission_policy = PagePermissionPolicy()


class AudienceViewSet(SnippetViewSet):
    model = Audience
    icon = "group"
    menu_label = "Audiences"
    list_display = ["name", "description"]
    search_fields = ["name", "description"]


@hooks.register("insert_global_admin_css")
def admin_css():
    """The classes our admin templates use instead of style attributes (see the CSP settings)."""
    return format_html('<link rel="stylesheet" href="{}">', static("training/admin.css"))


@hooks.register("construct_homepage_panels")
def content_review_panel(request, panels):
    """Editors (anyone who may edit pages) see what is due for review on the dashboard."""
    if page_permission_policy.user_has_permission(request.user, "change"):
        panels.append(ContentReviewPanel())


@hooks.register("before_serve_page", order=-1)
def refuse_restricted_pages_clearly(page, request, serve_args, serve_kwargs):
    """A signed-in learner outside a module's groups gets a clear "no access", not a login loop."""
    if request.user.is_authenticated and not page_is_open_to(user=request.user, page=page):
        raise PermissionDenied(
            "This module is only open to some roles, and yours is not one of them. "
            "Nothing has been recorded."
        )
    return None


@hooks.register("before_serve_page", order=0)
def refuse_partners_unassigned_modules(page, request, serve_args, serve_kwargs):
    """A partner or contractor opens only the modules assigned to them (and public ones)."""
    if not is_partner(request.user):
        return None
    module = page
    if isinstance(page, LessonPage):
        module = lesson_module_shown(lesson=page)
    if isinstance(module, ModulePage) and not module_open_to_partner(
        user=request.user, module=module
    ):
        raise PermissionDenied(PARTNER_NOT_ASSIGNED)
    return None


@hooks.register("before_serve_page", order=100)
def record_lesson_progress(page, request, serve_args, serve_kwargs):
    """Opening a lesson records it; its "Complete" form marks it done (after access checks)."""
    if isinstance(page, LessonPage) and request.user.is_authenticated:
        return lesson_progress_record(request, lesson=page)
    return None


@hooks.register("training_page_context")
def learner_context(page, request):
    return learner_page_context(page=page, request=request)


@hooks.register("aware_home_page_context")
def learner_home_context(page, request):
    return home_page_context(request=request)


class AssignmentRuleViewSet(SnippetViewSet):
    model = AssignmentRule
    icon = "calendar-check"
    menu_label = "Assignment rules"
    index_view_class = AssignmentRuleIndexView
    index_template_name = "training/assignment_rules/index.html"
    list_display = ["module", "audience", "mandatory", "due_days", "valid_months", "active"]
    list_filter = ["mandatory", "active", "audience"]


class AssignmentViewSet(SnippetViewSet):
    """HR's list of who must take what: search by person, filters, bulk exempt and extend."""

    model = Assignment
    icon = "date"
    chooser_viewset_class = ListingPermissionChooserViewSet
    menu_label = "Assignments"
    index_view_class = AssignmentIndexView
    edit_view_class = AssignmentEditView
    edit_template_name = "training/assignments/edit.html"
    filterset_class = AssignmentFilterSet
    search_fields = ["user__full_name", "user__email", "user__employee_number"]
    list_per_page = 50
    edit_handler = ObjectList(
        [FieldPanel("due_on"), FieldPanel("exempt_reason")], base_form_class=AssignmentForm
    )

    def get_queryset(self, request):
        return Assignment.objects.with_status(timezone.now()).select_related(
            "user__department", "module"
        )


for _action in (BulkExemptAction, BulkExtendAction):
    hooks.register("register_bulk_action", _action)


@hooks.register("after_create_snippet")
@hooks.register("after_edit_snippet")
def report_counts_after_edit(request, instance):
    """HR changed a due date or an exemption, or someone changed who is in an audience: the
    report pages' figures are counted again soon."""
    if isinstance(instance, Assignment | Audience):
        report_counts_refresh_soon()


class ExemptionRequestViewSet(SnippetViewSet):
    """Line managers' requests from My team: HR opens one and approves or refuses it."""

    model = ExemptionRequest
    icon = "help"
    chooser_viewset_class = ListingPermissionChooserViewSet
    menu_label = "Exemption requests"
    list_display = ["__str__", "requested_by", "requested_at", "state"]
    list_filter = ["state"]
    inspect_view_enabled = True
    edit_handler = ObjectList(
        [
            FieldPanel("reason", read_only=True),
            FieldPanel("state"),
            FieldPanel("decision_note"),
        ],
        base_form_class=ExemptionRequestDecisionForm,
    )

    def get_queryset(self, request):
        return ExemptionRequest.objects.select_related(
            "assignment__user", "assignment__module", "requested_by"
        ).order_by("-requested_at")


class SentMessageViewSet(SnippetViewSet):
    """The reminder log: HR looks up what was sent to whom (read-only evidence)."""

    model = SentMessage
    icon = "mail"
    chooser_viewset_class = ListingPermissionChooserViewSet
    menu_label = "Reminder log"
    list_display = ["recipient_email", "kind", "period", "state", "sent_at"]
    list_filter = ["kind", "state"]
    search_fields = ["recipient_email"]
    inspect_view_enabled = True


class TrainingGroup(SnippetViewSetGroup):
    """One "Training" menu for who must take what and what they were sent (like "Quizzes")."""

    menu_label = "Training"
    menu_icon = "calendar-check"
    menu_order = 320
    items = (
        AudienceViewSet,
        AssignmentRuleViewSet,
        AssignmentViewSet,
        ExemptionRequestViewSet,
        SentMessageViewSet,
    )

    def get_submenu_items(self):
        return [
            *super().get_submenu_items(),
            MenuItem(
                "Email previews",
                reverse("training_reminder_previews"),
                icon_name="view",
                order=10,
            ),
        ]


register_snippet(TrainingGroup)
register_snippet(ScheduledReportViewSet)


@hooks.register("register_permissions")
def reminder_permissions():
    return Permission.objects.filter(
        content_type__app_label="training", codename__in=["view_sentmessage"]
    )


@hooks.register("register_admin_urls")
def reminder_preview_urls():
    return [path("reminder-previews/", reminder_preview, name="training_reminder_previews")]


@hooks.register("register_admin_urls")
def escalation_mailboxes_urls():
    return [
        path(
            "escalation-mailboxes/",
            EscalationMailboxesView.as_view(),
            name="training_escalation_mailboxes",
        )
    ]


@hooks.register("register_admin_menu_item")
def escalation_mailboxes_menu_item():
    """For Member Services (and administrators)."""
    return PermittedMenuItem(
        "Escalation mailboxes",
        reverse("training_escalation_mailboxes"),
        icon_name="mail",
        order=260,
        permissions=(MAILBOXES_PERMISSION,),
    )


@hooks.register("register_permissions")
def escalation_mailboxes_permissions():
    """So an administrator can give "set the escalation mailboxes" to a role in the admin."""
    return Permission.objects.filter(
        content_type__app_label="training", codename="change_escalation_mailboxes"
    )


hooks.register("construct_homepage_panels", escalation_mailboxes_panel)


@hooks.register("register_admin_urls")
def completions_import_urls():
    return [
        path(
            "completions/import/",
            CompletionImportUploadView.as_view(),
            name="training_completions_import",
        ),
        path(
            "completions/import/<str:token>/",
            CompletionImportPreviewView.as_view(),
            name="training_completions_import_preview",
        ),
    ]


@hooks.register("register_permissions")
def completions_import_permissions():
    """So an administrator can give Import completions to a group in the admin."""
    return Permission.objects.filter(
        content_type__app_label="training", codename__in=["add_modulecompletion"]
    )


@hooks.register("register_admin_menu_item")
def completions_import_menu_item():
    """Next to "Import people", for HR."""
    return PermittedMenuItem(
        "Import completions",
        reverse("training_completions_import"),
        icon_name="upload",
        order=251,
        permissions=(IMPORT_PERMISSION,),
    )


# HR REPORTS: views in training/reports/views.py, in Wagtail's "Reports" submenu.
for _item in REPORT_MENU:
    hooks.register("register_reports_menu_item", report_menu_hook(*_item))
hooks.register("register_admin_urls", report_urls)


@hooks.register("training_version_panel_context")
def module_version_panel_context(module):
    return version_panel_context(module=module)


@hooks.register("register_admin_urls")
def retake_request_urls():
    return [
        path(
            "modules/<int:module_id>/retake-request/withdraw/",
            retake_request_withdraw_view,
            name="training_retake_request_withdraw",
        )
    ]


hooks.register(PERSONAL_DATA_HOOK, training_personal_data, order=10)
hooks.register(PERSONAL_DATA_ERASE_HOOK, training_personal_data_erase, order=10)
