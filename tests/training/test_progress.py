"""Learners work through lessons: progress is stored once, resumes, and refuses bad requests."""

import pytest
from django.contrib.auth.models import Group
from wagtail.models import PageViewRestriction

from tests.factories import lessons_of, module_with_lessons
from training.models import LessonProgress
from training.services.progress import LessonUnavailable, lesson_complete

pytestmark = pytest.mark.django_db


def test_training_pages_need_a_sign_in(client, module):
    lesson = lessons_of(module)[0]
    for url in ["/training/", module.url, lesson.url]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/?next="), url
    assert client.post(lesson.url).status_code == 302
    assert not LessonProgress.objects.exists()


def test_public_pages_stay_public(client, site):
    for url in ["/", "/report-a-concern/", "/accessibility-statement/"]:
        assert client.get(url).status_code == 200, url


def test_opening_a_lesson_records_one_row_however_often(learner_client, learner, module):
    lesson = lessons_of(module)[0]

    for _ in range(3):
        assert learner_client.get(lesson.url).status_code == 200

    progress = LessonProgress.objects.get(user=learner)
    assert progress.lesson_id == lesson.pk
    assert progress.completed_at is None
    assert progress.module_version == module.version


def test_completing_twice_keeps_one_row_and_the_first_time(learner_client, learner, module):
    first, second, _ = lessons_of(module)

    response = learner_client.post(first.url)
    assert response.status_code == 302
    assert response["Location"] == second.url
    completed_at = LessonProgress.objects.get(user=learner, lesson=first).completed_at

    learner_client.post(first.url)  # a double click or a resubmitted form

    assert LessonProgress.objects.filter(user=learner, lesson=first).count() == 1
    assert LessonProgress.objects.get(user=learner, lesson=first).completed_at == completed_at


def test_the_last_lesson_returns_to_the_module(learner_client, module):
    last = lessons_of(module)[-1]

    response = learner_client.post(last.url)

    assert response["Location"] == module.url


def test_resume_goes_to_the_first_unfinished_lesson_after_signing_out(client, learner, module):
    first, second, third = lessons_of(module)
    client.force_login(learner)
    client.post(first.url)
    client.post(second.url)
    client.logout()

    client.force_login(learner)
    page = client.get(module.url)

    html = page.content.decode()
    assert "2 of 3 lessons done" in html
    assert page.context["progress"].next_lesson.pk == third.pk
    assert f'href="{third.url}" role="button"' in html
    assert "Continue" in html


def test_a_new_learner_starts_at_the_first_lesson(learner_client, module):
    page = learner_client.get(module.url)

    assert page.context["progress"].next_lesson.pk == lessons_of(module)[0].pk
    assert "Start" in page.content.decode()
    assert "About 15 minutes left" in page.content.decode()


def test_a_lesson_that_is_not_live_records_nothing(learner_client, learner, module):
    lesson = lessons_of(module)[1]
    lesson.unpublish()

    assert learner_client.post(lesson.url).status_code == 404
    assert learner_client.get(lesson.url).status_code == 404
    with pytest.raises(LessonUnavailable):
        lesson_complete(user=learner, lesson=lesson.specific)
    assert not LessonProgress.objects.exists()


def test_a_restricted_module_is_refused_clearly_and_records_nothing(learner_client, learner, site):
    restricted = module_with_lessons(2, slug="councillors-only", title="Councillors only")
    restriction = PageViewRestriction.objects.create(
        page=restricted, restriction_type=PageViewRestriction.GROUPS
    )
    restriction.groups.add(Group.objects.create(name="Councillors"))
    lesson = lessons_of(restricted)[0]

    for response in [learner_client.get(lesson.url), learner_client.post(lesson.url)]:
        assert response.status_code == 403
        assert "only open to some roles" in response.content.decode()
    with pytest.raises(LessonUnavailable):
        lesson_complete(user=learner, lesson=lesson)
    assert not LessonProgress.objects.exists()


def test_a_member_of_the_group_can_use_the_restricted_module(learner_client, learner, site):
    restricted = module_with_lessons(1, slug="councillors-only")
    restriction = PageViewRestriction.objects.create(
        page=restricted, restriction_type=PageViewRestriction.GROUPS
    )
    group = Group.objects.create(name="Councillors")
    restriction.groups.add(group)
    learner.groups.add(group)

    assert learner_client.post(lessons_of(restricted)[0].url).status_code == 302
    assert LessonProgress.objects.filter(user=learner).count() == 1


def test_one_learner_never_sees_anothers_ticks(client, user_factory, module):
    first = lessons_of(module)[0]
    someone = user_factory(email="someone@example.gov.uk")
    client.force_login(someone)
    client.post(first.url)
    other = user_factory(email="other@example.gov.uk")
    client.force_login(other)

    page = client.get(module.url)

    assert page.context["progress"].done == 0
    assert "0 of 3 lessons done" in page.content.decode()


def test_a_forged_csrf_token_is_refused_and_records_nothing(learner, module):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(learner)

    response = strict.post(lessons_of(module)[0].url, {"csrfmiddlewaretoken": "forged"})

    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()
    assert not LessonProgress.objects.exists()
