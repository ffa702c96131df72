"""Refreshers (issue 19): someone renewing a module reads only its refresher lessons and takes a
fresh draw of questions, none of those asked before where the bank has enough; first-timers never
see the refresher. Renewals fall due on each completion's own anniversary."""

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from quizzes.models import AttemptQuestion, Quiz
from quizzes.services import AttemptNotAllowed, attempt_start, attempt_submit
from tests.factories import LESSON_BODY, lessons_of, module_with_lessons
from tests.quizzes.conftest import add_question, right_answers
from training.models import (
    Assignment,
    AssignmentRule,
    Audience,
    LessonPage,
    ModuleCompletion,
    ModulePage,
)
from training.selectors import (
    assignment_states_for_users,
    lesson_totals,
    module_progress_for_user,
)
from training.services.assignments import assignments_sync
from training.services.progress import lesson_complete

pytestmark = pytest.mark.django_db


def at(day: str, hour: int = 9, minute: int = 0) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{hour:02d}:{minute:02d}:00+00:00")


def refresher_lesson(module: ModulePage) -> LessonPage:
    lesson = LessonPage(
        title="What is new this year",
        slug="whats-new",
        summary="What changed and what matters most.",
        estimated_minutes=4,
        body=LESSON_BODY,
        refresher=True,
    )
    module.add_child(instance=lesson)
    lesson.save_revision().publish()
    return lesson


@pytest.fixture
def module(site):
    module = module_with_lessons(3)
    refresher_lesson(module)
    return module


@pytest.fixture
def quiz(module):
    """Ten questions drawn from a bank of twenty (the bank standard's twice the draw)."""
    quiz = Quiz.objects.create(module=module, questions_to_draw=10, pass_mark=80)
    first_time = [lesson for lesson in lessons_of(module) if not lesson.refresher]
    for number in range(20):
        add_question(module, lesson=first_time[number % 3])
    return quiz


def officers_rule(module, slug: str = "officers-r") -> AssignmentRule:
    audience, _ = Audience.objects.get_or_create(
        slug=slug, defaults={"name": f"Officers {slug}", "person_types": ["officer"]}
    )
    return AssignmentRule.objects.create(
        module=module, audience=audience, due_days=28, valid_months=12, reopen_days=60
    )


@pytest.fixture
def officers(module):
    return officers_rule(module)


def first_time_lessons(module) -> list[LessonPage]:
    return [lesson for lesson in lessons_of(module) if not lesson.refresher]


def take_quiz(user, quiz, when):
    with time_machine.travel(when, tick=False):
        attempt = attempt_start(user=user, quiz=quiz)
        return attempt_submit(attempt=attempt, answers=right_answers(attempt))


def pass_first_time(user, module, quiz, when):
    with time_machine.travel(when, tick=False):
        for lesson in first_time_lessons(module):
            lesson_complete(user=user, lesson=lesson)
    return take_quiz(user, quiz, when)


def served(attempt) -> set[int]:
    items = AttemptQuestion.objects.filter(attempt=attempt)
    return set(items.values_list("question_id", flat=True))


def to_do(user, module) -> list[str]:
    return [
        s.lesson.title
        for s in module_progress_for_user(user=user, module=module).lessons
        if not s.done
    ]


def test_a_first_timer_never_sees_the_refresher_lesson(
    module, quiz, officers, user_factory, client
):
    person = user_factory(email="new@example.gov.uk")
    with time_machine.travel(at("2026-01-05"), tick=False):
        assignments_sync()
    progress = module_progress_for_user(user=person, module=module)
    assert progress.delta is None
    assert [s.lesson.title for s in progress.lessons] == ["Lesson 1", "Lesson 2", "Lesson 3"]
    assert lesson_totals(module_ids=[module.pk]) == {module.pk: 3}

    client.force_login(person)
    html = client.get(module.url).content.decode()
    assert "What is new this year" not in html
    assert "0 of 3 lessons done" in html
    assert 'data-testid="refresher"' not in html

    attempt = pass_first_time(person, module, quiz, at("2026-01-10"))
    completion = ModuleCompletion.objects.get(user=person)
    assert completion.attempt_id == attempt.pk
    assert len(served(attempt)) == 10
    state = assignment_states_for_users(user_ids=[person.pk])[person.pk][0]
    assert (state.lessons_done, state.lessons_total) == (3, 3)


