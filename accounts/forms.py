"""Forms for people: allauth's sign-up extras, Wagtail's user admin and HR's CSV import."""

from django import forms
from wagtail.users.forms import UserCreationForm, UserEditForm

from accounts.importers import people_csv_check
from accounts.models import User
from cms.uploads import CsvFileError, CsvUploadForm, csv_text_decode

PROFILE_FIELDS = [
    "full_name",
    "person_type",
    "department",
    "service_area",
    "job_title",
    "start_date",
]


class SignupForm(forms.Form):
    """Extra fields on allauth's sign-up form (ACCOUNT_SIGNUP_FORM_CLASS)."""

    full_name = forms.CharField(
        max_length=200, label="Full name", widget=forms.TextInput(attrs={"autocomplete": "name"})
    )

    def signup(self, request, user: User) -> None:
        user.full_name = self.cleaned_data["full_name"]
        user.save(update_fields=["full_name"])


class WagtailUserCreationForm(UserCreationForm):
    first_name = None
    last_name = None

    class Meta(UserCreationForm.Meta):
        model = User
        fields = {"email", "is_superuser", "groups", *PROFILE_FIELDS}


class WagtailUserEditForm(UserEditForm):
    first_name = None
    last_name = None

    class Meta(UserEditForm.Meta):
        model = User
        fields = {"email", "is_active", "is_superuser", "groups", *PROFILE_FIELDS}


class PeopleImportUploadForm(CsvUploadForm):
    """HR's people CSV: UTF-8, the right header and at least one row, or a clear error."""

    file = forms.FileField(
        label="People file (CSV)",
        help_text="Save from Excel as “CSV UTF-8”. Nothing is changed until you have "
        "seen a preview and confirmed it.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def csv_check(self, text: str) -> None:
        people_csv_check(text=text)


class PeopleImportConfirmForm(forms.Form):
    """The counts the preview showed: the import goes ahead only if they still hold."""

    create = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    update = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    deactivate = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    unchanged = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    invite = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    errors = forms.IntegerField(min_value=0, widget=forms.HiddenInput)


class PartnerInviteForm(forms.Form):
    """HR's list of partners to invite: pasted, or a CSV file (the file wins when both)."""

    people = forms.CharField(
        label="People to invite",
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="One person a line: name, email, organisation, and optionally a mobile number, "
        "separated by commas. For example: Sam Patel, sam@cleanstreets.example, Clean Streets "
        "Ltd, 07700 900123",
    )
    file = forms.FileField(label="Or a CSV file with those columns", required=False)

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("file")
        text = cleaned.get("people") or ""
        if upload:
            if upload.size > 1024 * 1024:
                raise forms.ValidationError("The file is larger than 1 MB. Split the list.")
            try:
                text = csv_text_decode(data=upload.read())
            except CsvFileError as error:
                raise forms.ValidationError(str(error)) from error
        if not text.strip():
            raise forms.ValidationError("Paste the list or choose a file.")
        # Here, not at the top: allauth's forms import this module, and the list's invitations
        # import allauth's forms.
        from accounts.partners import partner_list_parse

        self.partners = partner_list_parse(text=text)
        if not self.partners.rows:
            raise forms.ValidationError(
                "Nobody on the list can be invited: "
                + "; ".join(
                    f"line {line}: {reason}" if line else reason
                    for line, reason in self.partners.errors
                )
            )
        return cleaned
