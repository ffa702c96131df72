"""HR's people CSV: validation, upsert, managers, leavers, invitations, the command."""

import csv
import io
import logging
import re
from datetime import date
from pathlib import Path
from urllib.parse import urlparse

import pytest
from allauth.account.models import EmailAddress
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.importers import COLUMNS, PeopleFileError, people_import_plan
from accounts.management.commands.load_accounts_data import department_from_path
from accounts.models import Department, PersonType, User
from accounts.services import people_import
from accounts.signals import people_imported
from cms.uploads import CsvFileError, csv_text_decode

pytestmark = pytest.mark.django_db

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "people-example.csv"


def person(number: str = "E1", **cells) -> dict[str, str]:
    """A valid officer row; override any cell."""
    row = {
        "employee_number": number,
        "email": f"{number.lower()}@example.gov.uk",
        "full_name": f"Person {number}",
        "person_type": "officer",
        "department": "Neighbourhoods > Housing",
        "service_area": "housing",
        "job_title": "Tenancy Officer",
        "manager_email": "",
        "start_date": "2024-04-01",
        "on_leave_until": "",
        "active": "yes",
    }
    row.update(cells)
    return row


def csv_of(*rows: dict[str, str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


@pytest.fixture
def celery_eager():
    """Queued tasks run at once, as a worker would run them."""
    from config.celery_app import app

    original = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = original


@pytest.fixture
def imported(django_capture_on_commit_callbacks, celery_eager):
    """Import, then run what waits for the commit: queued invitations and the signal."""

    def do(text: str, **options):
        with django_capture_on_commit_callbacks(execute=True):
            return people_import(text=text, **options)

    return do


def errors_by_line(text: str) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for error in people_import_plan(text=text).errors:
        found.setdefault(error.line, []).append(error.reason)
    return found


# Creating and updating


def test_the_example_file_creates_everyone_with_departments_and_managers(imported, mailoutbox):
    result = imported(csv_text_decode(data=EXAMPLE.read_bytes()))

    assert (result.created, result.updated, result.deactivated, result.errors) == (7, 0, 0, [])
    priya = User.objects.get(employee_number="E1003")
    # Her manager is on a later line of the file: set in the second pass.
    assert priya.line_manager == User.objects.get(email="sam.okoro@example.gov.uk")
    assert priya.department.full_name == "Neighbourhoods > Environmental Health"
    assert priya.service_area == "environmental-health"
    assert (priya.start_date, priya.on_leave_until) == (date(2024, 1, 15), date(2026, 12, 31))
    assert not priya.has_usable_password()
    assert EmailAddress.objects.get(user=priya).verified
    assert Department.objects.filter(name="Environmental Health").count() == 1
    councillor = User.objects.get(email="cllr.whitfield@example.gov.uk")
    assert councillor.person_type == PersonType.COUNCILLOR
    assert councillor.employee_number is None


def test_importing_again_updates_changed_people_and_counts_the_rest_unchanged(imported):
    imported(csv_of(person("E1"), person("E2"), person("E3")))

    result = imported(
        csv_of(
            person("E1", job_title="Senior Tenancy Officer"),
            person(
                "E2", department="Place > Waste Services", service_area="Waste and street scene"
            ),
            person("E3"),
        )
    )

    assert (result.created, result.updated, result.unchanged) == (0, 2, 1)
    assert User.objects.count() == 3
    assert User.objects.get(employee_number="E1").job_title == "Senior Tenancy Officer"
    moved = User.objects.get(employee_number="E2")
    assert moved.department.full_name == "Place > Waste Services"
    assert moved.service_area == "waste"


def test_a_changed_email_is_updated_and_verified_for_sign_in(imported):
    imported(csv_of(person("E1")))

    result = imported(csv_of(person("E1", email="New.Address@Example.gov.uk")))

    assert result.updated == 1
    user = User.objects.get(employee_number="E1")
    assert user.email == "new.address@example.gov.uk"
    address = EmailAddress.objects.get(user=user, primary=True)
    assert (address.email, address.verified) == ("new.address@example.gov.uk", True)


def test_a_councillor_without_an_employee_number_is_matched_by_email(imported):
    councillor = person(
        "", email="cllr.jones@example.gov.uk", person_type="Councillor", department=""
    )
    imported(csv_of({**councillor, "start_date": "07/05/2026"}))

    result = imported(csv_of({**councillor, "job_title": "Cabinet member for housing"}))

    assert (result.created, result.updated) == (0, 1)
    user = User.objects.get(email="cllr.jones@example.gov.uk")
    assert user.job_title == "Cabinet member for housing"
    assert User.objects.filter(person_type=PersonType.COUNCILLOR).count() == 1


def test_a_person_who_signed_up_is_adopted_by_their_email(imported, user_factory):
    signed_up = user_factory(email="e1@example.gov.uk", verified=False)

    result = imported(csv_of(person("E1")))

    assert (result.created, result.updated) == (0, 1)
    signed_up.refresh_from_db()
    assert signed_up.employee_number == "E1"
    assert EmailAddress.objects.get(user=signed_up).verified


def test_a_manager_already_in_aware_is_linked(imported, user_factory):
    boss = user_factory(email="boss@example.gov.uk", employee_number="B1")

    imported(csv_of(person("E1", manager_email="BOSS@example.gov.uk")))

    assert User.objects.get(employee_number="E1").line_manager == boss


def test_managers_later_in_the_file_are_set_in_a_second_pass(imported):
    imported(
        csv_of(
            person("E1", manager_email="e2@example.gov.uk"),
            person("E2", manager_email="e3@example.gov.uk"),
            person("E3"),
        )
    )

    e1, e2, e3 = (User.objects.get(employee_number=n) for n in ("E1", "E2", "E3"))
    assert (e1.line_manager, e2.line_manager, e3.line_manager) == (e2, e3, None)


def test_an_inactive_person_is_deactivated_and_their_record_kept(imported):
    imported(csv_of(person("E1"), person("E2")))

    result = imported(csv_of(person("E1", active="no"), person("E2", active="1")))

    assert (result.deactivated, result.unchanged) == (1, 1)
    leaver = User.objects.get(employee_number="E1")
    assert leaver.is_active is False
    assert leaver.deactivated_at is not None
    assert User.objects.count() == 2

    again = imported(csv_of(person("E1", active="false"), person("E2")))
    assert (again.deactivated, again.unchanged) == (0, 2)

    back = imported(csv_of(person("E1", active="TRUE"), person("E2")))
    assert back.updated == 1
    leaver.refresh_from_db()
    assert (leaver.is_active, leaver.deactivated_at) == (True, None)


# Privileged accounts: the administrator, staff and the privileged roles are kept out of reach


def account_state(user: User) -> tuple:
    user.refresh_from_db()
    groups = sorted(user.groups.values_list("name", flat=True))
    addresses = sorted(EmailAddress.objects.filter(user=user).values_list("email", "verified"))
    return (
        user.full_name,
        user.email,
        user.employee_number,
        user.is_active,
        user.job_title,
        groups,
        addresses,
    )


@pytest.mark.parametrize(
    ("groups", "fields", "role"),
    [
        (["HR"], {}, "HR"),
        (["Member Services"], {}, "Member Services"),
        (["Content editors"], {}, "Content editors"),
        (["Content approvers"], {}, "Content approvers"),
        ([], {"is_superuser": True, "is_staff": True}, "administrator"),
        ([], {"is_staff": True}, "staff rights"),
    ],
)
def test_a_row_matching_a_privileged_account_by_email_is_refused_and_the_account_is_unchanged(
    imported, user_factory, groups, fields, role
):
    # Privileged accounts have no employee number, so the old import adopted them by email.
    account = user_factory(
        email="chief@example.gov.uk", full_name="Chris Chief", groups=groups, **fields
    )
    before = account_state(account)
    text = csv_of(
        person("E1"),
        person("E2", email="chief@example.gov.uk", full_name="Someone Else", active="no"),
    )

    result = imported(text, import_valid_rows=True)

    assert errors_by_line(text) == {
        3: [
            f"email chief@example.gov.uk belongs to a privileged account ({role}), so the HR file "
            "cannot deactivate it: change it in the admin, not through the HR file"
        ]
    }
    assert (result.imported, result.created, result.updated, result.deactivated) == (
        True,
        1,
        0,
        0,
    )
    assert account_state(account) == before
    assert not User.objects.filter(employee_number="E2").exists()


def test_a_superusers_row_is_refused_and_the_administrator_is_unchanged(imported, user_factory):
    admin = user_factory(
        email="admin@example.gov.uk",
        full_name="Ada Admin",
        employee_number="A1",
        is_superuser=True,
        is_staff=True,
    )
    before = account_state(admin)
    text = csv_of(person("A1", email="someone.new@example.gov.uk", full_name="Not Ada"))

    result = imported(text, import_valid_rows=True)

    assert errors_by_line(text) == {
        2: [
            "employee number A1 belongs to a privileged account (administrator), so the HR file "
            "cannot update it: change it in the admin, not through the HR file"
        ]
    }
    assert result.imported is False
    assert account_state(admin) == before
    assert not User.objects.filter(email="someone.new@example.gov.uk").exists()


def test_a_row_marking_a_privileged_person_inactive_is_refused(imported, user_factory):
    hr = user_factory(email="h1@example.gov.uk", full_name="Person H1", groups=["HR"])
    imported(csv_of(person("E1")))
    # HR gave them an employee number in the admin; the HR file now says they have left.
    User.objects.filter(pk=hr.pk).update(employee_number="H1")
    text = csv_of(person("E1", active="no"), person("H1", active="no"))

    result = imported(text, import_valid_rows=True)

    assert "so the HR file cannot deactivate it" in errors_by_line(text)[3][0]
    assert result.deactivated == 1
    hr.refresh_from_db()
    assert (hr.is_active, hr.deactivated_at) == (True, None)
    assert User.objects.get(employee_number="E1").is_active is False


def test_an_unchanged_row_for_a_privileged_person_writes_nothing(imported, user_factory):
    department = department_from_path("Neighbourhoods > Housing")
    hr = user_factory(
        email="h1@example.gov.uk",
        verified=False,
        groups=["HR"],
        full_name="Person H1",
        employee_number="H1",
        department=department,
        service_area="housing",
        job_title="Tenancy Officer",
        start_date=date(2024, 4, 1),
    )
    before = account_state(hr)

    # HR's own row in HR's file, exactly as Aware has it, does not hold up everyone else's.
    result = imported(csv_of(person("E1"), person("H1")))

    assert (result.imported, result.created, result.unchanged, result.errors) == (True, 1, 1, [])
    assert account_state(hr) == before  # not even their email address is marked verified


# Invitations and the signal


def test_new_active_people_are_invited_once_and_can_set_a_password(imported, mailoutbox, client):
    result = imported(csv_of(person("E1"), person("E2", active="no")))

    assert result.invited == 1
    assert [message.to for message in mailoutbox] == [["e1@example.gov.uk"]]
    imported(csv_of(person("E1", job_title="Changed"), person("E2", active="no")))
    assert len(mailoutbox) == 1  # updates are never re-invited

    link = re.search(r"https?://\S+/accounts/password/reset/key/\S+/", mailoutbox[0].body)
    form_page = client.get(urlparse(link.group(0)).path, follow=True)
    assert form_page.status_code == 200
    client.post(
        form_page.redirect_chain[-1][0],
        {"password1": "a-brand-new-password-9", "password2": "a-brand-new-password-9"},
    )
    client.logout()
    signed_in = client.post(
        "/accounts/login/", {"login": "e1@example.gov.uk", "password": "a-brand-new-password-9"}
    )
    assert signed_in.status_code == 302
    assert "/accounts/confirm-email/" not in signed_in["Location"]
    assert client.session.get("_auth_user_id") == str(User.objects.get(employee_number="E1").pk)


def test_invitations_and_the_signal_wait_for_the_commit(
    django_capture_on_commit_callbacks, celery_eager, mailoutbox
):
    received = []

    def receiver(sender, user_ids, **kwargs):
        received.append(sorted(user_ids))

    people_imported.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            people_import(text=csv_of(person("E1"), person("E2")))
        assert (received, mailoutbox) == ([], [])
        for callback in callbacks:
            callback()
    finally:
        people_imported.disconnect(receiver)

    assert received == [sorted(User.objects.values_list("pk", flat=True))]
    assert sorted(m.to[0] for m in mailoutbox) == ["e1@example.gov.uk", "e2@example.gov.uk"]


def test_the_signal_names_only_people_the_import_changed(imported):
    imported(csv_of(person("E1"), person("E2")))
    received = []

    def receiver(sender, user_ids, **kwargs):
        received.append(user_ids)

    people_imported.connect(receiver)
    try:
        imported(csv_of(person("E1", job_title="Changed"), person("E2")))
    finally:
        people_imported.disconnect(receiver)

    assert received == [[User.objects.get(employee_number="E1").pk]]


def test_logs_carry_counts_never_names_or_emails(imported, caplog):
    with caplog.at_level(logging.INFO):
        imported(csv_of(person("E1", full_name="Zebedee Quill")))

    assert "created" in caplog.text
    assert "Zebedee" not in caplog.text
    assert "e1@example.gov.uk" not in caplog.text


# Bad rows: each is reported with its line and reason, and nothing is written


@pytest.mark.parametrize(
    ("rows", "line", "reason"),
    [
        ([person("E1", manager_email="nobody@example.gov.uk")], 2, "unknown manager"),
        ([person("E1", email="not-an-email")], 2, "not a valid email address"),
        ([person("E1", manager_email="boss@")], 2, "not a valid email address"),
        (
            [person("E1", start_date="31/02/2024")],
            2,
            "start_date \u201c31/02/2024\u201d is not a date",
        ),
        ([person("E1", on_leave_until="next week")], 2, "on_leave_until \u201cnext week\u201d"),
        ([person("E1", person_type="contractor")], 2, "person_type \u201ccontractor\u201d is not"),
        ([person("E1", service_area="Parks")], 2, "service_area \u201cParks\u201d is not"),
        ([person("E1", full_name="")], 2, "full_name is required"),
        ([person("E1", email="")], 2, "email is required"),
        ([person("")], 2, "employee_number is required"),
        ([person("E1", active="maybe")], 2, "active \u201cmaybe\u201d must be yes or no"),
        ([person("E1", department="Neighbourhoods > > Housing")], 2, "has an empty part"),
        ([person("E1"), person("E1", email="x@example.gov.uk")], 3, "duplicate employee number E1"),
        ([person("E1"), person("E1", email="x@example.gov.uk")], 2, "also on line 3"),
        ([person("E1"), person("E2", email="E1@example.gov.uk")], 3, "duplicate email"),
        ([person("E1", manager_email="e1@example.gov.uk")], 2, "cannot be their own line manager"),
        (
            [
                person("E1", manager_email="e2@example.gov.uk"),
                person("E2", manager_email="e1@example.gov.uk"),
            ],
            3,
            "manager cycle",
        ),
        (
            [person("E1", manager_email="e2@example.gov.uk"), person("E2", start_date="soon")],
            2,
            "manager e2@example.gov.uk is on line 3, which has errors",
        ),
        (
            [person("E1", manager_email="e2@example.gov.uk"), person("E2", active="no")],
            2,
            "manager e2@example.gov.uk is marked inactive",
        ),
    ],
)
def test_each_bad_row_is_reported_and_nothing_is_written(rows, line, reason):
    text = csv_of(*rows)

    result = people_import(text=text)

    assert any(reason in r for r in errors_by_line(text).get(line, [])), errors_by_line(text)
    assert result.imported is False
    assert (User.objects.count(), Department.objects.count()) == (0, 0)


def test_a_row_with_the_wrong_number_of_cells_is_reported():
    text = csv_of(person("E1")) + "E2,e2@example.gov.uk,Too Short\n"

    assert "has 3 values but the header has 11 columns" in errors_by_line(text)[3][0]


def test_an_email_already_used_by_a_different_person_is_refused(user_factory):
    user_factory(email="taken@example.gov.uk", employee_number="X9")

    found = errors_by_line(csv_of(person("E1", email="taken@example.gov.uk")))

    assert found == {2: ["email taken@example.gov.uk is already used by a different person"]}


def test_a_manager_cycle_through_people_already_in_aware_is_refused(user_factory):
    top = user_factory(email="top@example.gov.uk", employee_number="T1")
    middle = user_factory(email="middle@example.gov.uk", employee_number="M1", line_manager=top)

    # T1 would report to E1, who reports to M1, who reports to T1 in the database.
    text = csv_of(
        person("T1", email="top@example.gov.uk", manager_email="e1@example.gov.uk"),
        person("E1", manager_email="middle@example.gov.uk"),
    )
    found = errors_by_line(text)

    assert "manager cycle" in found[2][0]
    assert "through 1 person(s) already in Aware" in found[2][0]
    assert "manager cycle" in found[3][0]
    result = people_import(text=text)
    assert result.imported is False
    top.refresh_from_db()
    assert top.line_manager is None
    assert middle.line_manager_id == top.pk


def test_valid_rows_are_imported_only_when_asked(imported):
    text = csv_of(
        person("E1"),
        person("E2", start_date="2024-13-01"),
        person("E3", manager_email="e2@example.gov.uk"),
        person("E4", manager_email="e1@example.gov.uk"),
    )

    refused = imported(text)
    assert (refused.imported, refused.bad_lines, User.objects.count()) == (False, 2, 0)

    result = imported(text, import_valid_rows=True)
    assert (result.imported, result.created, result.bad_lines) == (True, 2, 2)
    assert set(User.objects.values_list("employee_number", flat=True)) == {"E1", "E4"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"email,full_name\nx@example.gov.uk,X\n", "missing column(s): employee_number"),
        (csv_of().encode(), "no people"),
        (
            "\ufeff".encode() + csv_of().replace("email", "e-mail").encode(),
            "missing column(s): email, manager_email.",
        ),
        (csv_of().replace("email", "email,email").encode(), "repeated column(s): email"),
    ],
)
def test_an_unreadable_file_is_refused_as_a_whole(data, message):
    with pytest.raises(PeopleFileError, match=re.escape(message)):
        people_import(text=csv_text_decode(data=data))