def test_a_renewer_reads_the_refresher_and_takes_a_fresh_draw_each_year(
    module, quiz, officers, user_factory, client
):
    person = user_factory(email="renewer@example.gov.uk")
    with time_machine.travel(at("2026-01-05"), tick=False):
        assignments_sync()
    first = pass_first_time(person, module, quiz, at("2026-01-10"))
    refresher = LessonPage.objects.get(slug="whats-new")

    # Still valid, before the reopen window (11 November 2026): nothing to do, no refresher.
    with time_machine.travel(at("2026-11-10"), tick=False):
        assert module_progress_for_user(user=person, module=module).delta is None
        assert to_do(person, module) == []

    with time_machine.travel(at("2026-11-20"), tick=False):
        progress = module_progress_for_user(user=person, module=module)
        assert progress.delta.refresher
        assert progress.delta.questions == 10
        assert to_do(person, module) == ["What is new this year"]
        assert progress.next_lesson == refresher
        client.force_login(person)
        html = client.get(module.url).content.decode()
        my_training = client.get("/my-training/").content.decode()
        with pytest.raises(AttemptNotAllowed):
            attempt_start(user=person, quiz=quiz)
        lesson_complete(user=person, lesson=refresher)
    assert (
        "You completed this module on 10 January 2026, and it counts until 10 January 2027." in html
    )
    assert (
        "read the refresher (What is new this year, 4 min) and take a fresh assessment "
        "(10 questions you have not been asked before, as far as the question bank allows)" in html
    )
    assert html.count('data-testid="lesson-refresher"') == 1
    assert "3 of 4 lessons done" in html
    assert f'href="{refresher.url}"' in my_training
    # Reading the refresher completes nothing: last year's pass is not this renewal's.
    assert ModuleCompletion.objects.filter(user=person).count() == 1

    renewal = take_quiz(person, quiz, at("2026-11-20", 10))
    assert len(served(renewal)) == 10
    assert served(renewal).isdisjoint(served(first))
    completion = ModuleCompletion.objects.filter(user=person).order_by("-pk").first()
    assert completion.attempt_id == renewal.pk
    assert completion.module_version == module.version == 1
    assert completion.record_hash == completion.compute_hash()
    assignment = Assignment.objects.open().get(user=person)
    assert assignment.valid_until == at("2027-11-20", 10)
    with time_machine.travel(at("2026-11-21"), tick=False):
        progress = module_progress_for_user(user=person, module=module)
    assert progress.delta is None
    assert [s.lesson.title for s in progress.lessons] == ["Lesson 1", "Lesson 2", "Lesson 3"]
    assert progress.all_done

    # The next renewal reads the refresher again; every question has been asked once, so the
    # draw takes the least recently seen: the first year's.
    with time_machine.travel(at("2027-10-01"), tick=False):
        assert to_do(person, module) == ["What is new this year"]
        lesson_complete(user=person, lesson=refresher)
        assert to_do(person, module) == []
    again = take_quiz(person, quiz, at("2027-10-01", 10))
    assert served(again) == served(first)
    assert ModuleCompletion.objects.filter(user=person).count() == 3


def test_an_expired_completion_renews_by_the_refresher_too(module, quiz, officers, user_factory):
    person = user_factory(email="lapsed@example.gov.uk")
    with time_machine.travel(at("2026-01-05"), tick=False):
        assignments_sync()
    pass_first_time(person, module, quiz, at("2026-01-10"))
    with time_machine.travel(at("2027-02-01"), tick=False):
        progress = module_progress_for_user(user=person, module=module)
        assert progress.delta.refresher
        assert progress.delta.expired
        lesson_complete(user=person, lesson=LessonPage.objects.get(slug="whats-new"))
    take_quiz(person, quiz, at("2027-02-01", 10))
    assert Assignment.objects.open().get(user=person).valid_until == at("2028-02-01", 10)


def test_a_completion_of_an_earlier_version_takes_the_new_version_not_the_refresher(
    module, quiz, officers, user_factory
):
    person = user_factory(email="earlier@example.gov.uk")
    pass_first_time(person, module, quiz, at("2026-01-10"))
    with time_machine.travel(at("2026-03-01"), tick=False):
        draft = module.get_latest_revision_as_object()
        draft.learners_must_retake = True
        draft.change_note = "Rewritten for the 2026 Act."
        draft.save_revision().publish()
    module.refresh_from_db()
    with time_machine.travel(at("2027-02-01"), tick=False):
        progress = module_progress_for_user(user=person, module=module)
    assert progress.delta is None
    assert [s.lesson.title for s in progress.lessons] == ["Lesson 1", "Lesson 2", "Lesson 3"]


def test_a_module_without_a_refresher_lesson_is_taken_whole_on_renewal(site, user_factory):
    module = module_with_lessons(2, slug="plain")
    quiz = Quiz.objects.create(module=module, questions_to_draw=2, pass_mark=50)
    for lesson in lessons_of(module):
        add_question(module, lesson=lesson)
    officers_rule(module)
    person = user_factory(email="plain@example.gov.uk")
    with time_machine.travel(at("2026-01-05"), tick=False):
        assignments_sync()
    pass_first_time(person, module, quiz, at("2026-01-10"))
    with time_machine.travel(at("2026-12-01"), tick=False):
        assert module_progress_for_user(user=person, module=module).delta is None


