"""Toolbox talks: a supervisor's session for a crew, its check, attendance and completions."""

import json
from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from cms.audit import ACTION_CREATE
from tests.factories import module_with_lessons
from tests.quizzes.conftest import quiz_for
from training.models import (
    Assignment,
    CompletionSource,
    LessonPage,
    ModuleCompletion,
    ToolboxAttendance,
    ToolboxPresence,
    ToolboxSession,
)
from training.reports.filters import ReportFilterForm, report_assignments
from training.services.toolbox import (
    ToolboxRefused,
    toolbox_answer,
    toolbox_present_tick,
    toolbox_session_close,
    toolbox_session_start,
)

pytestmark = pytest.mark.django_db

RIGHT = [0, 0, 0]  # quiz_for's questions: the first choice is the right one
ONE_WRONG = [0, 0, 1]  # 67%: under the pass mark of 80


@pytest.fixture
def talk_module(site):
    """A module with two lessons, one with a scenario to discuss, and a quiz (pass mark 80)."""
    module = module_with_lessons(2, title="Illegal waste")
    lesson = LessonPage.objects.child_of(module).order_by("path").last()
    lesson.body = json.dumps(
        [
            {
                "type": "rich_text",
                "value": "<p>Fly-tipping can hide organised crime.</p>"
                "<ul><li>Note the vehicle</li><li>Do not touch the waste</li></ul>",
            },
            {
                "type": "scenario",
                "value": {
                    "situation": "A van tips rubble behind the depot at dawn.",
                    "question": "What would you do?",
                    "choices": [
                        {
                            "text": "Challenge the driver",
                            "feedback": "No: unsafe.",
                            "is_best": False,
                        },
                        {"text": "Note the registration", "feedback": "Yes.", "is_best": True},
                    ],
                },
            },
        ]
    )
    lesson.save_revision().publish()
    quiz_for(module, questions=4)
    return module


@pytest.fixture
def crew(user_factory):
    """A supervisor (a line manager), three crew members reporting to them, and an outsider."""
    supervisor = user_factory(email="sam.supervisor@example.gov.uk", full_name="Sam Supervisor")
    members = [
        user_factory(email=f"crew{n}@example.gov.uk", full_name=name, line_manager=supervisor)
        for n, name in enumerate(["Ada Crew", "Ben Crew", "Cat Crew"], start=1)
    ]
    outsider = user_factory(email="out@example.gov.uk", full_name="Olly Outsider")
    return {"supervisor": supervisor, "members": members, "outsider": outsider}


@pytest.fixture
def session(talk_module, crew):
    started = toolbox_session_start(
        module=talk_module, supervisor=crew["supervisor"], team_of=crew["supervisor"]
    )
    toolbox_present_tick(session=started, attendee_ids=[m.pk for m in crew["members"]])
    return started


def recorded() -> tuple[int, int]:
    return ToolboxAttendance.objects.count(), ModuleCompletion.objects.count()


# SERVICES ------------------------------------------------------------------------------------


def test_a_pass_appends_a_toolbox_completion_witnessed_by_the_supervisor(session, crew):
    ada = crew["members"][0]
    assignment = Assignment.objects.create(
        user=ada,
        module=session.module,
        assigned_at=timezone.now() - timedelta(days=5),
        due_on=timezone.localdate() + timedelta(days=20),
        valid_months=12,
    )
    earlier_head = ModuleCompletion.objects.order_by("-pk").first()

    attendance = toolbox_answer(session=session, attendee=ada, answers=RIGHT, on_own_device=False)

    assert (attendance.passed, attendance.score, attendance.witness) == (
        True,
        100,
        crew["supervisor"],
    )
    completion = attendance.completion
    assert completion.user == ada
    assert completion.source == CompletionSource.TOOLBOX
    assert completion.module_version == session.module_version
    # In the one evidence chain: signed, and linked to the record before it.
    completion.refresh_from_db()
    assert completion.record_hash == completion.compute_hash()
    assert completion.previous_hash == (earlier_head.record_hash if earlier_head else "")
    assignment.refresh_from_db()
    assert assignment.completed_at == completion.completed_at
    assert assignment.valid_until is not None


def test_a_failed_check_records_attendance_not_passed_and_no_completion(session, crew):
    ben = crew["members"][1]

    attendance = toolbox_answer(
        session=session, attendee=ben, answers=ONE_WRONG, on_own_device=True
    )

    assert (attendance.passed, attendance.score, attendance.completion) == (False, 67, None)
    assert not ModuleCompletion.objects.filter(user=ben).exists()