def test_a_file_that_is_not_utf8_is_refused():
    with pytest.raises(CsvFileError, match="CSV UTF-8"):
        csv_text_decode(data=csv_of(person("E1", full_name="Zo\u00eb")).encode("cp1252"))


def test_departments_are_matched_without_case_and_created_once(imported):
    existing = department_from_path("Neighbourhoods > Housing")

    imported(
        csv_of(
            person("E1", department="neighbourhoods >  HOUSING"),
            person("E2", department="Neighbourhoods > Licensing"),
            person("E3", department="Adults > Social Care > Safeguarding"),
        )
    )

    assert User.objects.get(employee_number="E1").department == existing
    assert Department.objects.filter(name="Neighbourhoods").count() == 1
    assert (
        User.objects.get(employee_number="E3").department.full_name
        == "Adults > Social Care > Safeguarding"
    )
    assert {d.full_name for d in Department.objects.all()} >= {
        "Neighbourhoods > Licensing",
        "Adults > Social Care",
    }


# Scale


def _org(size: int, prefix: str) -> str:
    """A team: one manager, everyone else reporting to them or to the person before them."""
    rows = [person(f"{prefix}0", department="Resources > Finance")]
    for n in range(1, size):
        rows.append(
            person(
                f"{prefix}{n}",
                department=["Resources > Finance", "Place > Waste Services"][n % 2],
                manager_email=f"{prefix.lower()}{n - 1}@example.gov.uk",
                active="no" if n == size - 1 else "yes",
            )
        )
    return csv_of(*rows)


