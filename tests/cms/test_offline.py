"""The offline pages' server side: the web app manifest, the service worker from the site's root,
a completion or quiz answers sent from the phone's queue (JSON, a replay harmless, the deadline
as always), lessons fetched ahead recording nothing, and sign-out clearing the device."""

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils import timezone

from quizzes.models import Attempt, AttemptStatus
from quizzes.services import attempt_start
from tests.factories import lessons_of, module_with_lessons
from tests.quizzes.conftest import finish_lessons, form_data, quiz_for, right_answers
from training.models import LessonProgress, ModuleCompletion

pytestmark = pytest.mark.django_db
SYNC = {"HTTP_X_AWARE_OFFLINE_SYNC": "1"}


@pytest.fixture
def learner(user_factory, site):
    return user_factory(email="crew@example.gov.uk", full_name="Sam Okafor")


@pytest.fixture
def learner_client(client, learner):
    client.force_login(learner)
    return client


def test_the_manifest_makes_aware_installable_opening_on_my_training(client, site):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert manifest["start_url"] == reverse("training:my_training")
    assert manifest["display"] == "standalone"
    assert manifest["name"].endswith("training")
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert finders.find(icon["src"].removeprefix(settings.STATIC_URL)), icon["src"]


def test_the_service_worker_is_served_from_the_root_under_the_sites_policy(client, site):
    response = client.get("/service-worker.js")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript"
    assert response["Service-Worker-Allowed"] == "/"
    assert response["Cache-Control"] == "no-cache"
    assert "script-src 'self'" in response["Content-Security-Policy"]
    body = response.content.decode()
    assert "workbox" in body
    assert "aware-pages" in body
    assert "importScripts" not in body  # one file: nothing fetched from elsewhere


def test_signed_in_pages_register_the_worker_and_public_ones_do_not(client, learner, site):
    assert b"cms/offline.js" not in client.get("/").content
    client.force_login(learner)
    html = client.get(reverse("training:my_training")).content.decode()
    assert "cms/offline.js" in html
    assert 'data-service-worker="/service-worker.js"' in html
    assert 'rel="manifest"' in html


def test_a_completion_sent_from_the_queue_twice_records_one_completion(learner_client, learner):
    module = module_with_lessons(2)
    lesson = lessons_of(module)[0]
    first = learner_client.post(lesson.url, **SYNC)
    again = learner_client.post(lesson.url, **SYNC)
    assert first.status_code == again.status_code == 200
    assert first.json() == {"recorded": True, "message": f"“{lesson.title}” is complete."}
    progress = LessonProgress.objects.get(user=learner, lesson=lesson)
    assert progress.completed_at is not None
    assert LessonProgress.objects.filter(user=learner).count() == 1
    # The replay changed nothing: the time first recorded stands.
    assert again.json()["recorded"] is True
    assert LessonProgress.objects.get(pk=progress.pk).completed_at == progress.completed_at


def test_a_completion_queued_for_a_lesson_unpublished_meanwhile_records_nothing(
    learner_client, learner
):
    module = module_with_lessons(2)
    lesson = lessons_of(module)[0]
    url = lesson.url
    lesson.unpublish()
    response = learner_client.post(url, **SYNC)
    assert response.status_code == 404
    assert not LessonProgress.objects.filter(user=learner).exists()


def test_a_completion_queued_for_a_module_unpublished_meanwhile_says_so(learner_client, learner):
    module = module_with_lessons(2)
    lesson = lessons_of(module)[0]
    module.unpublish()  # its lessons stay live, and still open at their addresses
    response = learner_client.post(lesson.url, **SYNC)
    assert response.status_code == 403
    assert response.json()["recorded"] is False
    assert "not recorded" in response.json()["message"]
    assert not LessonProgress.objects.filter(user=learner).exists()


def test_a_lesson_fetched_ahead_for_offline_reading_is_not_recorded_as_opened(
    learner_client, learner
):
    module = module_with_lessons(2)
    lessons = lessons_of(module)
    assert learner_client.get(lessons[1].url, HTTP_X_AWARE_PREFETCH="1").status_code == 200
    assert not LessonProgress.objects.filter(user=learner).exists()
    assert learner_client.get(lessons[1].url).status_code == 200
    assert LessonProgress.objects.filter(user=learner, lesson=lessons[1]).exists()


def test_quiz_answers_sent_from_the_queue_are_marked_and_a_replay_changes_nothing(
    learner_client, learner
):
    module = module_with_lessons(1)
    quiz = quiz_for(module, questions=3)
    finish_lessons(learner, module)
    attempt = attempt_start(user=learner, quiz=quiz)
    url = reverse("quizzes:attempt", kwargs={"attempt_id": attempt.pk})
    data = form_data(attempt, right_answers(attempt))

    first = learner_client.post(url, data, **SYNC)
    again = learner_client.post(url, data, **SYNC)

    result = reverse("quizzes:result", kwargs={"attempt_id": attempt.pk})
    assert first.json() == {"message": "Your answers were sent and marked.", "url": result}
    assert again.json()["url"] == result
    assert "already been sent" in again.json()["message"]
    attempt.refresh_from_db()
    assert (attempt.status, attempt.score, attempt.passed) == (AttemptStatus.SUBMITTED, 100, True)
    assert ModuleCompletion.objects.filter(user=learner, module=module).count() == 1


def test_quiz_answers_that_arrive_after_the_deadline_are_not_marked(
    learner_client, learner, time_machine
):
    module = module_with_lessons(1)
    quiz = quiz_for(module, questions=2, time_limit_minutes=10)
    finish_lessons(learner, module)
    start = timezone.now()
    time_machine.move_to(start, tick=False)
    attempt = attempt_start(user=learner, quiz=quiz)
    url = reverse("quizzes:attempt", kwargs={"attempt_id": attempt.pk})
    data = form_data(attempt, right_answers(attempt))

    time_machine.move_to(start + timedelta(minutes=11), tick=False)
    response = learner_client.post(url, data, **SYNC)

    assert response.status_code == 200
    assert "after the time limit" in response.json()["message"]
    attempt.refresh_from_db()
    assert (attempt.status, attempt.score) == (AttemptStatus.EXPIRED, 0)
    assert not ModuleCompletion.objects.filter(user=learner).exists()


def test_unanswered_questions_sent_from_the_queue_are_refused_with_a_reason(
    learner_client, learner
):
    module = module_with_lessons(1)
    quiz = quiz_for(module, questions=2)
    finish_lessons(learner, module)
    attempt = attempt_start(user=learner, quiz=quiz)
    url = reverse("quizzes:attempt", kwargs={"attempt_id": attempt.pk})
    answers = dict(list(right_answers(attempt).items())[:1])
    response = learner_client.post(url, form_data(attempt, answers), **SYNC)
    assert response.status_code == 400
    assert "not sent" in response.json()["message"]
    assert Attempt.objects.get(pk=attempt.pk).status == AttemptStatus.IN_PROGRESS


def test_signing_out_tells_the_browser_to_clear_the_device(learner_client):
    page = learner_client.get(reverse("account_logout"))
    assert page.status_code == 200
    assert "Clear-Site-Data" not in page
    response = learner_client.post(reverse("account_logout"))
    assert response.status_code == 302
    assert response["Clear-Site-Data"] == '"cache", "storage"'
    assert "_auth_user_id" not in learner_client.session
