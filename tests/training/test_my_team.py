"""My team (issue 18): the tree a manager sees, its totals and order, and the manager's actions
(a reminder, more time, an exemption request to HR, another quiz attempt), each audited, each
only on the manager's own tree, each safe to submit twice."""

import datetime as dt

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from wagtail.models import ModelLogEntry, Site

from cms.audit import ACTION_ATTEMPT_GRANT, ACTION_EXTEND, ACTION_NUDGE
from quizzes.models import Attempt, AttemptGrant, AttemptStatus
from tests.factories import module_with_lessons
from tests.quizzes.conftest import finish_lessons, quiz_for
from training.models import (
    Assignment,
    ExemptionRequest,
    ReminderSettings,
    ReportSettings,
    SentMessage,
)
from training.reminders.sending import reminder_message_send
from training.selectors import team_members, team_overview
from training.services.team import (
    TeamActionRefused,
    exemption_request_create,
    exemption_request_decide,
)

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 3, 10)


def assignment(user, module, *, due_in: int, **fields) -> Assignment:
    return Assignment.objects.create(
        user=user,
        module=module,
        assigned_at=timezone.now() - dt.timedelta(days=30),
        due_on=timezone.localdate() + dt.timedelta(days=due_in),
        **fields,
    )


@pytest.fixture
def team(site, user_factory):
    """A head of service over a manager over two officers; and another manager's officer."""
    head = user_factory(email="hana.head@example.gov.uk", full_name="Hana Head")
    manager = user_factory(
        email="mo.manager@example.gov.uk", full_name="Mo Manager", line_manager=head
    )
    alex = user_factory(email="alex.ali@example.gov.uk", full_name="Alex Ali", line_manager=manager)
    bea = user_factory(email="bea.b@example.gov.uk", full_name="Bea Brown", line_manager=manager)
    other_manager = user_factory(email="olu.other@example.gov.uk", full_name="Olu Other")
    outsider = user_factory(
        email="oscar.out@example.gov.uk", full_name="Oscar Outsider", line_manager=other_manager
    )
    module = module_with_lessons(2, slug="fraud", title="Fraud basics")
    return {
        "head": head,
        "manager": manager,
        "alex": alex,
        "bea": bea,
        "other_manager": other_manager,
        "outsider": outsider,
        "module": module,
        "alex_late": assignment(alex, module, due_in=-5),
        "bea_due": assignment(bea, module, due_in=20),
        "outsider_late": assignment(outsider, module, due_in=-5),
    }


def entries(instance, action):
    return list(ModelLogEntry.objects.for_instance(instance).filter(action=action))


# THE PAGE -----------------------------------------------------------------------------------


def test_a_skip_level_manager_sees_reports_of_reports_and_nobody_else(team):
    members = team_members(manager=team["head"])

    assert [(m.person.full_name, m.depth) for m in members] == [
        ("Mo Manager", 1),
        ("Alex Ali", 2),
        ("Bea Brown", 2),
    ]
    assert [m.person.full_name for m in team_members(manager=team["manager"])] == [
        "Alex Ali",
        "Bea Brown",
    ]


def test_a_loop_in_line_managers_does_not_hang_or_list_the_manager(team):
    head = team["head"]
    head.line_manager = team["alex"]  # a data error: Alex "manages" the head of service
    head.save()

    names = [m.person.full_name for m in team_members(manager=team["manager"])]

    assert "Mo Manager" not in names
    assert set(names) == {"Alex Ali", "Bea Brown", "Hana Head"}


def test_rows_come_most_urgent_first_with_totals_and_rate(team, user_factory):
    module2 = module_with_lessons(1, slug="slavery", title="Modern slavery")
    assignment(team["bea"], module2, due_in=-30)  # most overdue
    done = assignment(team["alex"], module2, due_in=-40)
    done.completed_at = timezone.now()
    done.save()

    overview = team_overview(manager=team["manager"])

    order = [(r.member.person.full_name, r.state.assignment.module.title) for r in overview.rows]
    assert order == [
        ("Bea Brown", "Modern slavery"),  # overdue by 30 days
        ("Alex Ali", "Fraud basics"),  # overdue by 5
        ("Bea Brown", "Fraud basics"),  # due in 20
        ("Alex Ali", "Modern slavery"),  # done
    ]
    assert (overview.people, overview.assigned, overview.compliant, overview.overdue) == (
        2,
        4,
        1,
        2,
    )
    assert overview.rate == 25


