"""Offline lessons in Chromium, with the real service worker Workbox built: a module opened with
a signal is read without one, "Complete" pressed offline is kept on the phone and sent when the
signal returns (once, however often it is replayed; not at all for a lesson unpublished
meanwhile), quiz answers given offline are submitted when back online and judged against the
attempt's deadline, and signing out leaves nothing on the device."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.journeys import module_shorten, quiz_answer
from tests.browser.test_learner_lessons import (
    SCREENSHOTS,
    assert_fits,
    new_learner,  # noqa: F401 (a fixture)
    sign_in,
)

pytestmark = pytest.mark.browser
SLUG = "county-lines-exploitation-and-cuckooing"
MODULE_URL = f"/training/{SLUG}/"
QUEUE = "aware-offline-queue"


def worker_ready(page) -> None:
    """The service worker is registered, active and controls the page, and has kept what the
    page asked it to (the module's lessons and their files). A page that began loading while
    the worker was still installing is not controlled until the next visit, hence one reload."""
    expect(page.locator("html[data-offline-ready=true]")).to_have_count(1, timeout=20000)
    if not page.evaluate("!!navigator.serviceWorker.controller"):
        page.reload()
        expect(page.locator("html[data-offline-ready=true]")).to_have_count(1, timeout=20000)
    scope = page.evaluate(
        "async () => { const r = await navigator.serviceWorker.getRegistration();"
        " return r && r.active && navigator.serviceWorker.controller ? r.scope : null; }"
    )
    assert scope == page.url.split("/training/")[0] + "/"


def queue(page) -> list:
    return json.loads(page.evaluate(f"localStorage.getItem('{QUEUE}') || '[]'"))


def cached_bytes(page) -> dict:
    """What the service worker's caches hold: entries and bytes of each."""
    return page.evaluate(
        """async () => {
          const sizes = {};
          for (const name of await caches.keys()) {
            const cache = await caches.open(name);
            let bytes = 0;
            const requests = await cache.keys();
            for (const request of requests) {
              bytes += (await (await cache.match(request)).arrayBuffer()).byteLength;
            }
            sizes[name] = {entries: requests.length, bytes};
          }
          return sizes;
        }"""
    )


def test_a_lesson_read_and_completed_offline_is_recorded_once_when_the_signal_returns(
    live_site,
    new_learner,  # noqa: F811
    page,
    axe_check,
):
    from training.models import LessonPage, LessonProgress

    base = live_site.url
    sign_in(page, base)
    page.goto(f"{base}{MODULE_URL}")
    worker_ready(page)
    sizes = cached_bytes(page)
    print(f"service worker caches after opening the module: {sizes}")
    assert sizes["aware-pages"]["entries"] >= 8  # the module page and its seven lessons

    lessons = list(
        LessonPage.objects.live()
        .filter(slug__isnull=False)
        .descendant_of(LessonPage.objects.get(slug="how-county-lines-work").get_parent())
        .order_by("path")
    )
    # Only lessons the learner opens count as opened: fetching ahead recorded nothing.
    assert not LessonProgress.objects.filter(user=new_learner).exists()

    # The signal goes on the way to a visit: the third lesson, never opened, still opens.
    page.context.set_offline(True)
    page.goto(f"{base}{lessons[2].url}")
    expect(page.get_by_role("heading", level=1)).to_have_text(lessons[2].title)
    page.get_by_test_id("complete-lesson").click()
    banner = page.get_by_test_id("offline-banner")
    expect(banner).to_contain_text("Saved on this phone, will sync")
    expect(banner).to_contain_text(f"“{lessons[2].title}” will be marked complete")
    expect(page.get_by_test_id("offline-status")).to_have_attribute("aria-live", "polite")
    page.get_by_test_id("complete-lesson").click()  # pressed again: still one to send
    assert len(queue(page)) == 1
    assert not LessonProgress.objects.filter(user=new_learner, completed_at__isnull=False).exists()
    page.set_viewport_size({"width": 320, "height": 720})
    assert_fits(page, "lesson saved offline")
    axe_check(page, "lesson-saved-offline-320")
    page.screenshot(path=str(SCREENSHOTS / "lesson-saved-offline-320.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})

    # The learner reads on (the next lesson is kept too) and the signal returns.
    page.get_by_role("link", name=f"Next lesson: {lessons[3].title}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(lessons[3].title)
    expect(page.get_by_test_id("offline-banner")).to_contain_text("saved on this phone")
    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.get_by_test_id("offline-banner")).to_contain_text(
        f"“{lessons[2].title}” is complete.", timeout=10000
    )
    assert queue(page) == []
    done = LessonProgress.objects.filter(user=new_learner, completed_at__isnull=False)
    assert list(done.values_list("lesson_id", flat=True)) == [lessons[2].pk]
    first_time = done.get().completed_at

    # The same completion replayed twice (a second tab, a retry): still one, unchanged.
    item = {"kind": "lesson", "url": lessons[2].url, "title": "again", "user": str(new_learner.pk)}
    for n in range(2):
        stored = json.dumps([{**item, "id": str(n)}])
        page.evaluate(f"localStorage.setItem('{QUEUE}', JSON.stringify({stored}))")
        page.reload()
        expect(page.get_by_test_id("offline-banner")).to_contain_text("is complete.")
        assert queue(page) == []
    assert done.count() == 1
    assert done.get().completed_at == first_time

    # A completion kept offline for a lesson unpublished meanwhile: said so, nothing recorded.
    page.context.set_offline(True)
    page.goto(f"{base}{lessons[4].url}")
    page.get_by_test_id("complete-lesson").click()
    expect(page.get_by_test_id("offline-banner")).to_contain_text("Saved on this phone")
    lessons[4].unpublish()
    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.get_by_test_id("offline-banner")).to_contain_text(
        f"“{lessons[4].title}” completed” was not recorded: it is no longer published.",
        timeout=10000,
    )
    assert queue(page) == []
    assert not done.filter(lesson=lessons[4]).exists()


def test_quiz_answers_given_offline_are_submitted_when_back_online(
    live_site,
    new_learner,  # noqa: F811
    page,
    axe_check,
):
    from quizzes.models import Attempt
    from training.models import ModuleCompletion
    from training.services.progress import lesson_complete

    module = module_shorten(slug=SLUG, keep=1)
    for lesson in module.get_children().live().specific():
        lesson_complete(user=new_learner, lesson=lesson)
    base = live_site.url
    sign_in(page, base)
    page.goto(f"{base}/quizzes/{module.quiz.pk}/")
    page.get_by_role("button", name="Start the assessment").click()
    expect(page.get_by_test_id("attempt-form")).to_be_visible()

    page.context.set_offline(True)
    quiz_answer(page, right=True)
    page.reload()  # offline: the service worker's copy, and the answers chosen kept on the phone
    checked = page.locator("form[data-testid=attempt-form] input:checked")
    expect(checked).not_to_have_count(0)
    page.get_by_test_id("submit-answers").click()
    expect(page.get_by_test_id("offline-banner")).to_contain_text(
        "Your answers will be submitted when you are back online."
    )
    attempt = Attempt.objects.get(user=new_learner)
    assert attempt.status == "in_progress"
    page.set_viewport_size({"width": 320, "height": 720})
    axe_check(page, "quiz-saved-offline-320")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_url(f"{base}/quizzes/attempts/{attempt.pk}/result/")
    attempt.refresh_from_db()
    assert (attempt.status, attempt.score, attempt.passed) == ("submitted", 100, True)
    assert ModuleCompletion.objects.filter(user=new_learner, module=module).count() == 1
    assert queue(page) == []


def test_quiz_answers_given_offline_after_the_deadline_are_not_marked(
    live_site,
    new_learner,  # noqa: F811
    page,
):
    from quizzes.models import Attempt
    from training.services.progress import lesson_complete

    module = module_shorten(slug=SLUG, keep=1, time_limit_minutes=5)
    for lesson in module.get_children().live().specific():
        lesson_complete(user=new_learner, lesson=lesson)
    base = live_site.url
    sign_in(page, base)
    page.goto(f"{base}/quizzes/{module.quiz.pk}/")
    page.get_by_role("button", name="Start the assessment").click()
    expect(page.get_by_test_id("attempt-form")).to_be_visible()

    page.context.set_offline(True)
    quiz_answer(page, right=True)
    page.get_by_test_id("submit-answers").click()
    expect(page.get_by_test_id("offline-banner")).to_contain_text("The time limit still counts")
    # The signal comes back only after the time (and its grace) has run out.
    attempt = Attempt.objects.get(user=new_learner)
    attempt.deadline = timezone.now() - timedelta(minutes=1)
    attempt.save(update_fields=["deadline"])
    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_url(f"{base}/quizzes/attempts/{attempt.pk}/result/")
    attempt.refresh_from_db()
    assert (attempt.status, attempt.score, attempt.passed) == ("expired", 0, False)
    expect(page.get_by_role("main")).to_contain_text("Time ran out")


def test_signing_out_leaves_nothing_on_the_device(
    live_site,
    new_learner,  # noqa: F811
    page,
):
    base = live_site.url
    sign_in(page, base)
    page.goto(f"{base}{MODULE_URL}")
    worker_ready(page)
    page.context.set_offline(True)
    page.get_by_test_id("start-or-continue").click()
    page.get_by_test_id("complete-lesson").click()
    assert len(queue(page)) == 1
    page.context.set_offline(False)

    page.goto(f"{base}/accounts/logout/")
    expect(page.get_by_test_id("offline-sign-out-warning")).to_contain_text("not been sent yet")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{base}/")
    left = page.evaluate(
        """async () => ({
          caches: await caches.keys(),
          workers: (await navigator.serviceWorker.getRegistrations()).length,
          stored: Object.keys(localStorage).filter((key) => key.startsWith('aware-offline')),
        })"""
    )
    assert left == {"caches": [], "workers": 0, "stored": []}
    page.goto(f"{base}{MODULE_URL}")
    assert "/accounts/login/" in page.url
