"""seed_scale builds a believable synthetic council whose evidence chain verifies, and only in a
database that holds no real people."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from devtools.scale import real_people_count
from tests.factories import module_with_lessons
from training.models import (
    Assignment,
    AssignmentRule,
    Audience,
    LessonProgress,
    ModuleCompletion,
    ModulePage,
)

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
