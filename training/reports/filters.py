"""The filters every HR report takes, and the assignments they select."""

from dataclasses import dataclass
from datetime import date, datetime

from django import forms
from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.models import Department, PersonType, User
from training.models import (
    Assignment,
    Audience,
    CompletionSource,
    ModuleCompletion,
    ModulePage,
    Status,
)

NO_DEPARTMENT = "No department (councillors and others)"
NO_DEPARTMENT_PARAM = "none"  # ?department=none: the people with no department


class DepartmentChoiceField(forms.ModelChoiceField):
    """Departments by full name ("Place > Highways"), all named from one query."""

    def label_from_instance(self, obj: Department) -> str:
        if not hasattr(self, "names"):
            self.names = department_names()
        return self.names[obj.path][0]


class ReportFilterForm(forms.Form):
    """The filters every report takes, from the query string."""

    department = DepartmentChoiceField(
        queryset=Department.objects.order_by("path"), required=False, empty_label="All departments"
    )
    audience = forms.ModelChoiceField(
        queryset=Audience.objects.prefetch_related("departments"),
        required=False,
        empty_label="All audiences",
    )
    module = forms.ModelChoiceField(
        queryset=ModulePage.objects.order_by("path"), required=False, empty_label="All modules"
    )
    person_type = forms.ChoiceField(
        choices=[("", "All people"), *PersonType.choices], required=False
    )
    organisation = forms.ChoiceField(
        label="Organisation", required=False, help_text="Partners and contractors"
    )
    status = forms.ChoiceField(choices=[("", "Any status"), *Status.choices], required=False)
    source = forms.ChoiceField(
        label="Completed",
        choices=[("", "Any way"), *CompletionSource.choices],
        required=False,
        help_text="Only people whose completion came this way (a toolbox talk, say).",
    )
    due_from = forms.DateField(
        label="Due from", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    due_to = forms.DateField(
        label="Due to", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, councillors_only: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.councillors_only = councillors_only
        if councillors_only:
            del self.fields["person_type"]
            del self.fields["department"]
            del self.fields["organisation"]
        else:
            self.fields["organisation"].choices = [
                ("", "All organisations"),
                *((name, name) for name in organisations_list()),
            ]

    def to_filters(self) -> "ReportFilters":
        data = self.cleaned_data if self.is_valid() else {}
        return ReportFilters(
            department=data.get("department"),
            audience=data.get("audience"),
            module=data.get("module"),
            person_type=data.get("person_type", ""),
            organisation=data.get("organisation", ""),
            status=data.get("status", ""),
            source=data.get("source", ""),
            due_from=data.get("due_from"),
            due_to=data.get("due_to"),
            councillors_only=self.councillors_only,
        )


@dataclass(frozen=True)
class ReportFilters:
    department: Department | None = None
    audience: Audience | None = None
    module: ModulePage | None = None
    person_type: str = ""
    organisation: str = ""  # a partner's or contractor's (accounts.partners)
    status: str = ""
    source: str = ""  # a CompletionSource: the completion the assignment's dates came from
    due_from: date | None = None
    due_to: date | None = None
    councillors_only: bool = False


def organisations_list() -> list[str]:
    """The organisations of active partners and contractors, by name: one query."""
    return list(
        User.objects.filter(is_active=True)
        .exclude(organisation="")
        .order_by("organisation")
        .values_list("organisation", flat=True)
        .distinct()
    )


def report_filters_from_params(*, params: dict, councillors_only: bool) -> ReportFilters:
    """Filters from a query string kept as a dict (as a queued export stores them)."""
    return ReportFilterForm(params, councillors_only=councillors_only).to_filters()


def people_filter(filters: ReportFilters) -> Q:
    """The filters that are about the person, as a filter on assignments."""
    q = Q(user__is_active=True)
    if filters.councillors_only:
        q &= Q(user__person_type=PersonType.COUNCILLOR)
    elif filters.person_type:
        q &= Q(user__person_type=filters.person_type)
    if filters.department is not None:
        q &= Q(user__department__path__startswith=filters.department.path)
    if filters.organisation and not filters.councillors_only:
        q &= Q(user__organisation=filters.organisation)
    if filters.audience is not None:
        # A subquery, so a person matching the rule and named as an extra member counts once.
        q &= Q(user__in=User.objects.filter(filters.audience.member_filter()).values("pk"))
    if filters.module is not None:
        q &= Q(module=filters.module)
    if filters.source:
        q &= Q(Exists(completion_from_source(filters.source)))
    return q


def completion_from_source(source: str) -> QuerySet:
    """For an assignment (OuterRef): the completion its dates came from, if it came `source`'s
    way (the record with the same person, module and completion moment)."""
    return ModuleCompletion.objects.filter(
        user=OuterRef("user"),
        module=OuterRef("module"),
        completed_at=OuterRef("completed_at"),
        source=source,
    )


def report_assignments(*, filters: ReportFilters, now: datetime) -> QuerySet:
    """Open assignments of active people matching the filters, each with its `status`."""
    queryset = Assignment.objects.open().with_status(now).filter(people_filter(filters))
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.due_from:
        queryset = queryset.filter(due_on__gte=filters.due_from)
    if filters.due_to:
        queryset = queryset.filter(due_on__lte=filters.due_to)
    return queryset


def department_names() -> dict[str, tuple[str, int, int]]:
    """Every department's path -> (full name, depth, id): one query."""
    names: dict[str, tuple[str, int, int]] = {}
    for pk, path, name, depth in Department.objects.order_by("path").values_list(
        "pk", "path", "name", "depth"
    ):
        parent = names.get(path[: -Department.steplen])
        names[path] = (f"{parent[0]} > {name}" if parent else name, depth, pk)
    return names


# Each overview column as a filter on assignments annotated with `status` ("due soon" with a
# valid completion is a renewal window, so compliant; without one, in progress or not started),
# the same split as live.OVERVIEW_AGGREGATES, so a figure's list has as many rows as the figure.
_DUE_SOON = Q(status=Status.DUE_SOON)
CATEGORY_FILTERS = {
    "compliant": Q(status=Status.COMPLETED) | (_DUE_SOON & Q(completed_at__isnull=False)),
    "in_progress": Q(status=Status.IN_PROGRESS)
    | (_DUE_SOON & Q(completed_at__isnull=True, started_at__isnull=False)),
    "not_started": Q(status=Status.NOT_STARTED)
    | (_DUE_SOON & Q(completed_at__isnull=True, started_at__isnull=True)),
    "overdue": Q(status=Status.OVERDUE),
    "expired": Q(status=Status.EXPIRED),
    "exempt": Q(status=Status.EXEMPT),
}


def department_from_param(value: str) -> Department | str | None:
    """?department= as the drill-down reads it: a department, NO_DEPARTMENT_PARAM, or None."""
    if value == NO_DEPARTMENT_PARAM:
        return value
    if value.isdigit():
        return Department.objects.filter(pk=value).first()
    return None
