"""Assignments: rules, sync, status over time, recertification, retakes, exemptions, evidence."""

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from tests.factories import lessons_of, module_with_lessons
from tests.tampering import evidence_triggers_lifted
from training.models import Assignment, AssignmentRule, Audience, ModuleCompletion, Status
from training.selectors import assignment_states_for_users
from training.services.assignments import assignments_sync
from training.services.completion import quiz_pass_record
from training.services.exemptions import assignment_exempt
from training.services.progress import lesson_complete

pytestmark = pytest.mark.django_db
LONDON = timezone.get_fixed_timezone(0)


def at(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T09:00:00+00:00")


@pytest.fixture
def officers():
    return Audience.objects.create(name="Officers", slug="officers-test", person_types=["officer"])


@pytest.fixture
def module(site):
    return module_with_lessons(2)


@pytest.fixture
def rule(module, officers):
    return AssignmentRule.objects.create(
        module=module, audience=officers, due_days=28, valid_months=12, reopen_days=60
    )


def status_of(user, when):
    with time_machine.travel(when, tick=False):
        states = assignment_states_for_users(user_ids=[user.pk])[user.pk]
    assert len(states) == 1
    return states[0]


def complete_module(user, module, attempt_id, when):
    with time_machine.travel(when, tick=False):
        for lesson in lessons_of(module):
            lesson_complete(user=user, lesson=lesson)
        _, completion = quiz_pass_record(
            user=user,
            module=module,
            score=90,
            attempt_id=attempt_id,
            module_version=module.version,
        )
    return completion


def test_sync_creates_assignments_for_the_audience_only(rule, user_factory):
    officer = user_factory(email="o@example.gov.uk")
    councillor = user_factory(email="c@example.gov.uk", person_type="councillor")

    with time_machine.travel(at("2026-01-05"), tick=False):
        result = assignments_sync()

    assert result.created == 1
    assignment = Assignment.objects.get()
    assert assignment.user == officer
    assert assignment.due_on == dt.date(2026, 2, 2)
    assert not Assignment.objects.filter(user=councillor).exists()
    assert assignments_sync().created == 0  # idempotent


def test_councillors_are_due_weeks_after_their_election(module, user_factory):
    members = Audience.objects.create(name="Cllrs", slug="cllrs", person_types=["councillor"])
    AssignmentRule.objects.create(module=module, audience=members, councillor_due_weeks=8)
    user_factory(email="c@example.gov.uk", person_type="councillor", start_date=dt.date(2026, 5, 7))

    with time_machine.travel(at("2026-05-08"), tick=False):
        assignments_sync()

    assert Assignment.objects.get().due_on == dt.date(2026, 7, 2)


def test_a_person_leaving_the_audience_has_the_assignment_closed_and_kept(rule, user_factory):
    officer = user_factory(email="o@example.gov.uk")
    assignments_sync()
    officer.person_type = "other"
    officer.save()

    result = assignments_sync()

    assert result.closed == 1
    closed = Assignment.objects.get()
    assert closed.closed_reason == Assignment.Closed.LEFT_AUDIENCE
    assert closed.closed_at is not None


def test_a_deactivated_person_is_closed_as_deactivated(rule, user_factory):
    from accounts.services import user_deactivate

    officer = user_factory(email="o@example.gov.uk")
    assignments_sync()
    user_deactivate(user=officer)

    assignments_sync()

    assert Assignment.objects.get().closed_reason == Assignment.Closed.DEACTIVATED


def test_sync_writes_in_batches_whatever_the_number_of_people(
    rule, officers, user_factory, monkeypatch
):
    """Bounded memory: new assignments go in SYNC_BATCH rows at a time and closings by id in
    batches too, so the queries grow with the batches and not one list holds everyone."""
    from django.test.utils import CaptureQueriesContext

    from training.services import assignments as sync_module

    monkeypatch.setattr(sync_module, "SYNC_BATCH", 5)
    people = [user_factory(email=f"o{n}@example.gov.uk") for n in range(12)]

    def writes(verb: str) -> int:  # SQLite's insert is INSERT OR IGNORE INTO
        return sum(
            1
            for q in queries.captured_queries
            if q["sql"].startswith(verb) and '"training_assignment" ' in q["sql"][:50]
        )

    with CaptureQueriesContext(connection) as queries:
        assert assignments_sync().created == 12
    assert writes("INSERT") == 3  # 5 + 5 + 2
    assert Assignment.objects.open().count() == 12

    for person in people[:11]:
        person.person_type = "other"
        person.save()
    with CaptureQueriesContext(connection) as queries:
        assert assignments_sync().closed == 11
    assert writes("UPDATE") == 3
    assert set(Assignment.objects.open().values_list("user_id", flat=True)) == {people[11].pk}


def test_the_database_refuses_two_open_assignments_for_one_person_and_module(rule, user_factory):
    officer = user_factory(email="o@example.gov.uk")
    assignments_sync()
    existing = Assignment.objects.get()

    with pytest.raises(IntegrityError), transaction.atomic():
        Assignment.objects.create(
            user=officer, module=existing.module, assigned_at=timezone.now(), due_on=existing.due_on
        )


def test_every_status_in_turn_with_time_frozen(rule, module, user_factory):
    officer = user_factory(email="o@example.gov.uk")
    with time_machine.travel(at("2026-01-05"), tick=False):
        assignments_sync()  # due 2 February

    assert status_of(officer, at("2026-01-06")).status == Status.NOT_STARTED
    with time_machine.travel(at("2026-01-07"), tick=False):
        lesson_complete(user=officer, lesson=lessons_of(module)[0])
    assert status_of(officer, at("2026-01-07")).status == Status.IN_PROGRESS
    assert status_of(officer, at("2026-01-20")).status == Status.DUE_SOON
    assert status_of(officer, at("2026-02-02")).status == Status.DUE_SOON
    assert status_of(officer, at("2026-02-03")).status == Status.OVERDUE

    complete_module(officer, module, attempt_id=1, when=at("2026-02-10"))
    done = status_of(officer, at("2026-02-11"))
    assert done.status == Status.COMPLETED
    assert done.valid_until == at("2027-02-10")
    # Recertification opens 60 days before expiry, then the completion expires.
    assert status_of(officer, at("2026-12-11")).status == Status.COMPLETED
    assert status_of(officer, at("2026-12-13")).status == Status.DUE_SOON
    assert status_of(officer, at("2027-02-10")).status == Status.EXPIRED


def test_recertification_over_two_years(rule, module, user_factory):
    officer = user_factory(email="o@example.gov.uk")
    with time_machine.travel(at("2026-01-05"), tick=False):
        assignments_sync()
    complete_module(officer, module, attempt_id=1, when=at("2026-01-20"))
    assert status_of(officer, at("2026-12-01")).status == Status.DUE_SOON

    complete_module(officer, module, attempt_id=2, when=at("2026-12-15"))
    assert status_of(officer, at("2027-01-25")).status == Status.COMPLETED
    assert status_of(officer, at("2027-01-25")).valid_until == at("2027-12-15")
    assert status_of(officer, at("2027-12-16")).status == Status.EXPIRED

    complete_module(officer, module, attempt_id=3, when=at("2027-12-20"))
    assert status_of(officer, at("2028-01-05")).status == Status.COMPLETED
    assert ModuleCompletion.objects.filter(user=officer).count() == 3
    assert Assignment.objects.filter(user=officer).count() == 1


def test_a_must_retake_change_keeps_the_certificate_and_assigns_the_new_version(
    rule, module, user_factory
):
    from training.selectors import certificate_status

    officer = user_factory(email="o@example.gov.uk")
    newcomer = user_factory(email="n@example.gov.uk")
    with time_machine.travel(at("2026-01-05"), tick=False):
        assignments_sync()
    first = complete_module(officer, module, attempt_id=1, when=at("2026-01-10"))

    with time_machine.travel(at("2026-03-01"), tick=False):
        draft = module.get_latest_revision_as_object()
        draft.learners_must_retake = True
        draft.change_note = "New offences."
        draft.save_revision().publish()

    assert certificate_status(completion=first, now=at("2026-03-02")) == "valid"
    old, new = Assignment.objects.filter(user=officer).order_by("pk")
    assert old.closed_reason == Assignment.Closed.SUPERSEDED
    # Up to date until the module's update-by date (60 days), which is when version 2 is due.
    assert (new.required_version, new.due_on) == (2, dt.date(2026, 4, 30))
    assert status_of(officer, at("2026-03-02")).status == Status.DUE_SOON
    assert Assignment.objects.get(user=newcomer).required_version == 2


def test_an_exemption_is_recorded_and_shown(rule, user_factory):
    officer = user_factory(email="o@example.gov.uk")
    hr = user_factory(email="hr.person@example.gov.uk", person_type="other")
    assignments_sync()

    assignment = Assignment.objects.get(user=officer)
    assignment_exempt(assignment=assignment, reason="Long-term secondment", by=hr)

    assignment.refresh_from_db()
    assert (assignment.exempted_by, assignment.exempt_reason) == (hr, "Long-term secondment")
    assert status_of(officer, timezone.now()).status == Status.EXEMPT
    with pytest.raises(ValueError, match="reason"):
        assignment_exempt(assignment=assignment, reason="  ", by=hr)


def test_completion_records_refuse_edits_and_deletes(rule, module, user_factory):
    officer = user_factory(email="o@example.gov.uk")
    assignments_sync()
    completion = complete_module(officer, module, attempt_id=1, when=timezone.now())

    completion.score = 100
    with pytest.raises(ValueError, match="cannot be changed"):
        completion.save()
    with pytest.raises(ValueError, match="cannot be deleted"):
        completion.delete()


def test_verify_records_catches_an_edited_and_a_removed_record(rule, module, user_factory):
    for number in range(3):
        user = user_factory(email=f"o{number}@example.gov.uk")
        assignments_sync()
        complete_module(user, module, attempt_id=number + 1, when=timezone.now())
    out = StringIO()
    call_command("verify_records", stdout=out)
    assert "All 3 completion records are intact" in out.getvalue()

    first, second, third = ModuleCompletion.objects.order_by("pk")
    # Behind the application's back, by someone who can lift the database's triggers.
    with evidence_triggers_lifted(), connection.cursor() as cursor:
        cursor.execute("UPDATE training_modulecompletion SET score = 100 WHERE id = %s", [first.pk])
        cursor.execute("DELETE FROM training_modulecompletion WHERE id = %s", [second.pk])

    out = StringIO()
    with pytest.raises(CommandError, match="2 problem"):
        call_command("verify_records", stdout=out)
    assert f"record {first.pk} (user {first.user_id}, " in out.getvalue()
    assert "content changed (score: 100 on the record, 90 on quiz pass" in out.getvalue()
    assert f"record {third.pk} (user {third.user_id}, " in out.getvalue()
    assert "hash chain broken" in out.getvalue()


def test_an_hr_import_syncs_the_imported_peoples_assignments(
    rule, tmp_path, django_capture_on_commit_callbacks
):
    from config.celery_app import app as celery_app

    csv = tmp_path / "people.csv"
    csv.write_text(
        "employee_number,email,full_name,person_type,department,service_area,job_title,"
        "manager_email,start_date,on_leave_until,active\n"
        "E1,new.officer@example.gov.uk,New Officer,officer,Place > Waste Services,waste,"
        "Waste Officer,,2026-01-05,,yes\n"
    )
    celery_app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            call_command("import_people", str(csv), stdout=StringIO())
    finally:
        celery_app.conf.task_always_eager = False

    assert Assignment.objects.get().user.email == "new.officer@example.gov.uk"


def test_a_rule_made_recommended_makes_its_open_assignments_recommended(rule, user_factory):
    officer = user_factory(email="o@example.gov.uk")
    by_hand = user_factory(email="h@example.gov.uk", person_type="other")
    assignments_sync()
    Assignment.objects.create(
        user=by_hand,
        module=rule.module,
        mandatory=True,
        assigned_at=timezone.now(),
        due_on=dt.date(2027, 1, 1),
    )
    assert Assignment.objects.get(user=officer).mandatory

    rule.mandatory = False
    rule.save()
    result = assignments_sync()

    assert (result.created, result.closed, result.changed) == (0, 0, 1)
    assert not Assignment.objects.get(user=officer).mandatory
    assert Assignment.objects.get(user=by_hand).mandatory  # made by hand: HR's choice stands
    assert assignments_sync().changed == 0
