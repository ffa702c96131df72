"""HR's Assignments listing in the admin: search, filters, each row naming the person and the
module, and bulk exempt and bulk extend with a reason (through the services)."""

import django_filters
from django import forms
from django.contrib.admin.utils import quote
from django.db import transaction
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.text import capfirst
from wagtail.admin.auth import permission_denied
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.ui.tables import BulkActionsCheckboxColumn, Column, DateColumn, TitleColumn
from wagtail.snippets.bulk_actions.snippet_bulk_action import SnippetBulkAction
from wagtail.snippets.views.snippets import EditView, IndexView

from accounts.models import Department
from training.models import Assignment, ModulePage, Status
from training.reports.filters import DepartmentChoiceField, department_names
from training.services.assignments import assignment_due_date_extend
from training.services.exemptions import assignment_exempt
from training.services.yearly_load import yearly_load
from training.tasks import report_counts_refresh_soon

CHANGE_PERMISSION = "training.change_assignment"

STATUS_FILTERS = [
    (Status.OVERDUE, "Overdue"),
    (Status.DUE_SOON, "Due soon"),
    (Status.IN_PROGRESS, "In progress"),
    (Status.NOT_STARTED, "Not started"),
    (Status.COMPLETED, "Completed"),
    (Status.EXPIRED, "Expired"),
    (Status.EXEMPT, "Exempt"),
]
STATUS_LABELS = dict(Status.choices)


def assignment_name(assignment: Assignment) -> str:
    """ "Alex Ali (alex.ali@…): Modern slavery", for the admin's headings (never logged)."""
    return f"{assignment.user.full_name} ({assignment.user.email}): {assignment.module.title}"


def assignment_status_label(assignment: Assignment) -> str:
    if assignment.closed_at is not None:
        return f"Closed ({assignment.get_closed_reason_display() or 'no reason'})"
    return STATUS_LABELS.get(getattr(assignment, "status", ""), "")


class DepartmentFilter(django_filters.ModelChoiceFilter):
    field_class = DepartmentChoiceField


class AssignmentFilterSet(WagtailFilterSet):
    department = DepartmentFilter(
        queryset=Department.objects.order_by("path"),
        label="Department (and the services below it)",
        method="filter_department",
    )
    module = django_filters.ModelChoiceFilter(
        queryset=ModulePage.objects.order_by("path"), label="Module"
    )
    status = django_filters.ChoiceFilter(
        choices=STATUS_FILTERS, label="Status (open assignments)", method="filter_status"
    )
    due_on = django_filters.DateFromToRangeFilter(label="Due between", widget=DateRangePickerWidget)
    mandatory = django_filters.BooleanFilter(label="Mandatory")

    class Meta:
        model = Assignment
        fields = ["department", "module", "status", "due_on", "mandatory"]

    def filter_department(self, queryset, name, value):
        return queryset.filter(user__department__path__startswith=value.path)

    def filter_status(self, queryset, name, value):
        return queryset.filter(closed_at__isnull=True, status=value)


class AssignmentIndexView(IndexView):
    """Each row: the person (name, email, employee number), module, department, due date and
    status; a page costs the same number of queries however many rows there are."""

    @cached_property
    def department_names(self) -> dict:
        return department_names()

    def department_of(self, assignment: Assignment) -> str:
        department = assignment.user.department
        return self.department_names.get(department.path, ("",))[0] if department else "—"

    @cached_property
    def columns(self):
        title = self._get_title_column_class(TitleColumn)(
            "person",
            label="Person",
            accessor=lambda a: a.user.full_name or a.user.email,
            get_url=self.get_edit_url,
            get_title_id=lambda a: f"snippet_{quote(a.pk)}_title",
            sort_key="user__full_name",
        )
        return [
            BulkActionsCheckboxColumn("bulk_actions", obj_type="snippet"),
            title,
            Column("email", label="Email", accessor="user.email"),
            Column(
                "employee_number",
                label="Employee number",
                accessor=lambda a: a.user.employee_number or "—",
            ),
            Column("module", label="Module", accessor="module.title", sort_key="module__title"),
            Column("department", label="Department", accessor=self.department_of),
            DateColumn("due_on", label="Due", sort_key="due_on"),
            Column("status", label="Status", accessor=assignment_status_label),
        ]


class AssignmentEditView(EditView):
    """The edit (and exemption) page names the person and the module, not "assignment 33641"."""

    def get_page_subtitle(self):
        return assignment_name(self.object)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        names = department_names()
        department = self.object.user.department
        context["department"] = names.get(department.path, ("",))[0] if department else ""
        return context


