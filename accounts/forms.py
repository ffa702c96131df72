"""Forms for people: allauth's sign-up extras, Wagtail's user admin and HR's CSV import."""

from django import forms
from django.core.exceptions import ValidationError
from wagtail.users.forms import UserCreationForm, UserEditForm

from accounts.importers import PeopleFileError, people_csv_check, people_csv_decode
from accounts.models import User

PROFILE_FIELDS = ["full_name", "person_type", "department", "service_area", "job_title"]


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


class PeopleImportUploadForm(forms.Form):
    """HR's people CSV: UTF-8, the right header and at least one row, or a clear error."""

    MAX_BYTES = 20 * 1024 * 1024

    file = forms.FileField(
        label="People file (CSV)",
        help_text="Save from Excel as “CSV UTF-8”. Nothing is changed until you have "
        "seen a preview and confirmed it.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise ValidationError("The file is larger than 20 MB. Split it into smaller files.")
        try:
            self.text = people_csv_decode(data=upload.read())
            people_csv_check(text=self.text)
        except PeopleFileError as error:
            raise ValidationError(str(error)) from error
        return upload


class PeopleImportConfirmForm(forms.Form):
    """The counts the preview showed: the import goes ahead only if they still hold."""

    create = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    update = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    deactivate = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    unchanged = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    invite = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    errors = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
