"""HR's Assignments listing at scale (issue 18): search by person, filters, rows that name the
person and the module, bulk exempt and bulk extend with a reason, each change audited."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from wagtail.models import ModelLogEntry

from accounts.models import Department
from cms.audit import ACTION_EXEMPT, ACTION_EXTEND
from tests.factories import module_with_lessons
from training.models import Assignment
from training.services.assignments import assignment_due_date_extend

pytestmark = pytest.mark.django_db

LIST = "/cms/snippets/training/assignment/"


@pytest.fixture
def hr(client, signed_in_with_mfa):
    return signed_in_with_mfa("hr.person@example.gov.uk", groups=["HR"], person_type="other")


@pytest.fixture
def place(db):
    root = Department.add_root(name="Place")
    return root, root.add_child(name="Highways"), Department.add_root(name="Resources")


def assign(user, module, *, due_on=None, **fields) -> Assignment:
    return Assignment.objects.create(
        user=user,
        module=module,
        assigned_at=timezone.now(),
        due_on=due_on or timezone.localdate() + dt.timedelta(days=30),
        **fields,
    )


@pytest.fixture
def people(site, user_factory, place):
    _place, highways, resources = place
    slavery = module_with_lessons(1, slug="slavery", title="Modern slavery and human trafficking")
    fraud = module_with_lessons(1, slug="fraud", title="Procurement fraud")
    today = timezone.localdate()
    ali = user_factory(
        email="alex.ali@example.gov.uk",
        full_name="Alex Ali",
        employee_number="E1001",
        department=highways,
    )
    other_ali = user_factory(
        email="alex.ali2@example.gov.uk", full_name="Alex Ali", department=resources
    )
    bea = user_factory(email="bea.stone@example.gov.uk", full_name="Bea Stone")
    return {
        "ali_slavery": assign(ali, slavery, due_on=today - dt.timedelta(days=3)),
        "ali_fraud": assign(ali, fraud, due_on=today + dt.timedelta(days=5)),
        "other_slavery": assign(other_ali, slavery, due_on=today + dt.timedelta(days=60)),
        "bea_fraud": assign(bea, fraud, exempt_reason="Long-term sick"),
        "slavery": slavery,
        "highways": highways,
        "place": _place,
    }


def listed(client, query: str = "") -> str:
    response = client.get(f"{LIST}results/?{query}")
    assert response.status_code == 200
    return response.content.decode()


def rows(html: str) -> int:
    return html.count('data-bulk-action-checkbox class="bulk-action-checkbox"') or html.count(
        'class="bulk-action-checkbox"'
    )


def test_each_row_names_the_person_their_email_number_department_module_and_status(
    client, hr, people
):
    html = listed(client)
    assert "Modern slavery and human trafficking" in html
    assert "alex.ali@example.gov.uk" in html
    assert "E1001" in html
    assert "Place &gt; Highways" in html
    assert "Overdue" in html
    assert "Due soon" in html
    assert "Exempt" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=alex.ali2", {"other_slavery"}),
        ("q=E1001", {"ali_slavery", "ali_fraud"}),
        ("q=Bea+Stone", {"bea_fraud"}),
        ("status=overdue", {"ali_slavery"}),
        ("status=due-soon", {"ali_fraud"}),
        ("status=exempt", {"bea_fraud"}),
        ("status=not-started", {"other_slavery"}),
    ],
)
def test_search_by_name_email_or_employee_number_and_filter_by_status(
    client, hr, people, query, expected
):
    html = listed(client, query)
    for key in ("ali_slavery", "ali_fraud", "other_slavery", "bea_fraud"):
        edit = f"/cms/snippets/training/assignment/edit/{people[key].pk}/"
        assert (edit in html) == (key in expected), (query, key)


def test_filter_by_department_takes_its_services_and_by_due_date_range(client, hr, people):
    html = listed(client, f"department={people['place'].pk}")
    assert f"edit/{people['ali_slavery'].pk}/" in html
    assert f"edit/{people['other_slavery'].pk}/" not in html
    today = timezone.localdate()
    html = listed(
        client,
        f"due_on_from={today:%Y-%m-%d}&due_on_to={today + dt.timedelta(days=10):%Y-%m-%d}",
    )
    assert f"edit/{people['ali_fraud'].pk}/" in html
    assert f"edit/{people['ali_slavery'].pk}/" not in html
    assert f"edit/{people['other_slavery'].pk}/" not in html


def test_the_listing_asks_the_same_number_of_queries_for_many_rows_as_for_few(
    client, hr, people, user_factory
):
    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(LIST).status_code == 200
        return len(ctx.captured_queries)

    few = queries()
    for n in range(40):
        person = user_factory(
            email=f"p{n}@example.gov.uk", full_name=f"P {n}", department=people["highways"]
        )
        assign(person, people["slavery"])
    assert queries() <= few


def test_the_edit_page_names_the_person_and_the_module(client, hr, people):
    response = client.get(f"{LIST}edit/{people['ali_slavery'].pk}/")
    html = response.content.decode()
    title = html.split("<title>")[1].split("</title>")[0]
    assert "Alex Ali" in title
    assert "Modern slavery" in title
    assert f"assignment {people['ali_slavery'].pk}" not in html
    assert "Place &gt; Highways" in html
    assert "E1001" in html


def bulk(client, action: str, ids, data=None):
    query = "&".join(f"id={pk}" for pk in ids)
    url = f"/cms/bulk/training/assignment/{action}/?{query}&next={LIST}"
    return client.post(url, data) if data is not None else client.get(url)


def test_hr_exempts_selected_rows_with_a_reason_each_audited(client, hr, people):
    ids = [people["ali_slavery"].pk, people["other_slavery"].pk]
    page = bulk(client, "exempt", ids).content.decode()
    assert page.count("Alex Ali (alex.ali") == 2
    assert "Modern slavery" in page

    response = bulk(client, "exempt", ids, {"reason": "Seconded to the police"})

    assert response.status_code == 302
    for pk in ids:
        assignment = Assignment.objects.get(pk=pk)
        assert assignment.exempt_reason == "Seconded to the police"
        assert assignment.exempted_by == hr
        entry = ModelLogEntry.objects.get(object_id=str(pk), action=ACTION_EXEMPT)
        assert entry.user == hr
        assert entry.data["reason"] == "Seconded to the police"
        assert entry.data["changes"][0]["after"] == "'Seconded to the police'"
    assert Assignment.objects.get(pk=people["ali_fraud"].pk).exempt_reason == ""


def test_a_bulk_exemption_without_a_reason_changes_nothing(client, hr, people):
    ids = [people["ali_slavery"].pk]
    response = bulk(client, "exempt", ids, {"reason": "  "})
    assert response.status_code == 200
    assert "Give a reason for the exemption." in response.content.decode()
    assert Assignment.objects.get(pk=ids[0]).exempt_reason == ""
    assert not ModelLogEntry.objects.filter(action=ACTION_EXEMPT).exists()


def test_hr_extends_selected_rows_each_audited_with_before_and_after(client, hr, people):
    new = timezone.localdate() + dt.timedelta(days=90)
    ids = [people["ali_slavery"].pk, people["ali_fraud"].pk]
    response = bulk(
        client, "extend", ids, {"new_due_on": f"{new:%Y-%m-%d}", "reason": "Back from leave"}
    )
    assert response.status_code == 302
    for key in ("ali_slavery", "ali_fraud"):
        before = people[key].due_on
        assert Assignment.objects.get(pk=people[key].pk).due_on == new
        entry = ModelLogEntry.objects.get(object_id=str(people[key].pk), action=ACTION_EXTEND)
        assert entry.data["reason"] == "Back from leave"
        assert entry.data["changes"] == [
            {"field": "due_on", "label": "Due on", "before": f"{before}", "after": f"{new}"}
        ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"new_due_on": "", "reason": "x"}, "Give the new due date."),
        ({"new_due_on": "2026-02-31", "reason": "x"}, "Enter the new due date as a real date."),
        ({"new_due_on": "2099-01-01", "reason": ""}, "Give a reason for the extension."),
        ({"new_due_on": "2020-01-01", "reason": "x"}, "must be in the future"),
        ("before_latest", "already due on or after"),
    ],
)
def test_a_bad_bulk_extension_says_why_and_changes_nothing(client, hr, people, data, message):
    ids = [people["ali_slavery"].pk, people["other_slavery"].pk]
    if data == "before_latest":  # later than one row's due date, not the other's
        day = people["other_slavery"].due_on - dt.timedelta(days=1)
        data = {"new_due_on": f"{day:%Y-%m-%d}", "reason": "x"}
    response = bulk(client, "extend", ids, data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert [Assignment.objects.get(pk=pk).due_on for pk in ids] == [
        people["ali_slavery"].due_on,
        people["other_slavery"].due_on,
    ]
    assert not ModelLogEntry.objects.filter(action=ACTION_EXTEND).exists()


def test_closed_assignments_are_refused_in_bulk(client, hr, people):
    closed = people["ali_slavery"]
    Assignment.objects.filter(pk=closed.pk).update(closed_at=timezone.now())
    response = bulk(client, "exempt", [closed.pk], {"reason": "x"})
    assert response.status_code == 200
    assert "closed and cannot change" in response.content.decode()
    assert Assignment.objects.get(pk=closed.pk).exempt_reason == ""


def test_select_all_in_the_listing_never_acts_on_every_assignment(client, hr, people):
    response = bulk(client, "exempt", ["all"], {"reason": "Everyone"})
    assert response.status_code == 200
    assert "No assignments are selected" in response.content.decode()
    assert Assignment.objects.filter(exempt_reason="Everyone").count() == 0


def test_someone_without_the_change_permission_cannot_see_or_use_the_bulk_actions(
    client, signed_in_with_mfa, people
):
    signed_in_with_mfa("ms.person@example.gov.uk", groups=["Member Services"])
    ids = [people["ali_slavery"].pk]
    page = bulk(client, "exempt", ids)
    assert page.status_code == 302
    assert "Alex Ali" not in page.content.decode()
    bulk(client, "exempt", ids, {"reason": "x"})
    assert Assignment.objects.get(pk=ids[0]).exempt_reason == ""


def test_the_extension_service_refuses_an_earlier_date_or_no_reason(people, hr):
    assignment = people["ali_fraud"]
    with pytest.raises(ValueError, match="after the current one"):
        assignment_due_date_extend(
            assignment=assignment, new_due_on=assignment.due_on, reason="x", by=hr
        )
    with pytest.raises(ValueError, match="reason"):
        assignment_due_date_extend(
            assignment=assignment,
            new_due_on=assignment.due_on + dt.timedelta(days=1),
            reason=" ",
            by=hr,
        )
    assert not ModelLogEntry.objects.filter(action=ACTION_EXTEND).exists()
    assert Group.objects.filter(name="HR").exists()