def test_a_second_answer_is_refused_and_the_first_stands(session, crew):
    ada = crew["members"][0]
    toolbox_answer(session=session, attendee=ada, answers=ONE_WRONG, on_own_device=False)

    with pytest.raises(ToolboxRefused, match="already answered"):
        toolbox_answer(session=session, attendee=ada, answers=RIGHT, on_own_device=False)

    assert recorded() == (1, 0)


def test_answers_after_the_talk_closes_are_refused(session, crew):
    assert toolbox_session_close(session=session) is True
    assert toolbox_session_close(session=session) is False

    with pytest.raises(ToolboxRefused, match="has closed"):
        toolbox_answer(
            session=session, attendee=crew["members"][0], answers=RIGHT, on_own_device=True
        )
    with pytest.raises(ToolboxRefused, match="has closed"):
        toolbox_present_tick(session=session, attendee_ids=[crew["members"][0].pk])

    assert recorded() == (0, 0)


def test_a_talk_left_open_stops_taking_answers_after_a_working_day(session, crew):
    with pytest.raises(ToolboxRefused, match="has closed"):
        toolbox_answer(
            session=session,
            attendee=crew["members"][0],
            answers=RIGHT,
            on_own_device=True,
            now=session.started_at + timedelta(hours=9),
        )
    assert recorded() == (0, 0)


def test_only_the_roster_can_be_ticked_present_and_answer(session, crew):
    outsider = crew["outsider"]

    with pytest.raises(ToolboxRefused, match="team HR imported"):
        toolbox_present_tick(session=session, attendee_ids=[outsider.pk])
    with pytest.raises(ToolboxRefused, match="not ticked present"):
        toolbox_answer(session=session, attendee=outsider, answers=RIGHT, on_own_device=True)

    assert not ToolboxPresence.objects.filter(attendee=outsider).exists()
    assert recorded() == (0, 0)


def test_an_answer_of_the_wrong_shape_records_nothing(session, crew):
    with pytest.raises(ToolboxRefused, match="Answer every question"):
        toolbox_answer(
            session=session, attendee=crew["members"][0], answers=[0, 9, 0], on_own_device=True
        )
    assert recorded() == (0, 0)


def test_a_talk_starts_only_where_a_check_and_a_team_exist(site, crew, user_factory):
    no_quiz = module_with_lessons(1, slug="no-quiz", title="No quiz")
    lonely = user_factory(email="lonely@example.gov.uk", full_name="Lonely")
    with_quiz = module_with_lessons(1, slug="with-quiz", title="With quiz")
    quiz_for(with_quiz, questions=3)

    with pytest.raises(ToolboxRefused, match="three questions"):
        toolbox_session_start(
            module=no_quiz, supervisor=crew["supervisor"], team_of=crew["supervisor"]
        )
    with pytest.raises(ToolboxRefused, match="line managers and HR"):
        toolbox_session_start(module=with_quiz, supervisor=lonely, team_of=lonely)
    with pytest.raises(ToolboxRefused, match="own team"):
        toolbox_session_start(module=with_quiz, supervisor=crew["supervisor"], team_of=lonely)

    assert not ToolboxSession.objects.exists()


def test_starting_draws_three_questions_and_is_audited(talk_module, crew):
    from wagtail.models import ModelLogEntry

    started = toolbox_session_start(
        module=talk_module, supervisor=crew["supervisor"], team_of=crew["supervisor"]
    )

    assert len(started.questions) == 3
    assert started.pass_mark == 80
    assert len(started.token) >= 40
    assert ModelLogEntry.objects.filter(
        object_id=str(started.pk), action=ACTION_CREATE, user=crew["supervisor"]
    ).exists()


def refused(attempt):
    with pytest.raises(DatabaseError), transaction.atomic():
        attempt()


def raw(sql: str):
    with connection.cursor() as cursor:
        cursor.execute(sql)


def test_the_database_keeps_the_talk_and_its_attendance_as_evidence(session, crew):
    toolbox_answer(session=session, attendee=crew["members"][0], answers=RIGHT, on_own_device=True)

    refused(lambda: ToolboxAttendance.objects.update(score=0))
    refused(lambda: raw("DELETE FROM training_toolboxattendance"))
    refused(lambda: ToolboxPresence.objects.update(ticked_at=timezone.now()))
    refused(lambda: raw("DELETE FROM training_toolboxpresence"))
    refused(lambda: ToolboxSession.objects.update(pass_mark=0))
    refused(lambda: raw("DELETE FROM training_toolboxsession"))
    # Closing is the one change, once.
    ToolboxSession.objects.update(closed_at=timezone.now())
    refused(lambda: ToolboxSession.objects.update(closed_at=None))

    assert ToolboxAttendance.objects.get().score == 100


