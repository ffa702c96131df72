"""HR report pages in the Wagtail admin (thin: parse the filters, call one selector, render)."""

import io
from dataclasses import replace

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.generic import TemplateView
from wagtail import hooks
from wagtail.admin.paginator import WagtailPaginator
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.reports import ReportView

from accounts.models import Department, PersonType, User
from cms.selectors import search_text
from training.models import Assignment, CompletionSource, ReportExport, ScheduledReport, Status
from training.reminders.selectors import reminders_last_sent
from training.reports.charts import bar_chart, line_chart
from training.reports.exports import (
    ASYNC_EXPORT_ROWS,
    XLSX_TYPE,
    ExportUnavailable,
    csv_chunks,
    report_export_file,
    xlsx_write,
)
from training.reports.figures import CATEGORIES, CATEGORY_LABELS, ComplianceRow
from training.reports.filters import (
    NO_DEPARTMENT,
    NO_DEPARTMENT_PARAM,
    ReportFilterForm,
    department_from_param,
    department_names,
)
from training.reports.people import (
    figure_assignments,
    overdue_assignments,
    people_matching,
    person_record,
)
from training.reports.permissions import ReportAccessMixin, report_scope
from training.reports.queued import report_export_request
from training.reports.scheduled import scheduled_report_file
from training.reports.snapshot import (
    report_counts_refresh,
    report_overview,
    report_trend,
    snapshot_taken_at,
)
from training.reports.tables import ExportTable, overdue_line, person_table, report_table
from training.tasks import report_counts_refresh_soon


