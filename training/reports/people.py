"""People lists: the overdue list, one person's record and finding a person."""

from dataclasses import dataclass, replace
from datetime import datetime

from django.db.models import OuterRef, Q, QuerySet, Subquery
from wagtail.models import Page

from accounts.models import PersonType, User
from training.models import Assignment, LessonProgress, ModuleCompletion, QuizPass, Status
from training.reports.filters import (
    CATEGORY_FILTERS,
    ReportFilters,
    department_names,
    report_assignments,
)

OVERDUE_VALUES = (
    "pk",
    "user_id",
    "user__full_name",
    "user__email",
    "user__employee_number",
    "user__department__path",
    "user__line_manager__full_name",
    "module_title",
    "due_on",
)


def overdue_assignments(*, filters: ReportFilters, now: datetime) -> QuerySet:
    """Overdue assignments, longest overdue first and one person's modules together, as tuples
    of OVERDUE_VALUES (plain values keep a full export fast and its memory flat)."""
    if filters.status and filters.status != Status.OVERDUE:
        return Assignment.objects.none().values_list("pk")
    return (
        report_assignments(filters=replace(filters, status=""), now=now)
        .overdue(now)
        # The title looked up by the module's page id, not joined through module__title (the
        # module page, then its page): the capped count, reading only the key, then joins
        # nothing about modules, and is planned as the hand-written SQL is.
        .annotate(
            module_title=Subquery(Page.objects.filter(pk=OuterRef("module_id")).values("title"))
        )
        .order_by("due_on", "user_id", "pk")
        .values_list(*OVERDUE_VALUES)
    )


FIGURE_VALUES = (
    "pk",
    "user_id",
    "user__full_name",
    "user__email",
    "user__employee_number",
    "user__department__path",
    "module__title",
    "due_on",
    "status",
)


def figure_assignments(
    *, filters: ReportFilters, category: str, no_department: bool, now: datetime
) -> QuerySet:
    """The assignments behind one figure of the overview (a column of a row; every column for
    "assigned"), by person, as tuples of FIGURE_VALUES."""
    queryset = report_assignments(filters=filters, now=now)
    if category:
        queryset = queryset.filter(CATEGORY_FILTERS[category])
    if no_department:
        queryset = queryset.filter(user__department__isnull=True)
    return queryset.order_by("user__full_name", "user_id", "pk").values_list(*FIGURE_VALUES)


@dataclass
class PersonRecord:
    person: User
    department: str
    assignments: list[Assignment]
    closed_assignments: list[Assignment]
    completions: list[ModuleCompletion]
    quiz_passes: list[QuizPass]
    lessons: list[LessonProgress]


def person_record(*, person: User, now: datetime) -> PersonRecord:
    """Everything held on one person's training (HR queries, subject access): six queries."""
    open_assignments = list(
        Assignment.objects.open()
        .with_status(now)
        .filter(user=person)
        .select_related("module", "exempted_by")
        .order_by("due_on")
    )
    closed = list(
        Assignment.objects.filter(user=person, closed_at__isnull=False)
        .select_related("module")
        .order_by("-closed_at")
    )
    completions = list(
        ModuleCompletion.objects.filter(user=person)
        .select_related("module")
        .order_by("-completed_at")
    )
    passes = list(
        QuizPass.objects.filter(user=person).select_related("module").order_by("-passed_at")
    )
    lessons = list(
        LessonProgress.objects.filter(user=person)
        .select_related("lesson", "module")
        .order_by("module__path", "lesson__path")
    )
    department = ""
    if person.department_id:
        department = department_names().get(person.department.path, ("",))[0]
    return PersonRecord(person, department, open_assignments, closed, completions, passes, lessons)


def people_matching(*, text: str, councillors_only: bool, limit: int = 25) -> list[User]:
    """People whose name, email or employee number contains the text: one query."""
    people = User.objects.filter(
        Q(full_name__icontains=text) | Q(email__icontains=text) | Q(employee_number=text)
    )
    if councillors_only:
        people = people.filter(person_type=PersonType.COUNCILLOR)
    return list(people.select_related("department").order_by("full_name")[:limit])