def test_the_number_of_queries_does_not_grow_with_the_number_of_rows():
    department_from_path("Resources > Finance")
    department_from_path("Place > Waste Services")
    counts = []
    for size, prefix in ((10, "A"), (50, "B")):
        with CaptureQueriesContext(connection) as create:
            people_import(text=_org(size, prefix))
        with CaptureQueriesContext(connection) as update:
            people_import(text=_org(size, prefix).replace("Tenancy Officer", "Senior Officer"))
        counts.append((len(create), len(update)))

    assert User.objects.count() == 60
    assert counts[0] == counts[1]


# The command


@pytest.fixture
def manage(monkeypatch):
    """Run manage.py in this process, as a shell would (exit code included).

    run_from_argv closes every database connection when it ends, which would close the test's.
    """
    monkeypatch.setattr("django.core.management.base.connections.close_all", lambda: None)

    def run(*argv: str) -> None:
        ManagementUtility(["manage.py", *argv]).execute()

    return run


def test_the_command_prints_a_summary_and_succeeds(
    manage, tmp_path, capsys, mailoutbox, django_capture_on_commit_callbacks, celery_eager
):
    path = tmp_path / "people.csv"
    path.write_text(csv_of(person("E1"), person("E2", active="no")))

    with django_capture_on_commit_callbacks(execute=True):
        manage("import_people", str(path))

    out = capsys.readouterr().out
    assert "created: 2, updated: 0, deactivated: 0, unchanged: 0, invited: 1, errors: 0" in out
    assert User.objects.count() == 2
    assert len(mailoutbox) == 1