def table_response(
    request, *, table: ExportTable, export_format: str, filename: str, params: dict, report: str
):
    """Download a table: streamed CSV or an XLSX file, or, when large, a queued export."""
    if table.count() > ASYNC_EXPORT_ROWS:
        export = report_export_request(
            owner=request.user, report=report, export_format=export_format, params=params
        )
        return redirect("aware_reports_export", pk=export.pk)
    if export_format == "csv":
        response = StreamingHttpResponse(
            (text for text, _rows in csv_chunks(table)), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
        return response
    output = io.BytesIO()
    xlsx_write([table], output)
    output.seek(0)
    return FileResponse(
        output, as_attachment=True, filename=f"{filename}.xlsx", content_type=XLSX_TYPE
    )


class ReportPageMixin(WagtailAdminTemplateMixin):
    """The report's name as the page's heading (after "Home"), as Wagtail's own reports have."""

    def get_breadcrumbs_items(self):
        return [*self.breadcrumbs_items, {"url": "", "label": self.get_page_title()}]


# A figure's link keeps the page's filters but not what only the page itself reads.
NOT_FIGURE_FILTERS = ("export", "table", "share", "page", "p")


def figure_links(
    rows: list[ComplianceRow], *, query: QueryDict, councillors: bool
) -> list[tuple[ComplianceRow, dict[str, str]]]:
    """Each row with the URL of the list of people behind each of its figures (none for a 0:
    nobody is behind it). The page's filters are kept; the row's own (module, group) win."""
    base = query.copy()
    for name in NOT_FIGURE_FILTERS:
        base.pop(name, None)
    if councillors:
        base["councillors"] = "1"
    url = reverse("aware_reports_figure")
    linked = []
    for row in rows:
        params = base.copy()
        for name, value in row.drill.items():
            params[name] = str(value)
        links = {}
        for category in ("assigned", *CATEGORIES):
            if row.assigned if category == "assigned" else row.counts[category]:
                figure = params.copy()
                if category != "assigned":
                    figure["category"] = category
                links[category] = f"{url}?{figure.urlencode()}"
        linked.append((row, links))
    return linked


class ComplianceOverviewView(ReportAccessMixin, ReportPageMixin, TemplateView):
    """Per module, department, audience and person type, with the rate chart and weekly trend."""

    template_name = "training/reports/overview.html"
    page_title = "Compliance overview"
    header_icon = "table"
    hr_only = True

    def get(self, request, *args, **kwargs):
        export_format = request.GET.get("export")
        if export_format in ("csv", "xlsx"):
            report = request.GET.get("table", "overview")
            if report not in ("overview", "people", "trend"):
                report = "overview"
            now = timezone.now()
            table = report_table(
                report=report,
                filters=self.report_filters,
                now=now,
                share_outside_hr=bool(request.GET.get("share")),
            )
            return table_response(
                request,
                table=table,
                export_format=export_format,
                filename=f"{self.export_name}-{report}-{timezone.localdate(now):%Y-%m-%d}",
                params=self.export_params() | {"table": report},
                report=report,
            )
        return super().get(request, *args, **kwargs)

    @property
    def export_name(self) -> str:
        return "councillors" if self.councillors_page else "compliance"

    def post(self, request, *args, **kwargs):
        """ "Count again now": the counts the page reads, then back to the same filters."""
        if report_counts_refresh():
            messages.success(request, "The figures have been counted again.")
        else:
            messages.info(request, "The figures are being counted already: reload in a moment.")
        query = request.GET.urlencode()
        return redirect(f"{request.path}?{query}" if query else request.path)

    def get_context_data(self, **kwargs):
        now = timezone.now()
        filters = self.report_filters
        fresh = snapshot_taken_at(now=now)
        if fresh is None:
            report_counts_refresh_soon()
        overview, counted_at = report_overview(filters=filters, now=now, counted_at=fresh)
        trend = report_trend(filters=filters, now=now, counted_at=fresh)
        query = self.request.GET.copy()
        query.pop("export", None)
        # Other apps (quizzes) add links beside the module figures through this hook, so that
        # training never names their permissions or URLs: each gets the modules as (id, title)
        # pairs and returns None or {"label", "url", "description", "per_module": [(title, url)]}.
        modules = [(row.module_id, row.module_title) for row in overview.modules]
        linked = {
            "modules": figure_links(
                overview.modules, query=self.request.GET, councillors=self.councillors_only
            ),
            "sections": [
                (
                    heading,
                    figure_links(rows, query=self.request.GET, councillors=self.councillors_only),
                )
                for heading, rows in overview.sections()
            ],
        }
        links = [
            link
            for hook in hooks.get_hooks("training_report_overview_links")
            if (link := hook(request=self.request, modules=modules))
        ]
        return super().get_context_data(
            form=self.filter_form,
            overview=overview,
            linked=linked,
            categories=[(c, CATEGORY_LABELS[c]) for c in CATEGORIES],
            bars=bar_chart(overview.modules),
            trend=trend,
            line=line_chart(trend),
            counted_at=counted_at,
            query=query.urlencode(),
            overview_links=links,
            **kwargs,
        )


class CouncillorsOverviewView(ComplianceOverviewView):
    page_title = "Councillors"
    hr_only = False
    councillors_page = True


class CappedPaginator(WagtailPaginator):
    """Counts no further than CAP rows, so a long list's page costs the same as a short one's."""

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        # Unordered, so the database stops after CAP + 1 rows instead of sorting them all; and
        # only the key, so the joins that merely name things (department, manager) go unread
        # (PostgreSQL drops a left join whose columns nothing uses).
        return self.object_list.order_by().values("pk")[: self.CAP + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.CAP


class OverdueListView(ReportAccessMixin, ReportView):
    """Everyone overdue, longest first, with their manager and when they were last reminded."""

    page_title = "Overdue"
    header_icon = "warning"
    template_name = "training/reports/overdue.html"
    results_template_name = "training/reports/overdue_results.html"
    index_url_name = "aware_reports_overdue"
    paginate_by = 50
    paginator_class = CappedPaginator
    any_permission_required = None

    def get_queryset(self):
        return overdue_assignments(filters=self.report_filters, now=timezone.now())

    def decorate_paginated_queryset(self, object_list):
        rows = list(object_list)
        names = department_names()
        reminders = reminders_last_sent(assignment_users={row[0]: row[1] for row in rows})
        today = timezone.localdate()
        return [
            (row[1], overdue_line(row, names=names, reminders=reminders, today=today))
            for row in rows
        ]

    def get(self, request, *args, **kwargs):
        if self.is_export:
            export_format = request.GET["export"]
            now = timezone.now()
            return table_response(
                request,
                table=report_table(report="overdue", filters=self.report_filters, now=now),
                export_format=export_format,
                filename=f"overdue-{timezone.localdate(now):%Y-%m-%d}",
                params=self.export_params(),
                report="overdue",
            )
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["form"] = self.filter_form
        return context


class FigurePeopleView(ReportAccessMixin, ReportView):
    """The people behind one figure of the overview: its filters, its row's module and group,
    and its column (`category`); HR sees everyone, Member Services councillors only."""

    page_title = "People behind a figure"
    header_icon = "group"
    template_name = "training/reports/figure.html"
    results_template_name = "training/reports/figure_results.html"
    index_url_name = "aware_reports_figure"
    index_results_url_name = "aware_reports_figure_results"
    paginate_by = 50
    paginator_class = CappedPaginator
    any_permission_required = None

    def dispatch(self, request, *args, **kwargs):
        self.councillors_page = request.GET.get("councillors") == "1"
        return super().dispatch(request, *args, **kwargs)

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.is_export = False  # the overview's exports hold these figures

    @cached_property
    def department(self) -> Department | str | None:
        return department_from_param(self.request.GET.get("department", ""))

    @cached_property
    def filter_form(self) -> ReportFilterForm:
        data = self.request.GET.copy()
        data.pop("department", None)  # read here, as a department or "none"
        return ReportFilterForm(data, councillors_only=self.councillors_only)

    @cached_property
    def report_filters(self):
        filters = self.filter_form.to_filters()
        if isinstance(self.department, Department):
            filters = replace(filters, department=self.department)
        return filters

    @cached_property
    def category(self) -> str:
        return self.request.GET.get("category", "")

    @cached_property
    def problem(self) -> str:
        """Why the link cannot be followed (a changed or mistyped address), or ""."""
        if self.category and self.category not in CATEGORIES:
            return "This link asks for a column the report does not have."
        if self.request.GET.get("department") and self.department is None:
            return "This link names a department that no longer exists."
        if not self.filter_form.is_valid():
            return (
                "This link's filters no longer match the report "
                "(a module or audience may have gone)."
            )
        return ""

    def get_queryset(self):
        if self.problem:
            return Assignment.objects.none().values_list("pk")
        return figure_assignments(
            filters=self.report_filters,
            category=self.category,
            no_department=self.department == NO_DEPARTMENT_PARAM,
            now=timezone.now(),
        )

    def decorate_paginated_queryset(self, object_list):
        names = department_names()
        statuses = dict(Status.choices)
        return [
            {
                "person_id": row[1],
                "name": row[2],
                "email": row[3],
                "employee_number": row[4],
                "department": names.get(row[5], ("",))[0] if row[5] else "",
                "module": row[6],
                "due_on": row[7],
                "status": statuses.get(row[8], row[8]),
            }
            for row in object_list
        ]

    def describe(self) -> list[str]:
        """What the figure counted: "Overdue", "Modern slavery", "Place > Highways"…"""
        filters = self.report_filters
        parts = [CATEGORY_LABELS.get(self.category or "assigned", "")]
        if filters.module:
            parts.append(filters.module.title)
        if isinstance(self.department, Department):
            parts.append(department_names()[self.department.path][0])
        elif self.department == NO_DEPARTMENT_PARAM:
            parts.append(NO_DEPARTMENT)
        if filters.audience:
            parts.append(filters.audience.name)
        if filters.councillors_only:
            parts.append("Councillors")
        elif filters.person_type:
            parts.append(PersonType(filters.person_type).label)
        if filters.organisation:
            parts.append(filters.organisation)
        if filters.status:
            parts.append(f"status {Status(filters.status).label.lower()}")
        if filters.source:
            parts.append(f"completed: {CompletionSource(filters.source).label.lower()}")
        if filters.due_from:
            parts.append(f"due from {filters.due_from:%-d %b %Y}")
        if filters.due_to:
            parts.append(f"due to {filters.due_to:%-d %b %Y}")
        return parts

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["problem"] = self.problem
        context["described"] = "" if self.problem else ", ".join(self.describe())
        return context


class PersonSearchView(ReportAccessMixin, ReportPageMixin, TemplateView):
    template_name = "training/reports/person_search.html"
    page_title = "Person record"
    header_icon = "user"

    def get_context_data(self, **kwargs):
        text = search_text(self.request.GET.get("q", ""))
        people = people_matching(text=text, councillors_only=self.councillors_only) if text else []
        return super().get_context_data(q=text, people=people, **kwargs)


class PersonRecordView(ReportAccessMixin, ReportPageMixin, TemplateView):
    """Everything about one person's training, for HR queries and subject access requests."""

    template_name = "training/reports/person.html"
    page_title = "Person record"
    header_icon = "user"

    def get_person(self) -> User:
        people = User.objects.select_related("department", "line_manager")
        if self.councillors_only:
            people = people.filter(person_type=PersonType.COUNCILLOR)
        return get_object_or_404(people, pk=self.kwargs["pk"])

    def get(self, request, *args, **kwargs):
        export_format = request.GET.get("export")
        if export_format in ("csv", "xlsx"):
            person = self.get_person()
            return table_response(
                request,
                table=person_table(person=person, now=timezone.now()),
                export_format=export_format,
                filename=f"training-record-{person.pk}",
                params={},
                report="person",
            )
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        record = person_record(person=self.get_person(), now=timezone.now())
        return super().get_context_data(record=record, statuses=dict(Status.choices), **kwargs)


def export_status(request, pk: int):
    """A queued export's progress; its download link once ready. Only its owner sees it."""
    export = get_object_or_404(ReportExport, pk=pk)
    if export.owner_id != request.user.pk or report_scope(request.user) is None:
        raise PermissionDenied
    expired = timezone.now() >= export.expires_at
    return render(
        request,
        "training/reports/export.html",
        {"export": export, "expired": expired, "page_title": "Export"},
    )


def export_download(request, pk: int):
    """The export's file: owner only, and only until the link expires (then a clear message)."""
    export = get_object_or_404(ReportExport, pk=pk)
    try:
        path = report_export_file(export=export, user=request.user, now=timezone.now())
    except PermissionError:
        raise PermissionDenied from None
    except ExportUnavailable as problem:
        return HttpResponse(str(problem), status=410, content_type="text/plain; charset=utf-8")
    content_type = XLSX_TYPE if export.export_format == "xlsx" else "text/csv; charset=utf-8"
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=f"{export.report}-{timezone.localdate(export.created_at):%Y-%m-%d}."
        f"{export.export_format}",
        content_type=content_type,
    )


def scheduled_download(request, pk: int, export_format: str):
    """A scheduled report's file as it is now, from the link in its email: for its recipients
    who may see it (and HR who may change schedules); anyone else is refused."""
    schedule = get_object_or_404(ScheduledReport, pk=pk)
    try:
        report = scheduled_report_file(
            schedule=schedule, user=request.user, export_format=export_format, now=timezone.now()
        )
    except PermissionError:
        raise PermissionDenied(
            "This report is sent only to the people HR chose, while they may see HR reports."
        ) from None
    except LookupError:
        raise Http404("This report does not come in that format.") from None
    response = HttpResponse(report.content, content_type=report.content_type)
    response["Content-Disposition"] = f'attachment; filename="{report.filename}"'
    return response