class ExemptForm(forms.Form):
    reason = forms.CharField(
        label="Reason for the exemption",
        help_text="Recorded on each assignment and in the audit trail.",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Give a reason for the exemption."},
    )

    def __init__(self, *args, assignments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.assignments = assignments

    def clean(self):
        if not self.assignments:
            raise forms.ValidationError(
                "No assignments are selected: go back and tick the rows to change."
            )
        closed = [a for a in self.assignments if a.closed_at is not None]
        if closed:
            raise forms.ValidationError(
                f"{len(closed)} of the selected assignments are closed and cannot change: "
                "go back and leave them out."
            )
        return super().clean()


class ExtendForm(ExemptForm):
    new_due_on = forms.DateField(
        label="New due date",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={
            "required": "Give the new due date.",
            "invalid": "Enter the new due date as a real date.",
        },
    )
    field_order = ["new_due_on", "reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].label = "Reason for the extension"
        self.fields["reason"].error_messages["required"] = "Give a reason for the extension."

    def clean(self):
        cleaned = super().clean()
        new_due_on = cleaned.get("new_due_on")
        if new_due_on is not None:
            if new_due_on <= timezone.localdate():
                self.add_error("new_due_on", "The new due date must be in the future.")
            elif later := [a for a in self.assignments if a.due_on >= new_due_on]:
                self.add_error(
                    "new_due_on",
                    f"{len(later)} of the selected assignments are already due on or after "
                    f"{new_due_on:%-d %B %Y}: choose a later date or leave them out.",
                )
        return cleaned


class AssignmentBulkAction(SnippetBulkAction):
    """Acts on the rows HR ticked (never "all in the listing": a page at a time at most)."""

    models = [Assignment]
    template_name = "training/assignments/bulk_action.html"
    action_priority = 20

    @classmethod
    def get_queryset(cls, model, object_ids):
        ids = [i for i in object_ids if str(i).isdigit()]
        return list(
            model.objects.filter(pk__in=ids)
            .select_related("user", "module")
            .order_by("user__full_name", "pk")
        )

    def get_all_objects_in_listing_query(self, parent_id):
        return []

    def check_perm(self, obj):
        return self.request.user.has_perm(CHANGE_PERMISSION)

    def object_context(self, snippet):
        return {"item": snippet, "name": assignment_name(snippet)}

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "assignments": self.get_actionable_objects()[0]}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "action": self}

    def dispatch(self, request, *args, **kwargs):
        # Refused before any name is shown: the confirmation page lists the people.
        if not request.user.has_perm(CHANGE_PERMISSION):
            return permission_denied(request)
        return super().dispatch(request, *args, **kwargs)

    def get_execution_context(self):
        return {
            **self.cleaned_form.cleaned_data,
            "by": self.request.user,
            "action": self,
        }


class BulkExemptAction(AssignmentBulkAction):
    display_name = "Exempt"
    action_type = "exempt"
    aria_label = "Exempt the selected people from these assignments"
    form_class = ExemptForm
    button_label = "Exempt them"
    heading = "Exempt from training"

    @classmethod
    def execute_action(cls, objects, *, reason="", by=None, **kwargs):
        for assignment in objects:
            assignment_exempt(assignment=assignment, reason=reason, by=by)
        return len(objects), 0

    def get_success_message(self, num_parent_objects, num_child_objects):
        return f"{num_parent_objects} {self._noun(num_parent_objects)} exempted."

    @staticmethod
    def _noun(n: int) -> str:
        return "assignment" if n == 1 else "assignments"


class BulkExtendAction(AssignmentBulkAction):
    display_name = "Extend due date"
    action_type = "extend"
    aria_label = "Extend the due date of the selected assignments"
    form_class = ExtendForm
    button_label = "Extend the due date"
    heading = "Extend the due date"

    @classmethod
    def execute_action(cls, objects, *, new_due_on=None, reason="", by=None, **kwargs):
        with transaction.atomic():  # all of them or, if one is refused, none
            for assignment in objects:
                assignment_due_date_extend(
                    assignment=assignment, new_due_on=new_due_on, reason=reason, by=by
                )
        report_counts_refresh_soon()
        return len(objects), 0

    def get_success_message(self, num_parent_objects, num_child_objects):
        new_due_on = self.cleaned_form.cleaned_data["new_due_on"]
        return capfirst(
            f"{num_parent_objects} {BulkExemptAction._noun(num_parent_objects)} now due on "
            f"{new_due_on:%-d %B %Y}."
        )


class AssignmentRuleIndexView(IndexView):
    """The rules, and above them what they ask of people: each audience's mandatory and
    recommended minutes (first year, later years) and the heaviest kind of person of each type
    against the limit (training.services.yearly_load)."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if not self.results_only:
            context["yearly_load"] = yearly_load()
        return context
