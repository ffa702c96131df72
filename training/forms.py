"""Forms for training that write through its services: HR's admin forms and a line manager's
actions on My team."""

from datetime import date

from django import forms
from django.core.validators import MaxValueValidator
from wagtail.admin.forms import WagtailAdminModelForm

from training.models import ExemptionRequest
from training.services.exemptions import assignment_exempt, assignment_exemption_withdraw
from training.services.team import exemption_request_decide


class AssignmentForm(WagtailAdminModelForm):
    """HR's edits: a new due date, or an exemption with its reason (who and when are recorded
    by the exemption services)."""

    def save(self, commit=True):
        assignment = super().save(commit=False)
        if commit:
            assignment.save()
            if "exempt_reason" in self.changed_data:
                if assignment.exempt_reason.strip():
                    assignment_exempt(
                        assignment=assignment, reason=assignment.exempt_reason, by=self.for_user
                    )
                else:
                    assignment_exemption_withdraw(assignment=assignment, by=self.for_user)
        return assignment


class DueExtendForm(forms.Form):
    """A line manager's later due date for a report (My team)."""

    days = forms.IntegerField(label="How many more days do they need?", min_value=1)
    reason = forms.CharField(
        label="Why do they need more time?",
        widget=forms.Textarea,
        max_length=1000,
        help_text="This is kept in the audit trail. Do not include health or other sensitive "
        "details.",
    )
    due_on_was = forms.DateField(widget=forms.HiddenInput)

    def __init__(self, *args, limit: int, base: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["days"].max_value = limit
        self.fields["days"].validators.append(MaxValueValidator(limit))
        self.fields["days"].help_text = f"Up to {limit} days, counted from {base:%-d %B %Y}."
        self.fields["days"].error_messages.update(
            {
                "required": "Enter how many more days they need.",
                "invalid": "Enter a whole number of days, like 14.",
                "min_value": "Enter at least 1 day.",
                "max_value": f"A manager can give up to {limit} days.",
            }
        )
        self.fields["reason"].error_messages["required"] = "Say why they need more time."


class ExemptionRequestForm(forms.Form):
    """A line manager's request that HR exempt a report from an assignment (My team)."""

    reason = forms.CharField(
        label="Why should they be exempt?",
        widget=forms.Textarea,
        max_length=1000,
        help_text="HR will read this and decide. Do not include health or other sensitive "
        "details: HR will ask if they need them.",
        error_messages={"required": "Say why they should be exempt."},
    )


class ExemptionRequestDecisionForm(WagtailAdminModelForm):
    """HR's answer to a line manager's exemption request: approve (the exemption is made by
    training.services.exemptions) or refuse, with a note; through exemption_request_decide."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "state" in self.fields:
            self.fields["state"].label = "Your decision"
            self.fields["state"].choices = [
                (ExemptionRequest.State.APPROVED, "Approve: exempt them"),
                (ExemptionRequest.State.REFUSED, "Refuse: the training stays due"),
            ]
        if "decision_note" in self.fields:
            self.fields["decision_note"].label = "Note (needed when you refuse)"

    def clean(self):
        cleaned = super().clean()
        saved = ExemptionRequest.objects.filter(pk=self.instance.pk).values_list("state", flat=True)
        if self.instance.pk and next(iter(saved), None) != ExemptionRequest.State.PENDING:
            raise forms.ValidationError("This request has been decided already.")
        if (
            cleaned.get("state") == ExemptionRequest.State.REFUSED
            and not (cleaned.get("decision_note") or "").strip()
        ):
            self.add_error("decision_note", "Say why you refuse, for the line manager.")
        return cleaned

    def save(self, commit=True):
        request = super().save(commit=False)
        if commit:
            exemption_request_decide(
                request=request,
                approve=request.state == ExemptionRequest.State.APPROVED,
                note=request.decision_note,
                by=self.for_user,
            )
            request.refresh_from_db()
        return request


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.full_name} ({obj.email})" if obj.email else obj.full_name


class ToolboxStartForm(forms.Form):
    """The module a toolbox talk covers, and for HR whose team it is for."""

    module = forms.ModelChoiceField(
        queryset=None, empty_label=None, label="Module", widget=forms.RadioSelect
    )
    team_of = PersonChoiceField(
        queryset=None,
        required=False,
        label="Whose team",
        help_text="The line manager whose team is at the talk. Leave empty for your own team.",
        empty_label="My own team",
    )

    def __init__(self, *args, modules, team_leads=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["module"].queryset = modules
        if team_leads is None:
            del self.fields["team_of"]
        else:
            self.fields["team_of"].queryset = team_leads


class ToolboxPresentForm(forms.Form):
    """The supervisor ticks who from the team is here."""

    def __init__(self, *args, roster, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["present"] = forms.MultipleChoiceField(
            choices=[(person.pk, person.full_name) for person in roster],
            widget=forms.CheckboxSelectMultiple,
            label="Who is here",
            error_messages={"required": "Tick at least one person who is here."},
        )

    def clean_present(self) -> list[int]:
        return [int(pk) for pk in self.cleaned_data["present"]]


class ToolboxCheckForm(forms.Form):
    """The three-question check: one choice for each question, as the session asked it."""

    def __init__(self, *args, questions: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        for number, question in enumerate(questions, start=1):
            self.fields[f"q{number}"] = forms.TypedChoiceField(
                label=question["text"],
                choices=[(i, c["text"]) for i, c in enumerate(question["choices"])],
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={"required": f"Choose an answer to question {number}."},
            )
            self.fields[f"q{number}"].scenario = question.get("scenario", "")
            self.fields[f"q{number}"].number = number

    def answers(self) -> list[int]:
        return [self.cleaned_data[name] for name in self.fields]