def test_the_subject_access_export_lists_the_talks_a_person_answered_at(session, crew):
    from training.privacy import training_personal_data

    ben = crew["members"][1]
    toolbox_answer(session=session, attendee=ben, answers=ONE_WRONG, on_own_device=True)

    (table,) = [t for t in training_personal_data(ben) if t.name == "15-toolbox-talks"]

    assert table.rows == [
        ["Illegal waste", table.rows[0][1], "Sam Supervisor", 67, "no", "yes"],
    ]


# VIEWS ---------------------------------------------------------------------------------------


def test_someone_who_runs_no_talks_is_refused(client, session, crew):
    client.force_login(crew["members"][0])

    assert client.get(reverse("training:toolbox_start")).status_code == 403
    talk = reverse("training:toolbox_talk", kwargs={"token": session.token})
    assert client.get(talk).status_code == 403
    assert (
        client.post(reverse("training:toolbox_close", kwargs={"token": session.token})).status_code
        == 403
    )
    session.refresh_from_db()
    assert session.closed_at is None


def test_another_line_manager_cannot_open_the_talk(client, session, user_factory):
    other = user_factory(email="other.boss@example.gov.uk", full_name="Other Boss")
    user_factory(email="their.report@example.gov.uk", line_manager=other)
    client.force_login(other)

    assert (
        client.get(reverse("training:toolbox_talk", kwargs={"token": session.token})).status_code
        == 404
    )
    assert client.get(reverse("training:toolbox_start")).status_code == 200


def test_a_supervisor_starts_a_talk_and_sees_slides_scenarios_and_the_qr_code(
    client, talk_module, crew, django_assert_max_num_queries
):
    client.force_login(crew["supervisor"])
    response = client.post(reverse("training:toolbox_start"), {"module": talk_module.pk})
    session = ToolboxSession.objects.get()
    assert response.url == reverse("training:toolbox_talk", kwargs={"token": session.token})

    with django_assert_max_num_queries(14):
        page = client.get(response.url)

    html = page.content.decode()
    assert page.status_code == 200
    assert "Lesson 1" in html
    assert "Recognise, record, report." in html
    assert "Many visitors" in html
    assert "Do not touch the waste" in html
    assert "A van tips rubble behind the depot at dawn." in html
    assert "<svg" in html
    assert "QR code for this talk" in html
    assert all(member.full_name in html for member in crew["members"])


def test_the_supervisor_ticks_who_is_here_from_the_roster_only(client, talk_module, crew):
    session = toolbox_session_start(
        module=talk_module, supervisor=crew["supervisor"], team_of=crew["supervisor"]
    )
    client.force_login(crew["supervisor"])
    present = reverse("training:toolbox_present", kwargs={"token": session.token})

    client.post(present, {"present": [crew["outsider"].pk]})
    assert not ToolboxPresence.objects.exists()
    client.post(present, {"present": [crew["members"][0].pk, crew["members"][2].pk]})
    assert set(ToolboxPresence.objects.values_list("attendee", flat=True)) == {
        crew["members"][0].pk,
        crew["members"][2].pk,
    }


def check_data(answers) -> dict:
    return {f"q{n}": str(picked) for n, picked in enumerate(answers, start=1)}


def test_on_the_supervisors_device_each_attendee_answers_in_turn(
    client, session, crew, django_assert_max_num_queries
):
    client.force_login(crew["supervisor"])
    ada = crew["members"][0]
    url = reverse(
        "training:toolbox_check_for", kwargs={"token": session.token, "person_id": ada.pk}
    )

    with django_assert_max_num_queries(15):
        form = client.get(url)
    response = client.post(url, check_data(RIGHT))

    assert form.status_code == 200
    assert "Three questions for Ada Crew" in form.content.decode()
    assert "Ada Crew passed" in response.content.decode()
    attendance = ToolboxAttendance.objects.get(attendee=ada)
    assert attendance.witness == crew["supervisor"]
    assert not attendance.on_own_device


def test_the_supervisors_device_takes_answers_only_for_the_roster(client, session, crew):
    client.force_login(crew["supervisor"])
    url = reverse(
        "training:toolbox_check_for",
        kwargs={"token": session.token, "person_id": crew["outsider"].pk},
    )

    response = client.post(url, check_data(RIGHT))

    assert response.status_code == 404
    assert b"Olly Outsider" not in response.content
    assert recorded() == (0, 0)


