"""Forms for people: allauth's sign-up extras, Wagtail's user admin and HR's CSV import."""

from django import forms
from wagtail.users.forms import UserCreationForm, UserEditForm

from accounts.importers import people_csv_check
from accounts.models import User
from cms.uploads import CsvUploadForm

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
