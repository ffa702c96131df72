"""Wagtail admin views: HR's people import (upload a CSV, preview what it would do, confirm it);
from a person's record, download everything held on them or erase a leaver's data; and the
administrators' single sign-on set-up page; and signing out, which clears the device."""

from allauth.account.views import LogoutView
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.defaults import permission_denied
from django.views.generic import FormView, RedirectView, TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.widgets import Button

from accounts.erasure import ErasureRefused, person_erase, pseudonym_for
from accounts.forms import PartnerInviteForm, PeopleImportConfirmForm, PeopleImportUploadForm
from accounts.importers import COLUMNS, PeopleFileError, in_chunks, people_import_plan
from accounts.invitations import (
    EMAIL_BATCH_SIZE,
    INVITE_LINK_DAYS,
    invitation_email_of,
    invitation_link,
)
from accounts.kiosk import idle_minutes, kiosk_cookie_delete, kiosk_cookie_set
from accounts.models import PersonType, User
from accounts.partners import partners_invite, qr_svg
from accounts.personal_data import personal_data_zip
from accounts.selectors import people_import_open, people_visible_to, sso_setup_details
from accounts.services import (
    PeopleImportRefused,
    people_import_confirm,
    people_import_upload,
    personal_data_download_record,
)
from accounts.tasks import queued_emails_send_task
from cms.audit import ACTION_KIOSK, audit_record
from cms.selectors import council_settings
from cms.services import task_enqueue_each_on_commit

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
                columns=COLUMNS,
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


# PERSONAL DATA: subject access and erasure, from the person's record

ERASE_PERMISSION = "accounts.change_user"


def person_privacy_buttons(*, person, viewer) -> list[Button]:
    """From a person's record: the subject access download (whoever may see the person) and,
    for HR on a leaver not yet erased, "Erase now"."""
    buttons = [
        Button(
            "Download everything Aware holds on this person",
            url=reverse("accounts_personal_data", args=[person.pk]),
            icon_name="download",
            priority=40,
        )
    ]
    if viewer.has_perm(ERASE_PERMISSION) and not person.is_active and person.erased_at is None:
        buttons.append(
            Button(
                "Erase now",
                url=reverse("accounts_person_erase", args=[person.pk]),
                icon_name="bin",
                priority=50,
            )
        )
    return buttons


class PersonMixin(WagtailAdminTemplateMixin):
    """A person the viewer may see (accounts.selectors.people_visible_to); anyone else is not
    there (404), whatever the viewer's other rights."""

    header_icon = "user"

    def dispatch(self, request, *args, **kwargs):
        self.person = people_visible_to(viewer=request.user).filter(pk=kwargs["pk"]).first()
        if self.person is None:
            raise Http404("No such person.")
        return super().dispatch(request, *args, **kwargs)

    def get_page_subtitle(self):
        return str(self.person)

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse("wagtailusers_users:index"), "label": "Users"},
            {"url": "", "label": str(self.person)},
        ]


class PersonalDataExportView(PersonMixin, TemplateView):
    """GET: what the download holds. POST: the ZIP, with the download in the audit trail."""

    template_name = "accounts/personal_data/export.html"
    page_title = "Download everything Aware holds on this person"

    def post(self, request, pk: int):
        now = timezone.now()
        content = personal_data_zip(
            person=self.person, council_name=council_settings().council_name, now=now
        )
        personal_data_download_record(person=self.person, by=request.user)
        response = HttpResponse(content, content_type="application/zip")
        name = f"aware-personal-data-{self.person.pk}-{timezone.localdate(now):%Y-%m-%d}.zip"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["Cache-Control"] = "no-store"
        return response


class PersonEraseView(PersonMixin, TemplateView):
    """HR's "Erase now" for a deactivated person: GET asks to confirm, POST erases."""

    template_name = "accounts/personal_data/erase.html"
    page_title = "Erase this person's personal data"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perm(ERASE_PERMISSION):
            return permission_denied(
                request, PermissionDenied("Only HR can erase a person's data.")
            )
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            pseudonym=pseudonym_for(self.person), person=self.person, **kwargs
        )

    def post(self, request, pk: int):
        if self.person.erased_at is not None:
            messages.info(request, "This person's personal data was already erased.")
            return redirect("wagtailusers_users:index")
        try:
            person_erase(person=self.person, by=request.user)
        except ErasureRefused as refusal:
            messages.error(request, str(refusal))
            return redirect("accounts_person_erase", pk=self.person.pk)
        messages.success(
            request,
            f"Personal data erased: the person is now “{pseudonym_for(self.person)}”. Their "
            "training evidence is kept under that name.",
        )
        return redirect("wagtailusers_users:index")


# SINGLE SIGN-ON


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


