"""Member Services sees councillors only: in the people admin, its pages and the site history."""

import csv
import io

import pytest
from django.contrib.auth.models import Group

from accounts.models import PersonType
from cms.audit import ACTION_EDIT, audit_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def council(user_factory, roles):
    """One person of each kind, with real ids: HR, a line manager, an officer, a councillor."""
    return {
        "hr": user_factory(email="hr.person@example.gov.uk", full_name="Hana Rees", groups=["HR"]),
        "manager": user_factory(email="manager.x@example.gov.uk", full_name="Mona Leigh"),
        "officer": user_factory(email="officer.x@example.gov.uk", full_name="Oscar Fenn"),
        "councillor": user_factory(
            email="cllr.x@example.gov.uk",
            full_name="Cllr Carys Wynne",
            person_type=PersonType.COUNCILLOR,
        ),
    }


@pytest.fixture
def member_services(signed_in_with_mfa, council):
    return signed_in_with_mfa(
        "members.person@example.gov.uk", groups=["Member Services"], full_name="Mel Sands"
    )


NON_COUNCILLORS = ["hr", "manager", "officer"]


def names_and_emails(council, keys):
    return [council[key].full_name for key in keys] + [council[key].email for key in keys]


def test_the_member_services_role_cannot_view_everyone(roles):
    group = Group.objects.get(name="Member Services")
    codenames = set(group.permissions.values_list("codename", flat=True))

    assert "view_user" not in codenames
    assert "view_councillor" in codenames


@pytest.mark.parametrize(
    "url",
    ["/cms/users/", "/cms/users/results/", "/cms/users/?q=example", "/cms/users/?q=officer.x"],
)
def test_the_people_listing_shows_member_services_councillors_only(
    client, council, member_services, url
):
    response = client.get(url)

    assert response.status_code == 200
    body = response.content.decode()
    for text in names_and_emails(council, NON_COUNCILLORS):
        assert text not in body, f"{url} shows {text}"
    if "officer.x" not in url:
        assert council["councillor"].full_name in body
        assert council["councillor"].email in body


@pytest.mark.parametrize("view", ["edit", "history", "usage", "delete"])
def test_a_non_councillors_pages_are_not_there_for_member_services(
    client, council, member_services, view
):
    for key in NON_COUNCILLORS:
        person = council[key]

        response = client.get(f"/cms/users/{view}/{person.pk}/")

        assert response.status_code == 404, f"{view} of {key}"
        assert person.full_name not in response.content.decode()


def test_deleting_a_non_councillor_is_refused_to_member_services(client, council, member_services):
    officer = council["officer"]

    response = client.post(f"/cms/users/delete/{officer.pk}/")

    assert response.status_code == 404
    officer.refresh_from_db()
    assert officer.is_active


def test_the_people_reports_show_member_services_councillors_only(client, council, member_services):
    for key in NON_COUNCILLORS:
        person = council[key]
        assert client.get(f"/cms/aware-reports/people/{person.pk}/").status_code == 404
        found = client.get(f"/cms/aware-reports/people/?q={person.full_name.split()[-1]}")
        assert person.full_name not in found.content.decode()
    assert client.get(f"/cms/aware-reports/people/{council['councillor'].pk}/").status_code == 200


def edits_recorded(council):
    """HR edited each person's job title: one "Edited" entry each in the site history."""
    for person in council.values():
        audit_record(
            instance=person,
            action=ACTION_EDIT,
            user=council["hr"],
            changes=[{"field": "job_title", "label": "Job title", "before": "''", "after": "'X'"}],
        )


def test_the_site_history_shows_member_services_councillors_only(client, council, member_services):
    edits_recorded(council)

    page = client.get("/cms/reports/site-history/")
    export = client.get("/cms/reports/site-history/?export=csv")

    assert page.status_code == 200
    body = page.content.decode()
    assert council["councillor"].full_name in body
    for key in ["manager", "officer"]:
        assert council[key].full_name not in body
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    assert [row[1] for row in rows[1:]] == [council["councillor"].full_name]


def test_hr_still_sees_everyone(client, council, signed_in_with_mfa):
    signed_in_with_mfa("hr.second@example.gov.uk", groups=["HR"], full_name="Hal Second")
    edits_recorded(council)

    listing = client.get("/cms/users/").content.decode()
    history = client.get("/cms/reports/site-history/").content.decode()

    for person in council.values():
        assert person.email in listing
        assert person.full_name in history
    assert client.get(f"/cms/users/edit/{council['officer'].pk}/").status_code == 200
