"""Wagtail admin pages for HR: upload historic completions, preview what importing would do
(new, already recorded, rows with errors), confirm it once."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.defaults import permission_denied
from django.views.generic import FormView, TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from cms.uploads import CsvUploadForm
from training.importers import (
    COLUMNS,
    completion_import_open,
    completions_csv_check,
    historic_completions_plan,
    historic_rows_recorded_mark,
)
from training.models import CompletionImport
from training.services.historic import (
    HistoricImportRefused,
    historic_import_confirm,
    historic_import_upload,
)

IMPORT_PERMISSION = "training.add_modulecompletion"
ERRORS_SHOWN = 500  # a preview lists this many bad rows at most
CLOSED_PREVIEW = (
    "This preview has expired, has already been imported, or is not yours, so nothing was "
    "imported. Upload the file again."
)


class CompletionImportUploadForm(CsvUploadForm):
    """A completions CSV: at most 10 MB, UTF-8, the right header and a row, or a clear error."""

    MAX_BYTES = 10 * 1024 * 1024
    too_large = (
        "The file is larger than 10 MB. Split it into smaller files (a completion already "
        "imported is never added twice), or use the import_completions command."
    )

    file = forms.FileField(
        label="Completions file (CSV)",
        help_text="Save from Excel as “CSV UTF-8”; at most 10 MB. Nothing is recorded until "
        "you have seen a preview and confirmed it.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def csv_check(self, text: str) -> None:
        completions_csv_check(text=text)


class CompletionImportConfirmForm(forms.Form):
    """The counts the preview showed: the import goes ahead only if they still hold."""

    to_import = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    already_recorded = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    errors = forms.IntegerField(min_value=0, widget=forms.HiddenInput)


class HROnlyMixin:
    """Only people who may add completion records (the HR role) may import them; 403 for others."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perm(IMPORT_PERMISSION):
            # Wagtail turns PermissionDenied into a redirect to the dashboard; answer 403 plainly.
            return permission_denied(request, PermissionDenied("Only HR can import completions."))
        return super().dispatch(request, *args, **kwargs)


class CompletionImportMixin(HROnlyMixin, WagtailAdminTemplateMixin):
    page_title = "Import completions"
    header_icon = "upload"

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse("training_completions_import"), "label": "Import completions"},
        ]


class CompletionImportUploadView(CompletionImportMixin, FormView):
    template_name = "training/completions_import/upload.html"
    form_class = CompletionImportUploadForm

    def get_context_data(self, **kwargs):
        recent = CompletionImport.objects.filter(imported_at__isnull=False).select_related(
            "imported_by"
        )[:20]
        return super().get_context_data(columns=COLUMNS, recent=recent, **kwargs)

    def form_valid(self, form):
        upload = historic_import_upload(
            uploaded_by=self.request.user, filename=form.cleaned_data["file"].name, text=form.text
        )
        return redirect("training_completions_import_preview", token=upload.token)


class CompletionImportPreviewView(CompletionImportMixin, TemplateView):
    template_name = "training/completions_import/preview.html"
    page_subtitle = "preview"

    def get(self, request, token: str):
        upload = completion_import_open(token=token, user=request.user, now=timezone.now())
        if upload is None:
            messages.error(request, CLOSED_PREVIEW)
            return redirect("training_completions_import")
        plan = historic_completions_plan(text=upload.csv_text)
        historic_rows_recorded_mark(plan=plan)
        summary = plan.summary()
        return self.render_to_response(
            self.get_context_data(
                upload=upload,
                summary=summary,
                errors_shown=plan.errors[:ERRORS_SHOWN],
                errors_hidden=max(len(plan.errors) - ERRORS_SHOWN, 0),
                confirm_form=CompletionImportConfirmForm(initial=summary),
            )
        )

    def post(self, request, token: str):
        form = CompletionImportConfirmForm(request.POST)
        if not form.is_valid():
            messages.error(request, CLOSED_PREVIEW)
            return redirect("training_completions_import")
        try:
            result = historic_import_confirm(
                token=token, user=request.user, expected=form.cleaned_data
            )
        except HistoricImportRefused as error:
            messages.error(request, str(error))
            return redirect("training_completions_import")
        skipped = f" {result.refused} row(s) with errors were skipped." if result.errors else ""
        messages.success(
            request,
            f"Completions imported: {result.imported} added to the records, "
            f"{result.already_recorded} already recorded (not added again).{skipped}",
        )
        return redirect("training_completions_import")
