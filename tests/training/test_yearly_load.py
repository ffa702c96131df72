"""The training load the assignment rules give: per audience, per kind of person, and on HR's
assignment rules page (issue 19: no officer over about 90 minutes a year, no councillor over 60)."""

from tests.factories import module_with_lessons
from training.models import AssignmentRule, Audience
from training.services.yearly_load import yearly_load


def rules_made(site):
    officers = Audience.objects.create(name="Officers", slug="officers-t", person_types=["officer"])
    housing = Audience.objects.create(
        name="Housing", slug="housing-t", person_types=["officer"], service_areas=["housing"]
    )
    members = Audience.objects.create(name="Members", slug="members-t", person_types=["councillor"])
    core = module_with_lessons(1, slug="core-t", estimated_minutes=20)
    housing_fraud = module_with_lessons(1, slug="housing-t", estimated_minutes=40)
    long_one = module_with_lessons(1, slug="long-t", estimated_minutes=50)
    AssignmentRule.objects.create(module=core, audience=officers, valid_months=12)
    AssignmentRule.objects.create(module=core, audience=members, valid_months=12)
    AssignmentRule.objects.create(module=housing_fraud, audience=housing, valid_months=24)
    AssignmentRule.objects.create(module=long_one, audience=housing, valid_months=24)
    AssignmentRule.objects.create(
        module=long_one, audience=members, mandatory=False, valid_months=24
    )
    return officers, housing, members


def test_each_audience_and_the_heaviest_person_of_each_type_against_the_limit(site):
    rules_made(site)

    load = yearly_load()

    by_audience = {row.audience.slug: row for row in load.audiences}
    assert (
        by_audience["officers-t"].mandatory.first_year,
        by_audience["officers-t"].mandatory.yearly,
    ) == (20, 20)
    # Every two years: half the minutes a year.
    assert (
        by_audience["housing-t"].mandatory.first_year,
        by_audience["housing-t"].mandatory.yearly,
    ) == (90, 45)
    assert by_audience["members-t"].recommended.first_year == 50
    heaviest = {person.person_type: person for person in load.heaviest}
    assert heaviest["officer"].service_area == "housing"
    assert (heaviest["officer"].mandatory.first_year, heaviest["officer"].mandatory.yearly) == (
        110,
        65,
    )
    assert heaviest["officer"].over  # 110 minutes in the first year, over 90
    assert not heaviest["councillor"].over  # 20 mandatory; the 50 are only recommended
    assert [person.person_type for person in load.over] == ["officer"]


def test_hr_sees_the_load_on_the_assignment_rules_page(client, signed_in_with_mfa, site):
    rules_made(site)
    signed_in_with_mfa("hr.load@example.gov.uk", groups=["HR"], person_type="other")

    response = client.get("/cms/snippets/training/assignmentrule/")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="yearly-load"' in html
    assert "Officer, Housing</strong>: 110 minutes of mandatory training in a year" in html
    assert "more than the 90 the default rules should give" in html
