"""HR's people import in the Wagtail admin: upload, preview (writes nothing), confirm once."""

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from accounts.models import Department, PeopleImport, User
from accounts.services import people_import
from tests.accounts.test_import import celery_eager, csv_of, person  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db

UPLOAD_URL = "/cms/people/import/"


@pytest.fixture
def hr_client(client, signed_in_with_mfa):
    signed_in_with_mfa("hr.person@example.gov.uk", groups=["HR"])
    return client


def upload(client, text: str, name: str = "people.csv"):
    return client.post(
        UPLOAD_URL, {"file": SimpleUploadedFile(name, text.encode(), content_type="text/csv")}
    )


def flash(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def mixed_file(user_factory) -> str:
    """Two new people, one update, one leaver, one bad row and one row that depends on it."""
    user_factory(email="e3@example.gov.uk", employee_number="E3", full_name="Person E3")
    user_factory(email="e4@example.gov.uk", employee_number="E4", full_name="Person E4")
    return csv_of(
        person("E1"),
        person("E2", manager_email="e1@example.gov.uk"),
        person("E3", job_title="Team Leader"),
        person("E4", active="no"),
        person("E5", start_date="31/31/2024"),
        person("E6", manager_email="e5@example.gov.uk"),
    )


def test_hr_sees_the_menu_item_and_the_upload_page(hr_client):
    dashboard = hr_client.get("/cms/")
    page = hr_client.get(UPLOAD_URL)

    assert "Import people" in dashboard.content.decode()
    assert page.status_code == 200
    assert 'type="file"' in page.content.decode()
    assert "manager_email" in page.content.decode()


@pytest.mark.parametrize("group", ["Content editors", "Member Services"])
def test_admin_users_outside_hr_get_403_and_no_menu_item(client, signed_in_with_mfa, group):
    hr = User.objects.create_user(email="hr.owner@example.gov.uk", full_name="HR Owner")
    preview = PeopleImport.objects.create(
        token="t" * 43, uploaded_by=hr, filename="p.csv", csv_text=csv_of(person("E1"))
    )
    signed_in_with_mfa("not.hr@example.gov.uk", groups=[group])

    assert client.get(UPLOAD_URL).status_code == 403
    assert upload(client, csv_of(person("E1"))).status_code == 403
    assert client.get(f"{UPLOAD_URL}{preview.token}/").status_code == 403
    assert client.post(f"{UPLOAD_URL}{preview.token}/", {}).status_code == 403
    assert "Import people" not in client.get("/cms/").content.decode()
    assert not User.objects.filter(employee_number="E1").exists()
    assert PeopleImport.objects.count() == 1


def test_a_learner_without_admin_access_is_turned_away(client, roles, user_factory):
    client.force_login(user_factory(email="learner.person@example.gov.uk"))

    response = upload(client, csv_of(person("E1")))

    # Wagtail's own guard answers before the view: to the admin's sign-in, which says they are
    # signed in without access to it, and nothing is kept.
    assert response.status_code == 302
    assert response["Location"].startswith("/cms/login/")
    assert client.get(response["Location"]).status_code == 403
    assert PeopleImport.objects.count() == 0


def test_the_preview_shows_counts_and_every_bad_row_and_writes_nothing(hr_client, user_factory):
    text = mixed_file(user_factory)
    before = (User.objects.count(), Department.objects.count())

    uploaded = upload(hr_client, text)
    preview = hr_client.get(uploaded["Location"])

    assert uploaded["Location"].startswith(UPLOAD_URL)
    html = preview.content.decode()
    for label, count in [
        ("People to create", 2),
        ("People to update", 1),
        ("People to deactivate", 1),
        ("Invitations to set a password", 2),
        ("Rows with errors (not imported)", 2),
    ]:
        assert f'<th scope="row">{label}</th><td>{count}</td>' in html
    assert "<td>6</td><td>start_date \u201c31/31/2024\u201d is not a date" in html
    assert "<td>7</td><td>manager e5@example.gov.uk is on line 6, which has errors" in html
    assert "Import the 4 valid rows" in html
    assert (User.objects.count(), Department.objects.count()) == before
    assert User.objects.get(employee_number="E4").is_active


def page_text(html: str) -> str:
    """The page as read aloud: tags dropped, white space collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_preview_names_everyone_to_deactivate_or_rename_with_old_and_new_values(
    hr_client, user_factory
):
    user_factory(email="e3@example.gov.uk", employee_number="E3", full_name="Person E3")
    user_factory(email="e4@example.gov.uk", employee_number="E4", full_name="Leslie Leaver")
    user_factory(email="sam.signup@example.gov.uk", full_name="Sam Signup")
    text = csv_of(
        person("E1"),
        person("E3", full_name="Pat Newname", email="pat.newname@example.gov.uk"),
        person("E4", full_name="Leslie Leaver", active="no"),
        person("E5", email="sam.signup@example.gov.uk", full_name="Sam Signup"),
    )

    html = hr_client.get(upload(hr_client, text)["Location"]).content.decode()

    spoken = page_text(html)
    assert "1 person to deactivate" in spoken
    assert "4 Leslie Leaver e4@example.gov.uk E4" in spoken
    assert "2 people to rename or give another email or employee number" in spoken
    assert (
        "3 Person E3 e3@example.gov.uk "
        "Name: Person E3 \u2192 becomes Pat Newname "
        "Email: e3@example.gov.uk \u2192 becomes pat.newname@example.gov.uk"
    ) in spoken
    assert (
        "5 Sam Signup sam.signup@example.gov.uk Employee number: none \u2192 becomes E5"
    ) in spoken
    assert 'aria-labelledby="people-import-leavers"' in html
    assert 'aria-labelledby="people-import-renamed"' in html
    assert User.objects.get(employee_number="E3").full_name == "Person E3"


@pytest.mark.usefixtures("celery_eager")
def test_the_admin_refuses_rows_for_privileged_accounts_and_imports_the_rest(
    hr_client, user_factory, django_capture_on_commit_callbacks
):
    hr = User.objects.get(email="hr.person@example.gov.uk")
    editor = user_factory(
        email="eddie.editor@example.gov.uk", full_name="Eddie Editor", groups=["Content editors"]
    )
    text = csv_of(
        person("E1"),
        person("E2", email="hr.person@example.gov.uk", active="no"),
        person("E3", email="eddie.editor@example.gov.uk", full_name="Someone Else"),
    )

    uploaded = upload(hr_client, text)
    preview = hr_client.get(uploaded["Location"])
    confirm = dict(preview.context["confirm_form"].initial)
    with django_capture_on_commit_callbacks(execute=True):
        done = hr_client.post(uploaded["Location"], confirm)

    html = preview.content.decode()
    assert (
        "<td>3</td><td>email hr.person@example.gov.uk belongs to a privileged account (HR), "
        "so the HR file cannot deactivate it: change it in the admin, not through the HR file"
    ) in html
    assert (
        "<td>4</td><td>email eddie.editor@example.gov.uk belongs to a privileged account "
        "(Content editors), so the HR file cannot update it"
    ) in html
    assert "to deactivate</h2>" not in html
    assert "Import the 1 valid row" in html
    assert "1 created, 0 updated, 0 deactivated" in flash(done)[0]
    hr.refresh_from_db()
    editor.refresh_from_db()
    assert (hr.is_active, hr.employee_number, hr.full_name) == (True, None, "Test Learner")
    assert (editor.full_name, editor.employee_number) == ("Eddie Editor", None)
    assert list(editor.groups.values_list("name", flat=True)) == ["Content editors"]


@pytest.mark.usefixtures("celery_eager")
def test_confirming_imports_the_valid_rows_once(
    hr_client, user_factory, mailoutbox, django_capture_on_commit_callbacks
):
    uploaded = upload(hr_client, mixed_file(user_factory))
    preview = hr_client.get(uploaded["Location"])
    confirm = {name: value for name, value in preview.context["confirm_form"].initial.items()}

    with django_capture_on_commit_callbacks(execute=True):
        done = hr_client.post(uploaded["Location"], confirm)
    with django_capture_on_commit_callbacks(execute=True):
        again = hr_client.post(uploaded["Location"], confirm)

    assert done.status_code == 302
    assert flash(done) == [
        "People imported: 2 created, 1 updated, 1 deactivated, 0 unchanged. "
        "2 invitation(s) to set a password are being sent. 2 row(s) with errors were skipped."
    ]
    assert set(User.objects.values_list("employee_number", flat=True)) >= {"E1", "E2", "E3"}
    assert not User.objects.filter(employee_number__in=["E5", "E6"]).exists()
    assert User.objects.get(employee_number="E4").is_active is False
    assert sorted(m.to[0] for m in mailoutbox) == ["e1@example.gov.uk", "e2@example.gov.uk"]
    # The double submit: refused with a message, nothing imported or sent twice.
    assert "already imported" in flash(again)[-1]
    assert User.objects.filter(employee_number__in=["E1", "E2"]).count() == 2
    assert len(mailoutbox) == 2
    kept = PeopleImport.objects.get()
    assert (kept.csv_text, kept.summary["created"]) == ("", 2)


def test_a_clean_file_offers_import_all(hr_client):
    uploaded = upload(hr_client, csv_of(person("E1"), person("E2")))

    html = hr_client.get(uploaded["Location"]).content.decode()

    assert "Import all" in html
    assert "valid row" not in html


def test_a_file_with_no_valid_row_offers_no_import(hr_client):
    uploaded = upload(hr_client, csv_of(person("E1", email="broken")))

    html = hr_client.get(uploaded["Location"]).content.decode()

    assert "No row can be imported" in html
    assert "Import all" not in html


def test_an_expired_preview_is_refused_and_changes_nothing(hr_client):
    uploaded = upload(hr_client, csv_of(person("E1")))
    preview = hr_client.get(uploaded["Location"])
    confirm = dict(preview.context["confirm_form"].initial)
    PeopleImport.objects.update(
        created_at=PeopleImport.objects.get().created_at - timedelta(hours=2)
    )

    stale_get = hr_client.get(uploaded["Location"])
    stale_post = hr_client.post(uploaded["Location"], confirm)

    assert stale_get["Location"] == UPLOAD_URL
    assert "has expired" in flash(stale_get)[0]
    assert "has expired or is not yours" in flash(stale_post)[-1]
    assert not User.objects.filter(employee_number="E1").exists()


def test_an_unknown_or_someone_elses_token_is_refused(hr_client, signed_in_with_mfa):
    uploaded = upload(hr_client, csv_of(person("E1")))
    confirm = dict(hr_client.get(uploaded["Location"]).context["confirm_form"].initial)
    signed_in_with_mfa("second.hr@example.gov.uk", groups=["HR"])

    other = hr_client.post(uploaded["Location"], confirm)
    unknown = hr_client.post(f"{UPLOAD_URL}not-a-token/", confirm)

    assert "not yours" in flash(other)[0]
    assert "not yours" in flash(unknown)[-1]
    assert not User.objects.filter(employee_number="E1").exists()


def test_a_preview_overtaken_by_other_changes_is_refused(hr_client):
    uploaded = upload(hr_client, csv_of(person("E1"), person("E2")))
    confirm = dict(hr_client.get(uploaded["Location"]).context["confirm_form"].initial)
    people_import(text=csv_of(person("E1")))  # someone else imports E1 meanwhile

    response = hr_client.post(uploaded["Location"], confirm)

    assert "changed since the preview" in flash(response)[0]
    assert not User.objects.filter(employee_number="E2").exists()
    assert PeopleImport.objects.get().imported_at is None


def test_a_forged_confirmation_is_refused(hr_client):
    uploaded = upload(hr_client, csv_of(person("E1")))

    response = hr_client.post(uploaded["Location"], {"create": "lots"})

    assert "nothing was imported" in flash(response)[0]
    assert not User.objects.filter(employee_number="E1").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"name,mail\nA,a@example.gov.uk\n", "missing column(s)"),
        (csv_of(person("E1", full_name="Zo\u00eb")).encode("cp1252"), "CSV UTF-8"),
        (csv_of().encode(), "no people"),
    ],
)
def test_an_unreadable_file_is_refused_on_the_upload_page(hr_client, content, message):
    response = hr_client.post(
        UPLOAD_URL, {"file": SimpleUploadedFile("people.csv", content, content_type="text/csv")}
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    assert PeopleImport.objects.count() == 0


ON_EVERY_DATABASE = [
    pytest.param("any database", id="any-database"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@pytest.mark.parametrize("database", ON_EVERY_DATABASE)
def test_a_people_file_with_a_nul_character_is_refused_at_the_preview(hr_client, database):
    text = csv_of(person("E1"), person("E2", full_name="Person\x00E2"))

    response = upload(hr_client, text)

    assert response.status_code == 200  # the upload form again, with the reason on the field
    assert "not a CSV file (it holds binary data)" in response.content.decode()
    assert not PeopleImport.objects.exists()
    assert not User.objects.filter(email__in=["e1@example.gov.uk", "e2@example.gov.uk"]).exists()


@pytest.mark.parametrize("database", ON_EVERY_DATABASE)
def test_import_people_refuses_a_file_with_a_nul_character(tmp_path, database):
    path = tmp_path / "people.csv"
    path.write_text(csv_of(person("E1", job_title="Tenancy\x00Officer")), encoding="utf-8")

    with pytest.raises(CommandError, match=r"binary data\). Nothing was imported"):
        call_command("import_people", str(path), stdout=StringIO(), stderr=StringIO())

    assert not User.objects.filter(email="e1@example.gov.uk").exists()


def with_extra_columns(text: str) -> str:
    """The file as real HR extracts come: two more columns (one unnamed) around the ones used."""
    lines = text.splitlines()
    lines[0] = f"Payroll grade,{lines[0]},"
    lines[1:] = [f"G7,{line},x" for line in lines[1:]]
    return "\n".join(lines) + "\n"


def test_extra_columns_are_ignored_and_named_in_the_preview(hr_client):
    uploaded = upload(hr_client, with_extra_columns(csv_of(person("E1"), person("E2"))))
    preview = hr_client.get(uploaded["Location"])

    text = page_text(preview.content.decode())
    assert "These columns were ignored: Payroll grade, (blank)." in text
    assert preview.context["summary"]["create"] == 2
    assert preview.context["summary"]["errors"] == 0
    confirm = dict(preview.context["confirm_form"].initial)
    hr_client.post(uploaded["Location"], confirm)
    assert set(User.objects.values_list("employee_number", flat=True)) >= {"E1", "E2"}


def test_a_file_without_extra_columns_lists_none(hr_client):
    preview = hr_client.get(upload(hr_client, csv_of(person("E1")))["Location"])
    assert "These columns were ignored" not in preview.content.decode()


def test_a_missing_required_column_is_still_refused_with_its_name(hr_client):
    text = with_extra_columns(csv_of(person("E1"))).replace("full_name,", "", 1)
    response = upload(hr_client, text)
    assert "missing column(s): full_name" in page_text(response.content.decode())
    assert PeopleImport.objects.count() == 0