def test_the_command_exits_non_zero_and_writes_nothing_when_a_row_is_bad(manage, tmp_path, capsys):
    path = tmp_path / "people.csv"
    path.write_text(csv_of(person("E1"), person("E2", email="broken")))

    with pytest.raises(SystemExit) as exit_info:
        manage("import_people", str(path))

    assert exit_info.value.code == 1
    captured = capsys.readouterr()
    assert "line 3: email \u201cbroken\u201d is not a valid email address" in captured.err
    assert "1 row(s) have errors, so nothing was imported" in captured.err
    assert User.objects.count() == 0


def test_the_command_reports_rows_for_privileged_accounts_by_line_and_exits_1(
    manage, tmp_path, capsys, user_factory
):
    hr = user_factory(email="hr.lead@example.gov.uk", full_name="Harriet Lead", groups=["HR"])
    before = account_state(hr)
    path = tmp_path / "people.csv"
    path.write_text(
        csv_of(person("E1"), person("E2", email="hr.lead@example.gov.uk", full_name="Renamed"))
    )

    with pytest.raises(SystemExit) as exit_info:
        manage("import_people", str(path))

    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert (
        "line 3: email hr.lead@example.gov.uk belongs to a privileged account (HR), so the HR "
        "file cannot update it: change it in the admin, not through the HR file"
    ) in err
    assert "1 row(s) have errors, so nothing was imported" in err
    assert account_state(hr) == before
    assert not User.objects.filter(employee_number="E1").exists()