class AdminSignIn(RedirectView):
    """The sign-in page of Wagtail's admin (/cms/login/) and Django's (/django-admin/login/):
    allauth's sign-in, for anyone not signed in yet. A signed-in person whom that admin does not
    let in gets a page saying so: sent to sign in again, allauth would send them straight back to
    the admin (it sends a signed-in person on to `next`), and the admin back to sign in, forever."""

    pattern_name = "account_login"
    query_string = True
    may_open = None  # the admin's own test of a signed-in user

    def get(self, request, *args, **kwargs):
        if request.user.is_authenticated and not self.may_open(request.user):
            raise PermissionDenied(
                "You are signed in, but your role does not include this part of Aware, which is "
                "for the people who run it (HR, Member Services, editors and administrators). "
                "Your own training is under My training."
            )
        return super().get(request, *args, **kwargs)


class SignOut(LogoutView):
    """allauth's sign-out, which also tells the browser to delete what Aware kept on this device:
    the offline copies of lessons, answers and completions not sent yet, and the service worker
    (Clear-Site-Data; the page's script does the same where a browser ignores the header), so
    that nothing of one person stays on a shared phone or depot tablet for the next."""

    def post(self, *args, **kwargs):
        response = super().post(*args, **kwargs)
        response["Clear-Site-Data"] = '"cache", "storage"'
        return response


def wagtail_admin_opens_for(user) -> bool:
    return user.has_perm("wagtailadmin.access_admin")


def django_admin_opens_for(user) -> bool:
    return user.is_active and user.is_staff


# PARTNERS, CONTRACTORS AND AGENCY STAFF: invited by HR, signing in by emailed code

INVITED_SESSION_KEY = "aware_partners_invited"  # the ids HR's last invitation created


class PartnerInviteView(HROnlyMixin, WagtailAdminTemplateMixin, FormView):
    page_title = "Invite partners and contractors"
    header_icon = "mail"
    template_name = "accounts/partners/invite.html"
    form_class = PartnerInviteForm

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse("accounts_partners_invite"), "label": self.page_title},
        ]

    def form_valid(self, form):
        people, email_ids = partners_invite(rows=form.partners.rows, by=self.request.user)
        task_enqueue_each_on_commit(
            queued_emails_send_task, [(chunk,) for chunk in in_chunks(email_ids, EMAIL_BATCH_SIZE)]
        )
        self.request.session[INVITED_SESSION_KEY] = {
            "ids": [person.pk for person in people],
            "phones": {
                str(p.pk): row.phone for p, row in zip(people, form.partners.rows, strict=True)
            },
            "skipped": form.partners.errors,
        }
        return redirect("accounts_partners_invited")


class PartnersInvitedView(HROnlyMixin, WagtailAdminTemplateMixin, TemplateView):
    """What HR's last invitation sent: each person's link and its QR code, to text or print."""

    page_title = "Invitations sent"
    header_icon = "mail"
    template_name = "accounts/partners/invited.html"

    def get_context_data(self, **kwargs):
        sent = self.request.session.get(INVITED_SESSION_KEY) or {}
        people = User.objects.filter(
            pk__in=sent.get("ids", []), person_type=PersonType.OTHER, is_active=True
        ).order_by("organisation", "full_name")
        invited = []
        for person in people:
            link = invitation_link(user=person)
            invited.append(
                {
                    "person": person,
                    "link": link,
                    "qr": mark_safe(qr_svg(text=link)),  # noqa: S308 - SVG made by qrcode
                    "phone": sent.get("phones", {}).get(str(person.pk), ""),
                }
            )
        return super().get_context_data(invited=invited, skipped=sent.get("skipped", []), **kwargs)


class InvitedSignInView(TemplateView):
    """Where a partner's invitation link (or its QR code) leads: a page that sends allauth's
    sign-in code to the address the link was made for. Sending needs a press of the button
    (a POST to allauth's own "email me a code", under its rate limits), so a mail scanner that
    opens links sends nothing."""

    template_name = "account/invited_sign_in.html"

    def get(self, request, token: str):
        email = invitation_email_of(token=token)
        if email is None:
            return render(
                request,
                "account/invited_sign_in.html",
                {"expired": True, "link_days": INVITE_LINK_DAYS},
                status=404,
            )
        return render(request, "account/invited_sign_in.html", {"email": email})


# KIOSK: a shared depot device (accounts.kiosk)


class KioskView(TemplateView):
    """HR marks this device as a kiosk, or ends kiosk mode on it."""

    template_name = "accounts/kiosk.html"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.has_perm(IMPORT_PERMISSION):
            return permission_denied(
                request, PermissionDenied("Only HR can make a device a kiosk.")
            )
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(idle=idle_minutes(), **kwargs)

    def post(self, request):
        turn_on = request.POST.get("kiosk") == "on"
        response = redirect("accounts_kiosk")
        if turn_on:
            kiosk_cookie_set(response)
            messages.success(
                request,
                f"This device is now a kiosk: people sign in by code and are signed out after "
                f"{idle_minutes()} without use.",
            )
        else:
            kiosk_cookie_delete(response)
            messages.success(request, "This device is no longer a kiosk.")
        shown = {True: "Yes", False: "No"}
        change = {"field": "kiosk", "label": "This device a kiosk", "before": shown[not turn_on]}
        change["after"] = shown[turn_on]
        audit_record(
            instance=request.user, action=ACTION_KIOSK, user=request.user, changes=[change]
        )
        return response