def test_the_page_shows_due_dates_progress_and_actions(client, team):
    client.force_login(team["manager"])

    html = client.get("/my-team/").content.decode()

    assert "Alex Ali: Fraud basics" in html
    assert "0 of 2" in html
    assert f"/my-team/{team['alex_late'].pk}/nudge/" in html
    assert f"/my-team/{team['alex_late'].pk}/extend/" in html
    assert "Oscar Outsider" not in html
    assert 'data-testid="team-rate">0%' in html


def test_the_header_links_to_my_team_for_managers_only(client, team):
    client.force_login(team["manager"])
    assert 'href="/my-team/">My team' in client.get("/my-training/").content.decode()

    client.force_login(team["alex"])
    assert 'href="/my-team/"' not in client.get("/my-training/").content.decode().replace(
        "See your team", ""
    )


def test_a_new_report_shows_the_link_at_once(client, team, user_factory):
    client.force_login(team["alex"])
    client.get("/my-training/")  # the answer "no" is cached

    user_factory(email="new@example.gov.uk", full_name="New Report", line_manager=team["alex"])

    assert 'href="/my-team/">My team' in client.get("/my-training/").content.decode()


def test_the_query_count_does_not_grow_with_the_tree(
    client, team, user_factory, django_assert_num_queries
):
    quiz_for(team["module"], questions=2)
    client.force_login(team["head"])
    client.get("/my-team/")
    with CaptureQueriesContext(connection) as few:
        client.get("/my-team/")
    expected = len(few)
    for i in range(12):  # a third level, with assignments and attempts
        person = user_factory(
            email=f"deep{i}@example.gov.uk", full_name=f"Deep {i}", line_manager=team["alex"]
        )
        assignment(person, team["module"], due_in=i - 6)

    client.get("/my-team/")
    with django_assert_num_queries(expected):
        html = client.get("/my-team/").content.decode()
    assert "Deep 11" in html


# NUDGE --------------------------------------------------------------------------------------


def test_a_nudge_sends_one_email_through_the_reminder_log_and_is_audited(client, team):
    client.force_login(team["manager"])
    url = f"/my-team/{team['alex_late'].pk}/nudge/"

    assert "Send the reminder" in client.get(url).content.decode()
    first = client.post(url, follow=True)
    second = client.post(url, follow=True)  # a double submit

    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["alex.ali@example.gov.uk"]
    assert "Mo Manager has asked us to remind you" in email.body
    assert "Fraud basics" in email.body
    assert "0 of 2 lessons done" in email.body
    assert "Reminder sent to Alex Ali" in first.content.decode()
    assert "already been sent a reminder" in second.content.decode()
    message = SentMessage.objects.get(kind=SentMessage.Kind.NUDGE)
    assert message.state == SentMessage.State.SENT
    assert message.recipient == team["alex"]
    [entry] = entries(team["alex_late"], ACTION_NUDGE)
    assert entry.user == team["manager"]


def test_a_nudge_is_refused_once_the_weekly_cap_is_reached(client, team):
    rules = ReminderSettings.for_site(Site.objects.get(is_default_site=True))
    rules.weekly_cap = 1
    rules.save()
    SentMessage.objects.create(
        recipient=team["alex"],
        recipient_email=team["alex"].email,
        kind=SentMessage.Kind.LEARNER,
        period="2026-01-01",
        created_at=timezone.now() - dt.timedelta(days=2),
    )
    client.force_login(team["manager"])

    response = client.post(f"/my-team/{team['alex_late'].pk}/nudge/", follow=True)

    assert "reminder settings allow (1)" in response.content.decode()
    assert mail.outbox == []
    assert not SentMessage.objects.filter(kind=SentMessage.Kind.NUDGE).exists()
    assert entries(team["alex_late"], ACTION_NUDGE) == []


def test_a_nudge_about_finished_training_is_refused(client, team):
    Assignment.objects.filter(pk=team["alex_late"].pk).update(completed_at=timezone.now())
    client.force_login(team["manager"])

    response = client.post(f"/my-team/{team['alex_late'].pk}/nudge/", follow=True)

    assert "there is nothing to remind them about" in response.content.decode()
    assert mail.outbox == []
    assert not SentMessage.objects.exists()