def test_the_command_imports_the_valid_rows_when_asked(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text(csv_of(person("E1"), person("E2", email="broken")))
    out, err = io.StringIO(), io.StringIO()

    call_command("import_people", str(path), "--import-valid-rows", stdout=out, stderr=err)

    assert "created: 1, updated: 0, deactivated: 0, unchanged: 0, invited: 1, errors: 1" in (
        out.getvalue()
    )
    assert "line 3:" in err.getvalue()
    assert list(User.objects.values_list("employee_number", flat=True)) == ["E1"]


def test_the_command_refuses_an_unreadable_file_clearly(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("name,mail\n")

    with pytest.raises(CommandError, match="missing column"):
        call_command("import_people", str(path))
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_people", str(tmp_path / "absent.csv"))


def test_staff_on_single_sign_on_only_domains_are_invited_to_use_the_councils_account(
    imported, mailoutbox, site
):
    from accounts.models import SignInSettings

    settings = SignInSettings.for_site(site)
    settings.sso_only_domains = "example.gov.uk"
    settings.sso_button_text = "Sign in with your Borsetshire account"
    settings.save()

    imported(csv_of(person("E1")))

    (invitation,) = mailoutbox
    assert 'press "Sign in with your Borsetshire account"' in invitation.body
    assert "/accounts/password/reset/key/" not in invitation.body
    assert "/accounts/password/reset/key/" not in invitation.alternatives[0][0]
