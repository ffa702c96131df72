"""Who may see which report: HR everything, Member Services councillors only."""

from django.core.exceptions import PermissionDenied
from django.utils.functional import cached_property

from training.reports.filters import ReportFilterForm

HR_PERMISSION = "training.view_hr_reports"

COUNCILLOR_PERMISSION = "training.view_councillor_reports"


def report_scope(user) -> str | None:
    """ "all" for HR, "councillors" for Member Services, None for anyone else."""
    if user.has_perm(HR_PERMISSION):
        return "all"
    if user.has_perm(COUNCILLOR_PERMISSION):
        return "councillors"
    return None


class ReportAccessMixin:
    """Refuses anyone without report access; `councillors_only` is forced for Member Services."""

    hr_only = False
    councillors_page = False

    def dispatch(self, request, *args, **kwargs):
        scope = report_scope(request.user)
        if scope is None or (self.hr_only and scope != "all"):
            raise PermissionDenied("Reports are for HR (and, for councillors, Member Services).")
        self.councillors_only = self.councillors_page or scope == "councillors"
        return super().dispatch(request, *args, **kwargs)

    @cached_property
    def filter_form(self) -> ReportFilterForm:
        return ReportFilterForm(self.request.GET or None, councillors_only=self.councillors_only)

    @cached_property
    def report_filters(self):
        return self.filter_form.to_filters()

    def export_params(self) -> dict:
        params = {k: v for k, v in self.request.GET.items() if k not in ("export", "page")}
        params["_councillors_only"] = self.councillors_only
        return params
