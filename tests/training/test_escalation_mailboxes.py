"""Blank escalation mailboxes are never a silent skip (issue 18): the sweep and its dry run say
which councillors' escalations went nowhere, the admin dashboard warns, and Member Services sets
its own mailboxes (audited)."""

import datetime as dt
import logging
from io import StringIO

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from wagtail.models import Site

from tests.factories import module_with_lessons
from training.models import Assignment, AssignmentRule, Audience, ReminderSettings, SentMessage
from training.reminders.sending import reminders_sweep
from training.services.assignments import assignments_sync

pytestmark = pytest.mark.django_db
SWEEP_DAY = dt.datetime(2026, 2, 24, 7, 30, tzinfo=dt.UTC)  # a Tuesday


def reminder_settings() -> ReminderSettings:
    return ReminderSettings.for_site(Site.objects.get(is_default_site=True))


@pytest.fixture
def overdue_councillor(site, user_factory):
    """Councillor Cora, 30 days overdue with "Members' duties": past both escalation levels."""
    members = Audience.objects.create(name="Cllrs", slug="cllrs", person_types=["councillor"])
    module = module_with_lessons(1, title="Members' duties")
    AssignmentRule.objects.create(module=module, audience=members, due_days=21)
    cora = user_factory(
        email="cora@example.gov.uk", full_name="Cllr Cora Hill", person_type="councillor"
    )
    assignments_sync()
    Assignment.objects.update(due_on=timezone.localdate(SWEEP_DAY) - dt.timedelta(days=30))
    return cora


def test_the_dry_run_warns_of_blank_mailboxes_and_names_who_was_not_escalated(
    overdue_councillor,
):
    out = StringIO()
    with time_machine.travel(SWEEP_DAY, tick=False):
        call_command("send_reminders", "--dry-run", stdout=out)

    text = out.getvalue()
    assert "the Member Services mailbox is blank" in text
    assert "the Monitoring Officer mailbox is blank" in text
    assert (
        "Not sent, no Member Services mailbox: Cllr Cora Hill, Members' duties (overdue, 30 days)"
        in text
    )
    assert "Not sent, no Monitoring Officer mailbox: Cllr Cora Hill" in text
    assert "learner to cora@example.gov.uk" in text  # her own reminder still goes


def test_the_sweep_says_so_too_and_logs_counts_only(overdue_councillor, caplog):
    rules = reminder_settings()
    rules.member_services_email = "members@example.gov.uk"
    rules.save()
    out = StringIO()
    with (
        time_machine.travel(SWEEP_DAY, tick=False),
        caplog.at_level(logging.WARNING, logger="training.reminders.sending"),
    ):
        call_command("send_reminders", stdout=out)

    text = out.getvalue()
    assert "Member Services mailbox is blank" not in text
    assert "Not sent, no Member Services mailbox" not in text
    assert "Not sent, no Monitoring Officer mailbox: Cllr Cora Hill" in text
    assert {m.to[0] for m in mail.outbox} == {"cora@example.gov.uk", "members@example.gov.uk"}
    assert "1 councillor escalation(s) not sent: no mailbox for Monitoring Officer" in caplog.text
    assert "Cora" not in caplog.text


def test_with_both_mailboxes_set_nothing_is_unrouted(overdue_councillor):
    rules = reminder_settings()
    rules.member_services_email = "members@example.gov.uk"
    rules.monitoring_officer_email = "mo@example.gov.uk"
    rules.save()

    with time_machine.travel(SWEEP_DAY, tick=False):
        result = reminders_sweep(send_now=True)

    assert result.unrouted == []
    kinds = set(SentMessage.objects.values_list("kind", flat=True))
    assert kinds == {"learner", "member-services", "monitoring-officer"}


def test_the_sweep_task_counts_the_unrouted(overdue_councillor, django_capture_on_commit_callbacks):
    from training.tasks import reminders_sweep_task

    with time_machine.travel(SWEEP_DAY, tick=False), django_capture_on_commit_callbacks():
        result = reminders_sweep_task()

    assert result["unrouted"] == 2