def test_an_expired_completion_can_be_nudged_with_its_renewal_date(client, team):
    now = timezone.now()
    Assignment.objects.filter(pk=team["bea_due"].pk).update(
        completed_at=now - dt.timedelta(days=400), valid_until=now - dt.timedelta(days=3)
    )
    client.force_login(team["manager"])

    client.post(f"/my-team/{team['bea_due'].pk}/nudge/")

    [email] = mail.outbox
    assert "Fraud basics: overdue by 3 days" in email.body


def test_a_nudge_counts_towards_the_sweeps_weekly_cap(team):
    from training.reminders.planning import CAPPED_KINDS

    assert SentMessage.Kind.NUDGE in CAPPED_KINDS


def test_a_nudge_that_the_mail_server_refuses_waits_for_the_retry(client, team, settings):
    settings.EMAIL_BACKEND = "tests.training.test_my_team.RefusingBackend"
    client.force_login(team["manager"])

    response = client.post(f"/my-team/{team['alex_late'].pk}/nudge/", follow=True)

    assert "could not be sent just now" in response.content.decode()
    message = SentMessage.objects.get(kind=SentMessage.Kind.NUDGE)
    assert message.state == SentMessage.State.PENDING
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert reminder_message_send(message_id=message.pk)
    assert len(mail.outbox) == 1


class RefusingBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        import smtplib

        raise smtplib.SMTPServerDisconnected("the mail server went away")


# EXTEND -------------------------------------------------------------------------------------


def test_more_time_moves_the_due_date_once_and_is_audited(client, team):
    late = team["alex_late"]
    client.force_login(team["manager"])
    url = f"/my-team/{late.pk}/extend/"
    form = {"days": "14", "reason": "Back from leave", "due_on_was": late.due_on.isoformat()}

    assert "Up to 28 days, counted from" in client.get(url).content.decode()
    response = client.post(url, form, follow=True)
    client.post(url, form)  # a double submit

    late.refresh_from_db()
    expected = timezone.localdate() + dt.timedelta(days=14)  # it had passed: from today
    assert late.due_on == expected
    assert f"now has until {expected:%-d %B %Y}" in response.content.decode()
    [entry] = entries(late, ACTION_EXTEND)
    assert entry.user == team["manager"]
    assert entry.data["reason"] == "Back from leave"
    assert (
        entry.data["changes"][0]["before"]
        == (timezone.localdate() - dt.timedelta(days=5)).isoformat()
    )
    assert entry.data["changes"][0]["after"] == expected.isoformat()


@pytest.mark.parametrize(
    ("days", "reason", "error"),
    [
        ("29", "Leave", "A manager can give up to 28 days."),
        ("0", "Leave", "Enter at least 1 day."),
        ("soon", "Leave", "Enter a whole number of days"),
        ("7", "", "Say why they need more time."),
    ],
)
def test_bad_extensions_say_why_and_change_nothing(client, team, days, reason, error):
    due = team["bea_due"]
    client.force_login(team["manager"])

    response = client.post(
        f"/my-team/{due.pk}/extend/",
        {"days": days, "reason": reason, "due_on_was": due.due_on.isoformat()},
    )

    assert response.status_code == 200
    assert error in response.content.decode()
    assert Assignment.objects.get(pk=due.pk).due_on == due.due_on
    assert entries(due, ACTION_EXTEND) == []


def test_the_limit_is_hrs_setting(client, team):
    rules = ReminderSettings.for_site(Site.objects.get(is_default_site=True))
    rules.manager_extension_max_days = 60
    rules.save()
    due = team["bea_due"]
    client.force_login(team["manager"])

    client.post(
        f"/my-team/{due.pk}/extend/",
        {"days": "45", "reason": "Secondment", "due_on_was": due.due_on.isoformat()},
    )

    assert Assignment.objects.get(pk=due.pk).due_on == due.due_on + dt.timedelta(days=45)


def test_a_due_date_changed_meanwhile_is_not_overwritten(client, team):
    due = team["bea_due"]
    seen = due.due_on
    Assignment.objects.filter(pk=due.pk).update(due_on=seen + dt.timedelta(days=3))  # HR
    client.force_login(team["manager"])

    response = client.post(
        f"/my-team/{due.pk}/extend/",
        {"days": "7", "reason": "Leave", "due_on_was": seen.isoformat()},
        follow=True,
    )

    assert "has been changed to" in response.content.decode()
    assert Assignment.objects.get(pk=due.pk).due_on == seen + dt.timedelta(days=3)


