"""seed_scale builds a believable synthetic council whose evidence chain verifies, and only in a
database that holds no real people."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import PersonType, User
from devtools.scale import real_people_count
from tests.factories import module_with_lessons
from training.models import (
    Assignment,
    AssignmentRule,
    Audience,
    LessonProgress,
    ModuleCompletion,
    ModulePage,
    SentMessage,
)
from training.reminders.planning import OVERDUE
from training.reminders.sending import reminders_sweep
from training.reports.figures import CATEGORIES
from training.reports.filters import ReportFilters
from training.reports.live import compliance_overview

pytestmark = pytest.mark.django_db


def test_seed_scale_builds_people_assignments_progress_and_valid_records(site):
    module = module_with_lessons(3)
    AssignmentRule.objects.create(
        module=module, audience=Audience.objects.create(name="All", slug="all"), valid_months=24
    )
    out = StringIO()
    call_command("seed_scale", "--learners", "120", stdout=out)

    people = User.objects.filter(email__endswith="@scale.example.gov.uk")
    assert people.count() == 120
    assert people.filter(person_type="councillor").count() == 2
    assert people.filter(line_manager__isnull=False).count() > 90
    # The one module is copied, lessons and rule too, to the scale of 13 modules.
    copies = ModulePage.objects.exclude(pk=module.pk)
    assert copies.count() == 12
    assert all(copy.get_children().live().count() == 3 for copy in copies)
    assert Assignment.objects.filter(user__in=people).count() == 120 * 13
    assert LessonProgress.objects.exists()
    records = ModuleCompletion.objects.count()
    assert records
    # Written by the chain's service, so each completion also completes its assignment.
    assert Assignment.objects.filter(completed_at__isnull=False).count() == records
    assert "Seeded 13 modules, 120 people" in out.getvalue()
    verify = StringIO()
    call_command("verify_records", stdout=verify)
    assert f"All {records} completion records are intact" in verify.getvalue()


def test_seed_scale_appends_after_the_records_already_there(site):
    module = module_with_lessons(1)
    AssignmentRule.objects.create(
        module=module, audience=Audience.objects.create(name="All", slug="all"), valid_months=24
    )
    call_command("seed_scale", "--learners", "30", "--modules", "1", stdout=StringIO())
    first = ModuleCompletion.objects.count()

    call_command(
        "seed_scale", "--learners", "30", "--seed", "2", "--modules", "1", stdout=StringIO()
    )

    assert ModuleCompletion.objects.count() > first
    verify = StringIO()
    call_command("verify_records", stdout=verify)
    assert "intact" in verify.getvalue()


def test_seed_scale_refuses_a_database_with_real_people_and_writes_nothing(user_factory):
    user_factory(email="jo.bloggs@camden.gov.uk", full_name="Jo Bloggs")

    with pytest.raises(CommandError) as refused:
        call_command("seed_scale", "--learners", "20", stdout=StringIO())

    message = str(refused.value)
    assert "holds 1 real person (emails not on example.gov.uk)" in message
    assert "fresh database" in message
    assert User.objects.count() == 1
    assert not ModulePage.objects.exists()
    assert not Assignment.objects.exists()


def test_demo_test_and_synthetic_people_are_not_real_but_leavers_and_lookalikes_are(
    site, user_factory
):
    call_command("load_accounts_data", stdout=StringIO())  # the demo people, on example.gov.uk
    user_factory(email="learner@example.gov.uk")
    user_factory(email="person1@scale.example.gov.uk")
    assert real_people_count() == 0

    user_factory(email="leaver@council.gov.uk", is_active=False)
    user_factory(email="sam@notexample.gov.uk")

    assert real_people_count() == 2


SPREAD_LINE = re.compile(
    r"(?P<type>\w+)s, (?P<assigned>\d+) assignments: compliant (?P<compliant>\d+) \(\d+%\), "
    r"in progress (?P<in_progress>\d+) \(\d+%\), not started (?P<not_started>\d+) \(\d+%\), "
    r"overdue (?P<overdue>\d+) \(\d+%\), expired (?P<expired>\d+) \(\d+%\), "
    r"exempt (?P<exempt>\d+) \(\d+%\)"
)


def test_the_reports_and_the_reminder_sweep_see_the_spread_seed_scale_says_it_made(site):
    module = module_with_lessons(3)
    AssignmentRule.objects.create(
        module=module, audience=Audience.objects.create(name="All", slug="all"), valid_months=24
    )
    out = StringIO()
    call_command("seed_scale", "--learners", "200", "--modules", "3", stdout=out)
    said = {
        match["type"]: {name: int(n) for name, n in match.groupdict().items() if name != "type"}
        for match in SPREAD_LINE.finditer(out.getvalue())
    }
    assert set(said) == {"officer", "councillor"}, out.getvalue()

    # HR's overview, worked out by the report code from the assignments' columns.
    now = timezone.now()
    overview = compliance_overview(filters=ReportFilters(), now=now)
    for person_type, label in PersonType.choices:
        if person_type not in said:
            continue
        rows = [row for row in overview.person_types if row.group == label]
        reported = {c: sum(row.counts[c] for row in rows) for c in CATEGORIES}
        assert reported == {c: said[person_type][c] for c in CATEGORIES}
        assert sum(reported.values()) == said[person_type]["assigned"]
        figures = said[person_type]
        rate = 100 * figures["compliant"] / (figures["assigned"] - figures["exempt"])
        shown = 100 * reported["compliant"] / (sum(reported.values()) - reported["exempt"])
        assert abs(shown - rate) < 0.5
    # A council's shape: most compliant, every category present, councillors behind officers.
    officers, councillors = said["officer"], said["councillor"]
    assert officers["compliant"] > officers["assigned"] / 2
    assert all(officers[c] for c in CATEGORIES)
    assert councillors["compliant"] / councillors["assigned"] < (
        officers["compliant"] / officers["assigned"]
    )

    # The reminder sweep's dry run lists every overdue assignment in its learner's digest.
    planned = reminders_sweep(now=now, dry_run=True).planned
    overdue = [
        item
        for message in planned
        if message.kind == SentMessage.Kind.LEARNER
        for item in message.items
        if item.reason == OVERDUE
    ]
    assert len(overdue) == officers["overdue"] + councillors["overdue"]
    assert {i.assignment.user_id for i in overdue} == set(
        Assignment.objects.overdue(now).values_list("user_id", flat=True)
    )
    assert not SentMessage.objects.exists()

    verify = StringIO()
    call_command("verify_records", stdout=verify)
    assert f"All {ModuleCompletion.objects.count()} completion records are intact" in (
        verify.getvalue()
    )