# THE DASHBOARD AND MEMBER SERVICES' PAGE

MAILBOXES_URL = "/cms/escalation-mailboxes/"


def warning_on_dashboard(client) -> str:
    from bs4 import BeautifulSoup

    page = BeautifulSoup(client.get("/cms/").content, "html.parser")
    panel = page.find(attrs={"data-testid": "escalation-mailboxes-warning"})
    return " ".join(panel.get_text().split()) if panel else ""


@pytest.mark.parametrize("groups", [["Member Services"], ["HR"]])
def test_the_dashboard_warns_member_services_and_hr_of_blank_mailboxes(
    client, signed_in_with_mfa, groups
):
    signed_in_with_mfa("staff@example.gov.uk", groups=groups)

    text = warning_on_dashboard(client)

    assert "The Member Services and Monitoring Officer mailboxes are blank" in text
    assert ("Set the escalation mailboxes" in text) == (groups == ["Member Services"])


def test_the_dashboard_names_only_the_blank_mailbox_and_none_once_both_are_set(
    client, signed_in_with_mfa
):
    signed_in_with_mfa("ms@example.gov.uk", groups=["Member Services"])
    rules = reminder_settings()
    rules.member_services_email = "members@example.gov.uk"
    rules.save()
    assert "The Monitoring Officer mailbox is blank" in warning_on_dashboard(client)

    rules.monitoring_officer_email = "mo@example.gov.uk"
    rules.save()
    assert warning_on_dashboard(client) == ""


def test_editors_see_no_mailbox_warning(client, signed_in_with_mfa):
    signed_in_with_mfa("ed@example.gov.uk", groups=["Content editors"])

    assert warning_on_dashboard(client) == ""


def test_member_services_sets_its_mailboxes_and_the_change_is_audited(client, signed_in_with_mfa):
    from wagtail.models import ModelLogEntry

    ms = signed_in_with_mfa("ms@example.gov.uk", groups=["Member Services"])
    assert client.get(MAILBOXES_URL).status_code == 200
    weekly_cap = reminder_settings().weekly_cap

    response = client.post(
        MAILBOXES_URL,
        {"member_services_email": "members@example.gov.uk", "monitoring_officer_email": ""},
    )

    assert response.status_code == 302
    rules = reminder_settings()
    assert rules.member_services_email == "members@example.gov.uk"
    assert rules.weekly_cap == weekly_cap
    entry = ModelLogEntry.objects.for_instance(rules).get(action="wagtail.edit")
    assert entry.user == ms
    assert entry.data["changes"] == [
        {
            "field": "member_services_email",
            "label": "Member Services mailbox",
            "before": "''",
            "after": "'members@example.gov.uk'",
        }
    ]


def test_a_bad_address_is_refused_clearly_and_changes_nothing(client, signed_in_with_mfa):
    from wagtail.models import ModelLogEntry

    signed_in_with_mfa("ms@example.gov.uk", groups=["Member Services"])

    response = client.post(
        MAILBOXES_URL,
        {"member_services_email": "not an address", "monitoring_officer_email": ""},
    )

    assert response.status_code == 200
    assert "Enter a valid email address" in response.content.decode()
    assert reminder_settings().member_services_email == ""
    assert not ModelLogEntry.objects.filter(action="wagtail.edit").exists()


@pytest.mark.parametrize("groups", [["HR"], ["Content editors"]])
def test_other_roles_cannot_set_the_mailboxes(client, signed_in_with_mfa, groups):
    signed_in_with_mfa("staff@example.gov.uk", groups=groups)

    response = client.post(
        MAILBOXES_URL,
        {"member_services_email": "x@example.gov.uk", "monitoring_officer_email": ""},
    )

    assert response.status_code == 403
    assert reminder_settings().member_services_email == ""