def test_renewals_fall_due_on_each_completions_own_anniversary(site, user_factory):
    """Each module's renewal is due on the local date of its own completion a year on, also
    when the clocks change between the two (a late-evening completion in the last days of
    March or October)."""
    person = user_factory(email="dates@example.gov.uk")
    completed = {
        "winter": at("2026-02-03", 14),
        "summer": at("2026-05-20", 8),  # 09:00 BST
        "late-march": at("2026-03-28", 23, 30),  # 23:30 GMT; 28 March 2027 is BST
        "late-october": at("2026-10-30", 23, 30),  # 23:30 GMT; 30 October 2027 is BST
    }
    modules = {}
    for slug, when in completed.items():
        modules[slug] = module = module_with_lessons(1, slug=slug, title=slug)
        quiz = Quiz.objects.create(module=module, questions_to_draw=1, pass_mark=50)
        add_question(module, lesson=lessons_of(module)[0])
        officers_rule(module, slug=f"officers-{slug}")
        with time_machine.travel(at("2026-01-05"), tick=False):
            assignments_sync()
        pass_first_time(person, module, quiz, when)
    with time_machine.travel(at("2027-12-01"), tick=False):
        states = {
            s.assignment.module.slug: s
            for s in assignment_states_for_users(user_ids=[person.pk])[person.pk]
        }
    assert {slug: state.due_on for slug, state in states.items()} == {
        "winter": dt.date(2027, 2, 3),
        "summer": dt.date(2027, 5, 20),
        "late-march": dt.date(2027, 3, 28),
        "late-october": dt.date(2027, 10, 30),
    }
    assert {s.status for s in states.values()} == {"expired"}


def test_the_module_page_for_a_renewer_asks_a_fixed_number_of_queries(
    module, quiz, officers, user_factory, client, django_assert_max_num_queries
):
    person = user_factory(email="counted@example.gov.uk")
    with time_machine.travel(at("2026-01-05"), tick=False):
        assignments_sync()
    pass_first_time(person, module, quiz, at("2026-01-10"))
    client.force_login(person)
    with time_machine.travel(at("2026-11-20"), tick=False):
        assert client.get(module.url).status_code == 200  # fills the site caches
        # Fixed, whatever the size of the bank or the number of attempts: the delta path reads
        # the completion once (the assessment step reuses it), the assignment's reopen window
        # and the size of the fresh draw.
        with django_assert_max_num_queries(11):
            html = client.get(module.url).content.decode()
    assert 'data-testid="refresher"' in html


def test_the_shipped_refresher_lessons_are_loaded_as_refreshers(site):
    call_command("load_training_content", stdout=StringIO())
    refreshers = LessonPage.objects.live().filter(refresher=True)
    modules = {ModulePage.objects.parent_of(lesson).get().slug for lesson in refreshers}
    # Every module people renew (all but the public one) has its short "what's new" version.
    renewed = set(ModulePage.objects.live().filter(public=False).values_list("slug", flat=True))
    assert modules == renewed
    for lesson in refreshers:
        assert 3 <= lesson.estimated_minutes <= 5, lesson.title
        assert lesson.body[-1].block_type == "how_to_report", lesson.title


def renewing_modules(person, count: int) -> list[ModulePage]:
    """`count` modules with a refresher, each passed by `person` in January 2026 (valid 12
    months, reopening 60 days before), so all are being renewed on 20 November 2026."""
    modules = []
    for number in range(count):
        module = module_with_lessons(3, slug=f"renewed-{number}", title=f"Renewed {number}")
        refresher = refresher_lesson(module)
        quiz = Quiz.objects.create(module=module, questions_to_draw=2, pass_mark=80)
        for lesson in first_time_lessons(module)[:2]:
            add_question(module, lesson=lesson)
        officers_rule(module, slug=f"officers-{number}")
        with time_machine.travel(at("2026-01-05"), tick=False):
            assignments_sync()
        pass_first_time(person, module, quiz, at("2026-01-10"))
        modules.append((module, refresher))
    return modules


def test_my_training_costs_the_same_queries_however_many_modules_are_being_renewed(
    site, user_factory, client, django_assert_max_num_queries
):
    """Each renewal's next step is the refresher, read for all of them at once: My training
    asks no more for five modules being renewed than for one (issue 17's ten-query budget)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    one, five = user_factory(email="one@example.gov.uk"), user_factory(email="five@example.gov.uk")
    renewed = renewing_modules(five, 5)
    for module, _ in renewed[:1]:
        pass_first_time(one, module, Quiz.objects.get(module=module), at("2026-01-10"))
    counts = {}
    with time_machine.travel(at("2026-11-20"), tick=False):
        for person in (one, five):
            client.force_login(person)
            client.get("/my-training/")  # fills the caches
            with CaptureQueriesContext(connection) as ctx:
                html = client.get("/my-training/").content.decode()
            counts[person.email] = len(ctx.captured_queries)
            mine = renewed[:1] if person == one else renewed
            for _, refresher in mine:
                assert f'href="{refresher.url}"' in html
    assert counts["five@example.gov.uk"] == counts["one@example.gov.uk"] <= 10, counts