# ONLY THEIR OWN TREE ------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["nudge", "extend", "exemption"])
def test_another_managers_report_is_not_found_and_nothing_changes(client, team, action):
    theirs = team["outsider_late"]
    client.force_login(team["manager"])
    url = f"/my-team/{theirs.pk}/{action}/"
    data = {"days": "7", "reason": "Because", "due_on_was": theirs.due_on.isoformat()}

    assert client.get(url).status_code == 404
    assert client.post(url, data).status_code == 404

    assert Assignment.objects.get(pk=theirs.pk).due_on == theirs.due_on
    assert mail.outbox == []
    assert not SentMessage.objects.exists()
    assert not ExemptionRequest.objects.exists()
    assert not ModelLogEntry.objects.for_instance(theirs).exists()


def test_the_skip_level_manager_may_act_on_the_whole_tree(client, team):
    client.force_login(team["head"])

    client.post(f"/my-team/{team['alex_late'].pk}/nudge/")

    assert [m.to for m in mail.outbox] == [["alex.ali@example.gov.uk"]]


# EXEMPTION REQUESTS -------------------------------------------------------------------------


@pytest.fixture
def hr_mailbox(site):
    reports = ReportSettings.for_site(Site.objects.get(is_default_site=True))
    reports.hr_mailbox = "hr-team@example.gov.uk"
    reports.save()
    return reports.hr_mailbox


def test_an_exemption_request_goes_to_hr_once(client, team, hr_mailbox):
    late = team["alex_late"]
    client.force_login(team["manager"])
    url = f"/my-team/{late.pk}/exemption/"

    response = client.post(url, {"reason": "Already trained at their last council"}, follow=True)
    client.post(url, {"reason": "Already trained at their last council"})  # a double submit

    assert "HR has been asked to exempt Alex Ali" in response.content.decode()
    request = ExemptionRequest.objects.get()
    assert (request.state, request.requested_by) == (
        ExemptionRequest.State.PENDING,
        team["manager"],
    )
    assert [m.to for m in mail.outbox] == [[hr_mailbox]]
    assert "Alex Ali" in mail.outbox[0].subject
    assert "Already trained at their last council" in mail.outbox[0].body
    assert mail.outbox[0].attachments == []
    assert "HR has not decided yet" in client.get(url).content.decode()
    late.refresh_from_db()
    assert late.exempt_reason == ""  # only HR exempts


def test_an_empty_reason_is_refused(client, team, hr_mailbox):
    client.force_login(team["manager"])

    response = client.post(f"/my-team/{team['alex_late'].pk}/exemption/", {"reason": "  "})

    assert "Say why they should be exempt." in response.content.decode()
    assert not ExemptionRequest.objects.exists()
    assert mail.outbox == []


def test_hr_approving_exempts_through_the_exemption_service(team, hr_mailbox, user_factory):
    hr = user_factory(email="hari.hr@example.gov.uk", full_name="Hari HR")
    request, _ = exemption_request_create(
        assignment=team["alex_late"], reason="Long-term sick leave", by=team["manager"]
    )

    exemption_request_decide(request=request, approve=True, note="", by=hr)
    exemption_request_decide(request=request, approve=False, note="changed mind", by=hr)

    request.refresh_from_db()
    late = Assignment.objects.get(pk=team["alex_late"].pk)
    assert request.state == ExemptionRequest.State.APPROVED  # the second answer changed nothing
    assert late.exempted_by == hr
    assert "Long-term sick leave" in late.exempt_reason


def test_hr_refusing_needs_a_note_and_leaves_the_training_due(team, hr_mailbox, user_factory):
    hr = user_factory(email="hari.hr@example.gov.uk", full_name="Hari HR")
    request, _ = exemption_request_create(
        assignment=team["alex_late"], reason="Busy", by=team["manager"]
    )

    with pytest.raises(TeamActionRefused):
        exemption_request_decide(request=request, approve=False, note="", by=hr)
    exemption_request_decide(request=request, approve=False, note="Everyone must", by=hr)

    request.refresh_from_db()
    assert request.state == ExemptionRequest.State.REFUSED
    assert Assignment.objects.get(pk=team["alex_late"].pk).exempt_reason == ""


