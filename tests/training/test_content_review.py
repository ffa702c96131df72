"""Content governance: a past review-by date is refused, a weekly digest goes once a week to
editors and module owners, and the admin dashboard shows editors the same."""

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from wagtail.test.utils.form_data import inline_formset, nested_form_data, streamfield

from cms.models import ReportingRoutes
from tests.factories import lessons_of, module_with_lessons
from training.models import LessonPage, ModulePage, SentMessage
from training.selectors import content_review_list, months_before
from training.tasks import content_review_digest_task

pytestmark = pytest.mark.django_db
MONDAY = dt.datetime(2026, 12, 7, 7, 0, tzinfo=dt.UTC)


@pytest.fixture
def due(site, user_factory):
    """One module past review-by with a lesson never reviewed, owned by Sam (not an editor);
    another module, up to date, with lessons reviewed this year; and one editor."""
    owner = user_factory(email="sam.owner@example.gov.uk", full_name="Sam Owner")
    editor = user_factory(email="eddie.editor@example.gov.uk", groups=["Content editors"])
    stale = module_with_lessons(1, slug="stale", title="Procurement fraud", owner=owner)
    ModulePage.objects.filter(pk=stale.pk).update(review_by=dt.date(2026, 11, 1))
    fresh = module_with_lessons(2, slug="fresh", title="Waste crime")
    ModulePage.objects.filter(pk=fresh.pk).update(review_by=dt.date(2027, 6, 1))
    LessonPage.objects.child_of(fresh).update(last_reviewed=dt.date(2026, 9, 1))
    return owner, editor, stale, fresh


def test_review_lists_past_modules_old_lessons_and_unverified_routes(due):
    fresh = due[3]
    route = ReportingRoutes.objects.get().routes.first()
    ReportingRoutes.objects.get().routes.exclude(pk=route.pk).update(
        last_verified=dt.date(2026, 10, 1)
    )
    type(route).objects.filter(pk=route.pk).update(last_verified=dt.date(2026, 5, 31))
    LessonPage.objects.filter(pk=lessons_of(fresh)[0].pk).update(last_reviewed=dt.date(2025, 12, 6))

    review = content_review_list(today=dt.date(2026, 12, 7))

    assert [m.title for m in review.modules] == ["Procurement fraud"]
    assert [r.pk for r in review.routes] == [route.pk]  # older than 6 months; the rest recent
    assert [(lesson.title, m.title) for lesson, m in review.lessons] == [
        ("Lesson 1", "Procurement fraud"),  # never reviewed
        ("Lesson 1", "Waste crime"),  # over a year ago
    ]


def test_the_route_period_is_a_setting(due, settings):
    routes = ReportingRoutes.objects.get().routes
    routes.update(last_verified=dt.date(2026, 8, 1))
    assert not content_review_list(today=dt.date(2026, 12, 7)).routes

    settings.AWARE_ROUTE_VERIFY_MONTHS = 3

    assert len(content_review_list(today=dt.date(2026, 12, 7)).routes) == routes.count()


def test_months_before_keeps_to_the_months_last_day():
    assert months_before(dt.date(2026, 8, 31), 6) == dt.date(2026, 2, 28)
    assert months_before(dt.date(2026, 1, 15), 1) == dt.date(2025, 12, 15)


def test_the_digest_goes_once_a_week_to_each_editor_and_owner(due):
    owner, editor, _, _ = due

    with time_machine.travel(MONDAY, tick=False):
        assert content_review_digest_task() == 2
        assert content_review_digest_task() == 0  # a second beat, or a retried task
    with time_machine.travel(MONDAY + dt.timedelta(days=3), tick=False):
        assert content_review_digest_task() == 0  # the same ISO week

    by_recipient = {m.to[0]: m for m in mail.outbox}
    assert sorted(by_recipient) == [editor.email, owner.email]
    owner_mail = by_recipient[owner.email].body
    assert "Procurement fraud: review by 2026-11-01" in owner_mail
    assert "Waste crime" not in owner_mail
    assert "Reporting routes" not in owner_mail
    editor_mail = by_recipient[editor.email].body
    assert "Procurement fraud" in editor_mail
    assert "Reporting routes not verified in the last 6 months" in editor_mail
    assert "/cms/pages/" in editor_mail  # a link to edit each page

    with time_machine.travel(MONDAY + dt.timedelta(days=7), tick=False):
        assert content_review_digest_task() == 2  # next week: again
    assert SentMessage.objects.filter(kind="content-review").count() == 4


