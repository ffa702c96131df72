"""A timed assessment in Chromium: the clock counts down from the learner's own time (with
their extra time), stays in view, and screen readers hear it only at set points."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.journeys import module_shorten
from tests.browser.test_learner_lessons import assert_fits, new_learner, sign_in  # noqa: F401

pytestmark = pytest.mark.browser
SLUG = "county-lines-exploitation-and-cuckooing"


def test_the_countdown_shows_the_time_left_and_announces_it_at_set_points(
    live_site,
    new_learner,  # noqa: F811
    page,
    axe_check,
):
    from quizzes.models import Attempt, ExtraTime
    from training.services.progress import lesson_complete

    module = module_shorten(slug=SLUG, keep=1, time_limit_minutes=2)
    quiz = module.quiz
    ExtraTime.objects.create(user=new_learner, percent=50)  # 2 minutes become 3
    for lesson in module.get_children().live().specific():
        lesson_complete(user=new_learner, lesson=lesson)
    base = live_site.url
    sign_in(page, base)

    page.goto(f"{base}/quizzes/{quiz.pk}/")
    expect(page.get_by_test_id("quiz-rules")).to_contain_text("Time limit 3 minutes")
    page.get_by_role("button", name="Start the assessment").click()
    clock = page.get_by_role("timer")
    expect(clock).to_be_visible()
    first = clock.inner_text()
    assert re.fullmatch(r"(2:5\d|3:00)", first), first
    expect(clock).not_to_have_text(first, timeout=3000)  # it counts down
    expect(page.get_by_test_id("countdown-announce")).to_have_text("")  # nothing read out yet
    axe_check(page, "timed-attempt-desktop")
    page.set_viewport_size({"width": 320, "height": 720})
    assert_fits(page, "timed attempt")
    page.mouse.wheel(0, 2000)
    expect(clock).to_be_in_viewport()  # the clock stays in view while scrolling
    axe_check(page, "timed-attempt-320")

    # Just over half a minute left: the 30-second warning is spoken once it is reached.
    attempt = Attempt.objects.get(user=new_learner, status="in_progress")
    attempt.deadline = timezone.now() + timedelta(seconds=33)
    attempt.save(update_fields=["deadline"])
    page.reload()
    expect(page.get_by_test_id("countdown-announce")).to_have_text(
        "30 seconds left. Save or submit your answers.", timeout=8000
    )
