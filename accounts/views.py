"""Wagtail admin views: HR's people import (upload a CSV, preview what it would do, confirm it)
and the administrators' single sign-on set-up page."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.defaults import permission_denied
from django.views.generic import FormView, TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from accounts.forms import PeopleImportConfirmForm, PeopleImportUploadForm
from accounts.importers import COLUMNS, PeopleFileError, people_import_plan
from accounts.selectors import people_import_open, sso_setup_details
from accounts.services import PeopleImportRefused, people_import_confirm, people_import_upload

IMPORT_PERMISSION = "accounts.add_user"
CLOSED_PREVIEW = (
    "This preview has expired, has already been imported, or is not yours, so nothing was "
    "imported. Upload the file again."
)


class HROnlyMixin:
    """Only people who may add users (the HR role) may import them; everyone else gets 403."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perm(IMPORT_PERMISSION):
            # Wagtail turns PermissionDenied into a redirect to the dashboard; answer 403 plainly.
            return permission_denied(request, PermissionDenied("Only HR can import people."))
        return super().dispatch(request, *args, **kwargs)


class PeopleImportMixin(HROnlyMixin, WagtailAdminTemplateMixin):
    page_title = "Import people"
    header_icon = "group"

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse("accounts_people_import"), "label": "Import people"},
        ]


class PeopleImportUploadView(PeopleImportMixin, FormView):
    template_name = "accounts/people_import/upload.html"
    form_class = PeopleImportUploadForm

    def get_context_data(self, **kwargs):
        return super().get_context_data(columns=COLUMNS, **kwargs)

    def form_valid(self, form):
        upload = people_import_upload(
            uploaded_by=self.request.user, filename=form.cleaned_data["file"].name, text=form.text
        )
        return redirect("accounts_people_import_preview", token=upload.token)


class PeopleImportPreviewView(PeopleImportMixin, TemplateView):
    template_name = "accounts/people_import/preview.html"
    page_subtitle = "preview"

    def get(self, request, token: str):
        upload = people_import_open(token=token, user=request.user, now=timezone.now())
        if upload is None:
            messages.error(request, CLOSED_PREVIEW)
            return redirect("accounts_people_import")
        try:
            plan = people_import_plan(text=upload.csv_text)
        except PeopleFileError as error:
            messages.error(request, str(error))
            return redirect("accounts_people_import")
        summary = plan.summary()
        return self.render_to_response(
            self.get_context_data(
                upload=upload,
                plan=plan,
                summary=summary,
                confirm_form=PeopleImportConfirmForm(initial=summary),
            )
        )

    def post(self, request, token: str):
        form = PeopleImportConfirmForm(request.POST)
        if not form.is_valid():
            messages.error(request, CLOSED_PREVIEW)
            return redirect("accounts_people_import")
        try:
            result = people_import_confirm(
                token=token, user=request.user, expected=form.cleaned_data
            )
        except (PeopleImportRefused, PeopleFileError) as error:
            messages.error(request, str(error))
            return redirect("accounts_people_import")
        except IntegrityError:
            messages.error(
                request,
                "People's records changed while the file was being imported, so nothing was "
                "imported. Upload the file again.",
            )
            return redirect("accounts_people_import")
        skipped = f" {result.bad_lines} row(s) with errors were skipped." if result.errors else ""
        messages.success(
            request,
            f"People imported: {result.created} created, {result.updated} updated, "
            f"{result.deactivated} deactivated, {result.unchanged} unchanged. "
            f"{result.invited} invitation(s) to set a password are being sent.{skipped}",
        )
        return redirect("accounts_people_import")


class SsoSetupView(WagtailAdminTemplateMixin, TemplateView):
    """For administrators: per identity provider, what to paste into Entra ID."""

    page_title = "Single sign-on set-up"
    header_icon = "key"
    template_name = "accounts/sso_setup.html"

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse("accounts_sso_setup"), "label": "Single sign-on set-up"},
        ]

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_superuser:
            return permission_denied(
                request, PermissionDenied("Only administrators set up single sign-on.")
            )
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["providers"] = sso_setup_details(request=self.request)
        return context
