"""The reports' place in the Wagtail admin: menu items and URLs (registered in wagtail_hooks.py)."""

from django.core.exceptions import ValidationError
from django.urls import path, reverse
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import ObjectList
from wagtail.snippets.views.snippets import SnippetViewSet

from cms.choosers import ListingPermissionChooserViewSet
from cms.menus import PermittedMenuItem
from training.models import ScheduledReport
from training.reports.permissions import COUNCILLOR_PERMISSION, HR_PERMISSION
from training.reports.scheduled import scheduled_report_recipients_check
from training.reports.views import (
    ComplianceOverviewView,
    CouncillorsOverviewView,
    FigurePeopleView,
    OverdueListView,
    PersonRecordView,
    PersonSearchView,
    export_download,
    export_status,
    scheduled_download,
)

_HR = (HR_PERMISSION,)
_HR_OR_MEMBERS = (HR_PERMISSION, COUNCILLOR_PERMISSION)

REPORT_MENU = [
    ("Compliance overview", "aware_reports_overview", "table", _HR, 100),
    ("Councillors", "aware_reports_councillors", "group", _HR_OR_MEMBERS, 101),
    ("Overdue", "aware_reports_overdue", "warning", _HR_OR_MEMBERS, 102),
    ("Person record", "aware_reports_people", "user", _HR_OR_MEMBERS, 103),
]


class ScheduledReportForm(WagtailAdminModelForm):
    """Refuses recipients who could not open the link (scheduled_report_recipients_check)."""

    def clean(self):
        cleaned = super().clean()
        proposed = ScheduledReport(
            report=cleaned.get("report", ""), recipients=cleaned.get("recipients", "")
        )
        try:
            scheduled_report_recipients_check(proposed)
        except ValidationError as refused:
            for message in refused.message_dict["recipients"]:
                self.add_error("recipients", message)
        return cleaned


class ScheduledReportViewSet(SnippetViewSet):
    """HR saves a report with its filters and schedules it to several people (audited as every
    snippet is: cms/wagtail_hooks.py)."""

    model = ScheduledReport
    icon = "date"
    chooser_viewset_class = ListingPermissionChooserViewSet  # its rows say who gets HR's figures
    menu_label = "Scheduled reports"
    menu_order = 104
    add_to_admin_menu = True
    list_display = ["name", "report", "frequency", "active"]
    list_filter = ["report", "frequency", "active"]
    edit_handler = ObjectList(ScheduledReport.panels, base_form_class=ScheduledReportForm)


def report_menu_hook(label: str, url_name: str, icon: str, permissions: tuple, order: int):
    def hook():
        return PermittedMenuItem(
            label,
            reverse(url_name),
            name=f"aware-{url_name}",
            icon_name=icon,
            order=order,
            permissions=permissions,
        )

    return hook


def report_urls():
    return [
        path(
            "aware-reports/compliance/",
            ComplianceOverviewView.as_view(),
            name="aware_reports_overview",
        ),
        path(
            "aware-reports/councillors/",
            CouncillorsOverviewView.as_view(),
            name="aware_reports_councillors",
        ),
        path("aware-reports/overdue/", OverdueListView.as_view(), name="aware_reports_overdue"),
        path(
            "aware-reports/overdue/results/",
            OverdueListView.as_view(results_only=True),
            name="aware_reports_overdue_results",
        ),
        path("aware-reports/figure/", FigurePeopleView.as_view(), name="aware_reports_figure"),
        path(
            "aware-reports/figure/results/",
            FigurePeopleView.as_view(results_only=True),
            name="aware_reports_figure_results",
        ),
        path("aware-reports/people/", PersonSearchView.as_view(), name="aware_reports_people"),
        path(
            "aware-reports/people/<int:pk>/",
            PersonRecordView.as_view(),
            name="aware_reports_person",
        ),
        path("aware-reports/exports/<int:pk>/", export_status, name="aware_reports_export"),
        path(
            "aware-reports/exports/<int:pk>/download/",
            export_download,
            name="aware_reports_export_download",
        ),
        path(
            "aware-reports/scheduled/<int:pk>/<str:export_format>/",
            scheduled_download,
            name="aware_reports_scheduled_download",
        ),
    ]