def test_hr_decides_in_the_admin(client, roles, team, hr_mailbox, signed_in_with_mfa):
    hr = signed_in_with_mfa("hari.hr@example.gov.uk", groups=["HR"])
    request, _ = exemption_request_create(
        assignment=team["alex_late"], reason="Already trained", by=team["manager"]
    )
    url = f"/cms/snippets/training/exemptionrequest/edit/{request.pk}/"

    assert (
        "Alex Ali, Fraud basics"
        in client.get("/cms/snippets/training/exemptionrequest/").content.decode()
    )
    client.post(url, {"state": "approved", "decision_note": ""})

    request.refresh_from_db()
    assert request.state == ExemptionRequest.State.APPROVED
    assert request.decided_by == hr
    assert Assignment.objects.get(pk=team["alex_late"].pk).exempted_by == hr


# ANOTHER ATTEMPT ----------------------------------------------------------------------------


@pytest.fixture
def locked_out(team):
    """Alex used all three attempts at the module's quiz, with no automatic new set."""
    quiz = quiz_for(team["module"], questions=2, attempts_allowed=3, retry_after_hours=None)
    finish_lessons(team["alex"], team["module"])
    now = timezone.now()
    for number in (1, 2, 3):
        Attempt.objects.create(
            quiz=quiz,
            user=team["alex"],
            number=number,
            module_version=team["module"].version,
            pass_mark=80,
            started_at=now - dt.timedelta(hours=4 - number),
            finished_at=now - dt.timedelta(hours=4 - number, minutes=-10),
            status=AttemptStatus.SUBMITTED,
            score=10,
            passed=False,
        )
    return quiz


def test_my_team_shows_who_is_locked_out(client, team, locked_out):
    client.force_login(team["manager"])

    html = client.get("/my-team/").content.decode()

    assert "Locked out" in html
    assert f"/quizzes/team/{team['alex_late'].pk}/another-attempt/" in html


def test_another_attempt_unlocks_the_quiz_once(client, team, locked_out):
    client.force_login(team["manager"])
    url = f"/quizzes/team/{team['alex_late'].pk}/another-attempt/"

    assert "Give one more attempt" in client.get(url).content.decode()
    response = client.post(url, follow=True)
    client.post(url)  # a double submit

    assert "can now make one more attempt" in response.content.decode()
    [grant] = AttemptGrant.objects.all()
    assert grant.granted_by == team["manager"]
    assert len(entries(grant, ACTION_ATTEMPT_GRANT)) == 1
    client.force_login(team["alex"])
    start = client.get(f"/quizzes/{locked_out.pk}/").content.decode()
    assert "you have 1 left" in start
    assert client.post(f"/quizzes/{locked_out.pk}/start/").status_code == 302
    assert Attempt.objects.filter(user=team["alex"]).count() == 4


def test_another_attempt_is_refused_while_attempts_are_left(client, team, locked_out):
    Attempt.objects.filter(user=team["alex"], number=3).delete()
    client.force_login(team["manager"])

    response = client.post(f"/quizzes/team/{team['alex_late'].pk}/another-attempt/", follow=True)

    assert "still has attempts left" in response.content.decode()
    assert not AttemptGrant.objects.exists()


def test_another_attempt_for_someone_elses_report_is_not_found(client, team, locked_out):
    client.force_login(team["other_manager"])

    assert client.post(f"/quizzes/team/{team['alex_late'].pk}/another-attempt/").status_code == 404
    assert not AttemptGrant.objects.exists()


# THE TEAM DIGEST ----------------------------------------------------------------------------


def test_the_team_digest_lists_due_dates_and_progress(team):
    from training.reminders.emails import reminder_context

    message = SentMessage.objects.create(
        recipient=team["manager"],
        recipient_email=team["manager"].email,
        kind=SentMessage.Kind.MANAGER,
        period="2026-03-10",
        items=[{"assignment": team["alex_late"].pk, "reason": "overdue", "days": 5}],
        created_at=timezone.now(),
    )

    assert reminder_message_send(message_id=message.pk)

    body = mail.outbox[0].body
    due = team["alex_late"].due_on
    assert f"Alex Ali: Fraud basics, due {due:%-d %b %Y}, overdue by 5 days" in body
    assert "0 of 2 lessons done" in body
    html = mail.outbox[0].alternatives[0][0]
    assert "Lessons done" in html
    assert "0 of 2" in html
    assert reminder_context(message)["lines"][0]["lessons_total"] == 2
