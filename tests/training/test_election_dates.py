"""A councillor's election date moves the due dates of their open assignments (issue 18): by the
people import or an admin edit; completed, exempt and hand-made assignments keep theirs."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from wagtail.models import ModelLogEntry

from accounts.models import User
from accounts.services import people_import
from tests.accounts.test_import import celery_eager, csv_of, person  # noqa: F401 - a fixture
from tests.factories import module_with_lessons
from training.models import Assignment, AssignmentRule, Audience
from training.services.assignments import assignments_due_on_recalculate, assignments_sync

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]

ASSIGNED = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
ELECTED = dt.date(2026, 5, 7)


@pytest.fixture
def councillor(site, user_factory):
    """A councillor with no election date yet, assigned two modules on 2 March (due 30 March),
    one of which they have since completed."""
    members = Audience.objects.create(name="Cllrs", slug="cllrs", person_types=["councillor"])
    for slug in ("own-module", "done-module"):
        AssignmentRule.objects.create(
            module=module_with_lessons(1, slug=slug, title=slug),
            audience=members,
            due_days=28,
            councillor_due_weeks=8,
        )
    cllr = user_factory(email="c1@example.gov.uk", full_name="Cllr One", person_type="councillor")
    with time_machine.travel(ASSIGNED, tick=False):
        assignments_sync()
    Assignment.objects.filter(module__slug="done-module").update(completed_at=ASSIGNED)
    return cllr


def due_dates(person) -> dict[str, dt.date]:
    return dict(Assignment.objects.filter(user=person).values_list("module__slug", "due_on"))


def moves_logged(assignment: Assignment) -> list[dict]:
    entries = ModelLogEntry.objects.for_instance(assignment).filter(
        action="wagtail.edit", data__via="change of election date"
    )
    return [change for entry in entries for change in entry.data["changes"]]


def test_a_new_election_date_in_the_import_moves_open_assignments_only(
    councillor, django_capture_on_commit_callbacks
):
    assert due_dates(councillor)["own-module"] == dt.date(2026, 3, 30)
    row = person(
        "",
        email=councillor.email,
        full_name="Cllr One",
        person_type="councillor",
        department="",
        service_area="",
        job_title="",
        start_date=ELECTED.isoformat(),
    )
    with (
        time_machine.travel(ASSIGNED + dt.timedelta(days=10), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        result = people_import(text=csv_of(row))

    assert result.updated == 1
    dates = due_dates(councillor)
    assert dates["own-module"] == ELECTED + dt.timedelta(weeks=8)  # 2 July
    assert dates["done-module"] == dt.date(2026, 3, 30)  # completed: untouched
    own = Assignment.objects.get(user=councillor, module__slug="own-module")
    assert moves_logged(own) == [
        {"field": "due_on", "label": "Due on", "before": "2026-03-30", "after": "2026-07-02"}
    ]


def test_an_import_that_leaves_the_election_date_alone_moves_nothing(
    councillor, django_capture_on_commit_callbacks
):
    Assignment.objects.filter(module__slug="own-module").update(due_on=dt.date(2026, 4, 30))
    row = person(
        "",
        email=councillor.email,
        full_name="Cllr Renamed",
        person_type="councillor",
        department="",
        service_area="",
        job_title="",
        start_date="",
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert people_import(text=csv_of(row)).updated == 1

    assert due_dates(councillor)["own-module"] == dt.date(2026, 4, 30)  # HR's date is kept


def test_hr_changing_the_election_date_in_the_admin_moves_the_due_dates(
    councillor, client, signed_in_with_mfa
):
    hr = signed_in_with_mfa("hr.person@example.gov.uk", groups=["HR"])

    response = client.post(
        reverse("wagtailusers_users:edit", args=[councillor.pk]),
        {
            "email": councillor.email,
            "full_name": councillor.full_name,
            "person_type": "councillor",
            "start_date": ELECTED.isoformat(),
            "is_active": "on",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    councillor.refresh_from_db()
    assert councillor.start_date == ELECTED
    assert due_dates(councillor)["own-module"] == dt.date(2026, 7, 2)
    own = Assignment.objects.get(user=councillor, module__slug="own-module")
    entry = ModelLogEntry.objects.for_instance(own).get(data__via="change of election date")
    assert entry.user == hr
    edit = ModelLogEntry.objects.for_instance(councillor).get(action="wagtail.edit")
    assert {"field": "start_date", "label": "Start date", "before": "—", "after": "2026-05-07"} in (
        edit.data["changes"]
    )


def test_an_admin_edit_of_an_officers_start_date_moves_nothing(client, signed_in_with_mfa, site):
    signed_in_with_mfa("hr.person@example.gov.uk", groups=["HR"])
    officers = Audience.objects.create(name="Officers", slug="officers", person_types=["officer"])
    AssignmentRule.objects.create(module=module_with_lessons(1), audience=officers, due_days=28)
    officer = User.objects.create_user(email="o@example.gov.uk", full_name="Olly Officer")
    with time_machine.travel(ASSIGNED, tick=False):
        assignments_sync()

    response = client.post(
        reverse("wagtailusers_users:edit", args=[officer.pk]),
        {
            "email": officer.email,
            "full_name": officer.full_name,
            "person_type": "officer",
            "start_date": "2026-06-01",
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    assert Assignment.objects.get(user=officer).due_on == dt.date(2026, 3, 30)


def test_exempt_and_hand_made_assignments_keep_their_due_dates(councillor):
    own = Assignment.objects.get(user=councillor, module__slug="own-module")
    Assignment.objects.filter(pk=own.pk).update(exempt_reason="Long-term sick")
    hand_made = Assignment.objects.create(
        user=councillor,
        module=module_with_lessons(1, slug="hand-made", title="Hand made"),
        assigned_at=ASSIGNED,
        due_on=dt.date(2026, 4, 1),
    )
    councillor.start_date = ELECTED
    councillor.save()

    assert assignments_due_on_recalculate(user_ids=[councillor.pk]) == 0
    assert due_dates(councillor) == {
        "own-module": dt.date(2026, 3, 30),
        "done-module": dt.date(2026, 3, 30),
        "hand-made": hand_made.due_on,
    }


def test_an_election_date_long_past_gives_the_days_from_assignment(councillor):
    councillor.start_date = dt.date(2022, 5, 5)
    councillor.save()
    Assignment.objects.filter(module__slug="own-module").update(due_on=dt.date(2026, 9, 1))

    with time_machine.travel(timezone.now(), tick=False):
        assert assignments_due_on_recalculate(user_ids=[councillor.pk]) == 1

    assert due_dates(councillor)["own-module"] == dt.date(2026, 3, 30)  # 28 days from 2 March