def test_a_double_submit_from_a_phone_records_one_row(client, session, crew):
    ada = crew["members"][0]
    client.force_login(ada)
    url = reverse("training:toolbox_check", kwargs={"token": session.token})

    first = client.post(url, check_data(RIGHT))
    second = client.post(url, check_data(RIGHT))

    assert first.status_code == 200
    assert "Ada Crew passed" in first.content.decode()
    assert second.status_code == 403
    assert "already answered" in second.content.decode()
    assert recorded() == (1, 1)
    assert ToolboxAttendance.objects.get().on_own_device


def test_the_qr_code_used_after_the_talk_closed_records_nothing(client, session, crew):
    toolbox_session_close(session=session)
    client.force_login(crew["members"][0])

    response = client.post(
        reverse("training:toolbox_check", kwargs={"token": session.token}), check_data(RIGHT)
    )

    assert response.status_code == 403
    assert "This toolbox talk has closed" in response.content.decode()
    assert recorded() == (0, 0)


def test_someone_not_on_the_roster_scanning_the_code_records_nothing(client, session, crew):
    client.force_login(crew["outsider"])

    response = client.post(
        reverse("training:toolbox_check", kwargs={"token": session.token}), check_data(RIGHT)
    )

    assert response.status_code == 403
    assert "Olly Outsider is not ticked present" in response.content.decode()
    assert recorded() == (0, 0)


def test_a_phone_must_sign_in_before_answering(client, session):
    response = client.get(reverse("training:toolbox_check", kwargs={"token": session.token}))

    assert response.status_code == 302
    assert "/accounts/login/" in response.url


def test_an_unanswered_question_is_asked_again_with_nothing_recorded(client, session, crew):
    client.force_login(crew["members"][0])

    response = client.post(
        reverse("training:toolbox_check", kwargs={"token": session.token}), {"q1": "0", "q2": "0"}
    )

    assert response.status_code == 200
    assert "Choose an answer to question 3." in response.content.decode()
    assert recorded() == (0, 0)


def test_hr_runs_a_talk_for_a_line_managers_team(client, talk_module, crew, signed_in_with_mfa):
    hr = signed_in_with_mfa("hr.adviser@example.gov.uk", groups=["HR"], full_name="Hana HR")

    response = client.post(
        reverse("training:toolbox_start"),
        {"module": talk_module.pk, "team_of": crew["supervisor"].pk},
    )

    session = ToolboxSession.objects.get()
    assert (session.supervisor, session.team_of) == (hr, crew["supervisor"])
    page = client.get(response.url).content.decode()
    assert "Sam Supervisor\u2019s team" in page
    assert "Cat Crew" in page


# REPORTS -------------------------------------------------------------------------------------


def test_reports_filter_assignments_by_how_they_were_completed(session, crew):
    ada, ben, _ = crew["members"]
    for person in (ada, ben):
        Assignment.objects.create(
            user=person,
            module=session.module,
            assigned_at=timezone.now() - timedelta(days=5),
            due_on=timezone.localdate() + timedelta(days=20),
        )
    toolbox_answer(session=session, attendee=ada, answers=RIGHT, on_own_device=False)
    from training.services.completion import completion_record_create

    completion_record_create(
        user=ben,
        module=session.module,
        module_version=session.module_version,
        score=90,
        completed_at=timezone.now(),
    )

    def people(source: str) -> set[int]:
        filters = ReportFilterForm({"source": source}).to_filters()
        return set(
            report_assignments(filters=filters, now=timezone.now()).values_list("user", flat=True)
        )

    assert people("toolbox") == {ada.pk}
    assert people("aware") == {ben.pk}
    assert people("") == {ada.pk, ben.pk}


def test_the_overview_counts_toolbox_completions_and_filters_by_source(
    client, session, crew, signed_in_with_mfa
):
    ada = crew["members"][0]
    Assignment.objects.create(
        user=ada,
        module=session.module,
        assigned_at=timezone.now() - timedelta(days=5),
        due_on=timezone.localdate() + timedelta(days=20),
    )
    toolbox_answer(session=session, attendee=ada, answers=RIGHT, on_own_device=False)
    signed_in_with_mfa("hr.reader@example.gov.uk", groups=["HR"])

    everyone = client.get(reverse("aware_reports_overview"))
    toolbox = client.get(reverse("aware_reports_overview"), {"source": "toolbox"})
    online = client.get(reverse("aware_reports_overview"), {"source": "aware"})

    assert everyone.status_code == toolbox.status_code == online.status_code == 200

    def compliant(response) -> int:
        return sum(row.compliant for row in response.context["overview"].modules)

    assert (compliant(everyone), compliant(toolbox), compliant(online)) == (1, 1, 0)
