"""Learner pages lead with what is due (issue 18): My training most urgent first, a learner's own
modules before everyone's, the catalogue the same way, and the home page says what is due next."""

import datetime as dt
import re

import pytest
import time_machine
from django.utils import timezone

from tests.factories import catalogue, lessons_of, module_with_lessons
from training.models import Assignment, AssignmentRule, Audience
from training.services.assignments import assignments_sync
from training.services.progress import lesson_open

pytestmark = pytest.mark.django_db
TODAY = dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC)


def audience(slug: str, person_types: list[str]) -> Audience:
    return Audience.objects.create(name=slug, slug=slug, person_types=person_types)


@pytest.fixture
def councillor(site, user_factory):
    """Cllr Kim, elected on 7 May, assigned four modules by one rule each: three for several
    audiences (one of them councillors), listed first alphabetically; and "Zz members' own
    module", for councillors only."""
    cllrs = audience("councillors", ["councillor"])
    staff = audience("all-staff", ["officer", "other"])
    frontline = audience("frontline", ["officer"])
    for title, audiences in [
        ("Aa everyone's module", [staff, cllrs, frontline]),
        ("Bb shared module", [staff, cllrs]),
        ("Cc another shared module", [frontline, cllrs, staff]),
        ("Zz members' own module", [cllrs]),
    ]:
        module = module_with_lessons(2, slug=title[:2].lower(), title=title)
        module.audiences.set(audiences)
        module.save()  # a page's many-to-many is written when the page is saved
        AssignmentRule.objects.create(module=module, audience=cllrs, councillor_due_weeks=8)
    kim = user_factory(
        email="kim@example.gov.uk",
        full_name="Cllr Kim",
        person_type="councillor",
        start_date=dt.date(2026, 5, 7),
    )
    with time_machine.travel(TODAY, tick=False):
        assignments_sync()
    return kim


def titles_in(html: str, section: str) -> list[str]:
    part = html.split(f">{section}</h2>", 1)[1].split("</h2>", 1)[0]
    return re.findall(r'govuk-summary-card__title">([^<]+?)\s*<', part)


def test_a_councillors_own_module_comes_first_when_all_are_due_together(client, councillor):
    client.force_login(councillor)
    with time_machine.travel(TODAY, tick=False):
        html = client.get("/my-training/").content.decode()

    assert titles_in(html, "To do") == [
        "Zz members&#x27; own module",
        "Bb shared module",
        "Aa everyone&#x27;s module",
        "Cc another shared module",
    ]


def test_my_training_goes_overdue_then_due_soon_then_in_progress_then_not_started(
    client, councillor
):
    by_title = {a.module.title: a for a in Assignment.objects.select_related("module")}
    today = timezone.localdate(TODAY)
    Assignment.objects.filter(pk=by_title["Cc another shared module"].pk).update(
        due_on=today - dt.timedelta(days=3)
    )
    Assignment.objects.filter(pk=by_title["Bb shared module"].pk).update(
        due_on=today + dt.timedelta(days=5)
    )
    with time_machine.travel(TODAY, tick=False):
        lesson_open(user=councillor, lesson=lessons_of(by_title["Aa everyone's module"].module)[0])
    client.force_login(councillor)

    with time_machine.travel(TODAY, tick=False):
        html = client.get("/my-training/").content.decode()

    assert titles_in(html, "To do") == [
        "Cc another shared module",  # overdue
        "Bb shared module",  # due soon
        "Aa everyone&#x27;s module",  # in progress
        "Zz members&#x27; own module",  # not started
    ]
    assert "<table" not in html  # cards, which do not break words at 320 px


def test_the_catalogue_lists_the_councillors_own_module_first(client, councillor):
    client.force_login(councillor)
    with time_machine.travel(TODAY, tick=False):
        html = client.get(catalogue().url).content.decode()

    positions = [html.index(t) for t in ("Zz members", "Bb shared", "Aa everyone", "Cc another")]
    assert positions == sorted(positions)


def test_the_home_page_says_what_is_due_next(client, councillor, django_assert_max_num_queries):
    Assignment.objects.filter(module__title="Bb shared module").update(due_on=dt.date(2026, 6, 10))
    client.force_login(councillor)
    with time_machine.travel(TODAY, tick=False):
        client.get("/")
        with django_assert_max_num_queries(10):
            html = client.get("/").content.decode()

    due_next = html.split('data-testid="due-next"', 1)[1].split("</div>", 1)[0]
    module = Assignment.objects.get(module__title="Bb shared module").module
    assert f'href="{module.url}"' in due_next
    assert "Bb shared module" in due_next
    assert "Due soon" in due_next
    assert "Due by 10 June 2026" in due_next


def test_the_home_page_says_when_nothing_is_due(client, site, user_factory):
    client.force_login(user_factory(email="new@example.gov.uk"))

    html = client.get("/").content.decode()

    assert "You have no training due." in html


def test_the_home_page_shows_nothing_of_the_kind_when_signed_out(client, site):
    assert 'data-testid="due-next"' not in client.get("/").content.decode()
