"""My training, My team, certificates and their public verification."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import lessons_of, module_with_lessons
from training.models import AssignmentRule, Audience, ModuleCompletion
from training.services.assignments import assignments_sync
from training.services.completion import quiz_pass_record
from training.services.progress import lesson_complete

pytestmark = pytest.mark.django_db


@pytest.fixture
def everyone():
    return Audience.objects.create(name="Everyone", slug="everyone")


def assign(modules, audience):
    for module in modules:
        AssignmentRule.objects.create(module=module, audience=audience, valid_months=12)
    assignments_sync()


def complete(user, module, attempt_id):
    for lesson in lessons_of(module):
        lesson_complete(user=user, lesson=lesson)
    return quiz_pass_record(
        user=user, module=module, score=88, attempt_id=attempt_id, module_version=module.version
    )[1]


def test_my_training_lists_assignments_and_certificates(client, site, everyone, user_factory):
    learner = user_factory(full_name="Alex Morgan")
    first, second = (
        module_with_lessons(1, slug="one", title="One"),
        module_with_lessons(1, slug="two", title="Two"),
    )
    assign([first, second], everyone)
    completion = complete(learner, first, attempt_id=1)
    client.force_login(learner)

    html = client.get("/my-training/").content.decode()

    assert "To do" in html
    assert "Two" in html
    assert "Up to date" in html
    assert f"/certificates/{completion.pk}.pdf" in html
    assert completion.verification_code in html


def test_my_training_query_count_does_not_grow_with_assignments(
    client, site, everyone, user_factory, django_assert_num_queries
):
    learner = user_factory()
    client.force_login(learner)
    assign([module_with_lessons(1, slug="m1")], everyone)
    client.get("/my-training/")
    with CaptureQueriesContext(connection) as few:
        client.get("/my-training/")
    expected = len(few)  # now: the next request empties the log the context reads from
    assign([module_with_lessons(2, slug=f"more{i}") for i in range(6)], everyone)
    # Publishing the new modules cleared the site cache (cms.site_cache): the next request
    # fills it again, so the count is compared on the one after.
    client.get("/my-training/")

    with django_assert_num_queries(expected):
        client.get("/my-training/")


def test_my_team_shows_direct_reports_only(client, site, everyone, user_factory):
    manager = user_factory(email="boss@example.gov.uk", full_name="Jordan Reid")
    report = user_factory(email="r@example.gov.uk", full_name="Report Person", line_manager=manager)
    user_factory(email="x@example.gov.uk", full_name="Someone Else")
    assign([module_with_lessons(1)], everyone)
    client.force_login(manager)

    html = client.get("/my-team/").content.decode()

    assert report.full_name in html
    assert "Someone Else" not in html


def test_my_team_is_refused_to_people_without_reports(client, site, user_factory):
    client.force_login(user_factory())

    response = client.get("/my-team/")

    assert response.status_code == 403
    assert "for line managers" in response.content.decode()


def test_the_certificate_pdf_is_for_its_owner_only(client, site, everyone, user_factory):
    learner = user_factory(full_name="Alex Morgan")
    other = user_factory(email="other@example.gov.uk")
    module = module_with_lessons(1)
    assign([module], everyone)
    completion = complete(learner, module, attempt_id=1)
    url = f"/certificates/{completion.pk}.pdf"

    client.force_login(learner)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")

    client.force_login(other)
    assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302


def test_verification_says_valid_expired_or_superseded_and_no_more(
    client, site, everyone, user_factory
):
    learner = user_factory(full_name="Alex Morgan", job_title="Secret job title")
    module = module_with_lessons(1)
    assign([module], everyone)
    first = complete(learner, module, attempt_id=1)

    page = client.get(f"/verify/{first.verification_code}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Valid" in html
    assert "Alex Morgan" in html
    assert "Secret job title" not in html
    assert learner.email not in html

    second = quiz_pass_record(
        user=learner, module=module, score=95, attempt_id=2, module_version=1
    )[1]
    assert second is not None
    assert "Superseded" in client.get(f"/verify/{first.verification_code}/").content.decode()

    later = timezone.now() + dt.timedelta(days=400)
    import time_machine

    with time_machine.travel(later, tick=False):
        assert "Expired" in client.get(f"/verify/{second.verification_code}/").content.decode()


@pytest.mark.parametrize("code", ["ZZZZZZZZZZ", "not-a-code", "'; DROP TABLE--", "A" * 300])
def test_an_unknown_or_malformed_code_gets_a_plain_not_found(client, site, code):
    response = client.get("/verify/", {"code": code})

    assert response.status_code == 404
    assert "Not found" in response.content.decode()
    assert not ModuleCompletion.objects.exists()
