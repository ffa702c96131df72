"""The councillors' escalation mailboxes (Member Services, Monitoring Officer): the admin
dashboard's warning while one is blank, and the page where Member Services sets them."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.views.defaults import permission_denied
from django.views.generic import FormView
from wagtail.admin.ui.components import Component
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from accounts.selectors import COUNCILLORS_PERMISSION, EVERYONE_PERMISSION
from cms.audit import ACTION_EDIT, audit_changes, audit_record, audit_snapshot
from training.models import ReminderSettings
from training.reminders.planning import (
    ESCALATION_MAILBOXES,
    escalation_mailboxes_missing,
    reminder_settings,
)

MAILBOXES_PERMISSION = "training.change_escalation_mailboxes"


def escalation_mailboxes_update(
    *, rules: ReminderSettings, by, member_services_email: str, monitoring_officer_email: str
) -> list[dict]:
    """Set the two mailboxes (nothing else in Settings → Reminders) and record each change in
    the audit trail with before and after. Writes the settings row and one log entry (none when
    nothing changed); returns the changes."""
    before = audit_snapshot(rules, fields=ESCALATION_MAILBOXES)
    rules.member_services_email = member_services_email
    rules.monitoring_officer_email = monitoring_officer_email
    changes = audit_changes(before=before, after=audit_snapshot(rules, fields=ESCALATION_MAILBOXES))
    if changes:
        rules.save(update_fields=list(ESCALATION_MAILBOXES))
        audit_record(instance=rules, action=ACTION_EDIT, user=by, changes=changes)
    return changes


class EscalationMailboxesForm(forms.Form):
    member_services_email = forms.EmailField(
        label="Member Services mailbox",
        required=False,
        help_text="Told when a councillor is overdue past the first escalation point, e.g. "
        "member.services@council.gov.uk.",
    )
    monitoring_officer_email = forms.EmailField(
        label="Monitoring Officer mailbox",
        required=False,
        help_text="Told when a councillor is overdue past the second escalation point.",
    )


class EscalationMailboxesView(WagtailAdminTemplateMixin, FormView):
    """Member Services (and administrators) set where councillors' escalations go."""

    page_title = "Escalation mailboxes"
    header_icon = "mail"
    template_name = "training/admin/escalation_mailboxes.html"
    form_class = EscalationMailboxesForm

    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perm(MAILBOXES_PERMISSION):
            return permission_denied(
                request, PermissionDenied("Only Member Services set the escalation mailboxes.")
            )
        self.rules = reminder_settings()
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse("training_escalation_mailboxes"), "label": self.page_title},
        ]

    def get_initial(self):
        return {name: getattr(self.rules, name) for name in ESCALATION_MAILBOXES}

    def form_valid(self, form):
        changes = escalation_mailboxes_update(
            rules=self.rules, by=self.request.user, **form.cleaned_data
        )
        if changes:
            messages.success(self.request, "Escalation mailboxes saved.")
        else:
            messages.info(self.request, "Nothing changed.")
        return redirect("training_escalation_mailboxes")


class EscalationMailboxesPanel(Component):
    """The dashboard's warning while a councillors' escalation mailbox is blank, for the people
    who see councillors (administrators, HR, Member Services)."""

    name = "escalation_mailboxes"
    template_name = "training/admin/escalation_mailboxes_panel.html"
    order = 50

    def __init__(self, missing: list[str], can_set: bool):
        self.missing = missing
        self.can_set = can_set

    def get_context_data(self, parent_context=None):
        return {"missing": self.missing, "can_set": self.can_set}


def escalation_mailboxes_panel(request, panels) -> None:
    """The `construct_homepage_panels` hook: add the warning when it applies."""
    user = request.user
    if not (user.has_perm(EVERYONE_PERMISSION) or user.has_perm(COUNCILLORS_PERMISSION)):
        return
    missing = escalation_mailboxes_missing()
    if missing:
        panels.append(EscalationMailboxesPanel(missing, user.has_perm(MAILBOXES_PERMISSION)))