def test_nobody_gets_a_digest_with_nothing_to_review(due):
    _, _, stale, _ = due
    ModulePage.objects.filter(pk=stale.pk).update(review_by=None)
    LessonPage.objects.update(last_reviewed=dt.date(2026, 11, 1))
    ReportingRoutes.objects.get().routes.update(last_verified=dt.date(2026, 11, 1))

    with time_machine.travel(MONDAY, tick=False):
        assert content_review_digest_task() == 0
    assert mail.outbox == []


def module_edit(client, module: ModulePage, review_by: str):
    """Save a draft of `module` in the admin's edit view, as an editor does, with `review_by`."""
    data = nested_form_data(
        {
            "title": module.title,
            "slug": module.slug,
            "summary": "A module for tests, edited.",
            "learning_outcomes": streamfield([("outcome", "Spot the signs.")]),
            "estimated_minutes": 20,
            "owning_team": module.owning_team,
            "review_by": review_by,
            "update_by_days": 60,
            "comments": inline_formset([]),
        }
    )
    return client.post(f"/cms/pages/{module.pk}/edit/", data)


def test_a_past_review_by_date_is_refused(client, roles, due, signed_in_with_mfa):
    _, _, _, fresh = due
    signed_in_with_mfa("editor.three@example.gov.uk", groups=["Content editors"])
    revisions = fresh.revisions.count()
    yesterday = timezone.localdate() - dt.timedelta(days=1)

    response = module_edit(client, fresh, yesterday.isoformat())

    assert response.status_code == 200
    assert "The review-by date must be today or in the future." in response.content.decode()
    assert fresh.revisions.count() == revisions  # nothing saved
    assert module_edit(client, fresh, timezone.localdate().isoformat()).status_code == 302
    assert fresh.revisions.count() == revisions + 1


def test_a_date_that_has_passed_since_does_not_block_other_edits(
    client, roles, due, signed_in_with_mfa
):
    _, _, stale, _ = due
    stale.refresh_from_db()
    stale.save_revision()  # the draft editors open holds the date that has passed since
    signed_in_with_mfa("editor.four@example.gov.uk", groups=["Content editors"])

    response = module_edit(client, stale, "2026-11-01")  # unchanged: the digest chases it

    assert response.status_code == 302
    latest = stale.revisions.order_by("-created_at", "-pk").first().as_object()
    assert latest.summary == "A module for tests, edited."


def test_the_dashboard_shows_editors_what_to_review(client, roles, due, signed_in_with_mfa):
    signed_in_with_mfa("editor.two@example.gov.uk", groups=["Content editors"])

    response = client.get("/cms/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Content to review" in html
    assert "Procurement fraud" in html
    assert "Reporting routes not verified in the last 6 months" in html


def test_the_dashboard_panel_is_not_for_hr(client, roles, due, signed_in_with_mfa):
    signed_in_with_mfa("hr.two@example.gov.uk", groups=["HR"])

    response = client.get("/cms/")

    assert response.status_code == 200
    assert "Content to review" not in response.content.decode()


def test_learners_never_see_the_panel(client, roles, due, user_factory):
    client.force_login(user_factory(email="learner.two@example.gov.uk"))

    response = client.get("/cms/")

    assert response.status_code == 302  # the admin is not for learners
    assert "Content to review" not in response.content.decode()
    assert "Procurement fraud" not in response.content.decode()


def test_the_review_list_costs_no_more_queries_for_more_lessons(due, django_assert_max_num_queries):
    module_with_lessons(8, slug="longer", title="County lines")  # eight lessons never reviewed
    content_review_list(today=dt.date(2026, 12, 7))  # the routes' cache filled

    with django_assert_max_num_queries(4):
        review = content_review_list(today=dt.date(2026, 12, 7))

    assert len(review.lessons) == 9
