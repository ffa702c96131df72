"""Learner pages ask the database a fixed, small number of times (issue 17): at most ten queries
each for a signed-in officer, the same for a small module as for a large one (more lessons, more
blocks in each, more questions), and the caches behind that forget what editors change."""

import datetime as dt
import json

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from wagtail.models import Page, PageViewRestriction

from accounts.models import Department
from tests.conftest import totp_activate
from tests.factories import LESSON_BODY, catalogue, lessons_of
from tests.quizzes.conftest import quiz_for
from training.models import Assignment, Audience, LessonPage, LessonProgress, ModulePage

MAX_QUERIES = 10


def module_of_size(slug: str, *, lessons: int, blocks_repeat: int) -> ModulePage:
    module = ModulePage(
        title=f"Module {slug}",
        slug=slug,
        summary="A module for query counts.",
        owning_team="Counter-fraud team",
        learning_outcomes=json.dumps([{"type": "outcome", "value": "Spot the signs."}]),
    )
    catalogue().add_child(instance=module)
    module.save_revision().publish()
    body = json.dumps(json.loads(LESSON_BODY) * blocks_repeat)
    for number in range(1, lessons + 1):
        lesson = LessonPage(
            title=f"Lesson {number}", slug=f"lesson-{number}", summary="S", body=body
        )
        module.add_child(instance=lesson)
        lesson.save_revision().publish()
    module.refresh_from_db()
    return module


def assign(user, module: ModulePage) -> Assignment:
    """An open assignment of the module, due in four weeks."""
    return Assignment.objects.create(
        user=user,
        module=module,
        assigned_at=timezone.now(),
        due_on=timezone.localdate() + dt.timedelta(days=28),
    )


def learner_urls(module: ModulePage, quiz) -> dict[str, str]:
    return {
        "catalogue": catalogue().url,
        "module": module.url,
        "lesson": lessons_of(module)[1].url,
        "my training": "/my-training/",
        "quiz start": f"/quizzes/{quiz.pk}/",
    }


def queries_per_page(client, urls: dict[str, str]) -> dict[str, list[str]]:
    """Each page's SQL on a second visit (the first fills the caches and opens the lesson)."""
    seen = {}
    for name, url in urls.items():
        assert client.get(url).status_code == 200, name
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200, name
        seen[name] = [q["sql"] for q in ctx.captured_queries]
    return seen


@pytest.fixture
def officer_client(client, site, roles, user_factory):
    from accounts.management.commands.load_accounts_data import department_from_path

    user = user_factory(
        email="sam.officer@example.gov.uk",
        person_type="officer",
        department=department_from_path("Place > Waste services"),
    )
    client.force_login(user)
    client.user = user
    return client


def for_the_officers_directorate(*modules: ModulePage) -> None:
    """Each module for an audience of the officer's directorate (a rule with departments, as a
    council's are), so the catalogue tests the learner's audiences as it does at scale."""
    audience = Audience.objects.create(name="Place directorate", slug="place")
    audience.departments.add(Department.objects.get(name="Place"))
    for module in modules:
        module.audiences.add(audience)


def test_learner_pages_take_at_most_ten_queries_whatever_the_modules_size(officer_client):
    small = module_of_size("small-module", lessons=2, blocks_repeat=1)
    large = module_of_size("large-module", lessons=7, blocks_repeat=4)
    for_the_officers_directorate(small, large)
    small_quiz, large_quiz = quiz_for(small, questions=2), quiz_for(large, questions=9)

    small_counts = queries_per_page(officer_client, learner_urls(small, small_quiz))
    large_counts = queries_per_page(officer_client, learner_urls(large, large_quiz))

    for name, sql in large_counts.items():
        assert len(sql) <= MAX_QUERIES, f"{name}: {len(sql)} queries\n" + "\n".join(sql)
        assert len(sql) == len(small_counts[name]), (
            f"{name}: {len(small_counts[name])} queries for the small module, "
            f"{len(sql)} for the large one"
        )


def test_opening_a_lesson_again_writes_nothing(officer_client):
    module = module_of_size("open-module", lessons=2, blocks_repeat=1)
    lesson = lessons_of(module)[0]
    officer_client.get(lesson.url)
    opened = LessonProgress.objects.get(user=officer_client.user, lesson=lesson)

    with CaptureQueriesContext(connection) as ctx:
        assert officer_client.get(lesson.url).status_code == 200
    writes = [
        q["sql"]
        for q in ctx.captured_queries
        if q["sql"].split()[0].upper() in {"INSERT", "UPDATE", "DELETE", "SAVEPOINT"}
    ]
    assert writes == []
    assert LessonProgress.objects.get(user=officer_client.user, lesson=lesson) == opened


def test_the_cached_links_routes_and_roles_follow_what_editors_change(officer_client):
    module = module_of_size("change-module", lessons=1, blocks_repeat=1)
    lesson = lessons_of(module)[0]
    assert officer_client.get(lesson.url).status_code == 200
    assert b"Privacy" in officer_client.get(module.url).content

    # Unpublishing a footer page takes it out of the (cached) footer at once.
    Page.objects.get(slug="privacy").specific.unpublish()
    assert b'href="/privacy/"' not in officer_client.get(module.url).content

    # Renaming the module's slug: the old URL no longer leads to it, the new one does.
    module.slug = "renamed-module"
    module.save_revision().publish()
    assert officer_client.get("/training/change-module/").status_code == 404
    assert officer_client.get("/training/renamed-module/lesson-1/").status_code == 200

    # Unpublishing the lesson: its (cached) route no longer serves it.
    LessonPage.objects.get(pk=lesson.pk).unpublish()
    assert officer_client.get("/training/renamed-module/lesson-1/").status_code == 404

    # A new privileged role applies on the very next request: two-factor set-up first.
    officer_client.user.groups.add(Group.objects.get(name="HR"))
    response = officer_client.get("/training/renamed-module/")
    assert response.status_code == 302
    assert "/accounts/2fa/" in response["Location"]


# What a warm page asks the database now that the page at the URL, its view restrictions, a
# module's lessons and a lesson's module, every module's lesson count and a module's quiz come
# from the site cache, and a lesson already opened is not looked up again: the session, the user,
# the learner's progress in the module (on the module page, their attempts at its quiz and their
# latest completion too: the quiz's attempts count from it), and on My training their
# assignments, their lesson progress and their completions (the certificates listed, and the
# versions passed); module versions only when someone passed an earlier one.
WARM_LIMITS = {"lesson": 3, "module": 5, "my training": 5}


def test_the_module_and_its_lessons_come_from_the_site_cache(officer_client):
    module = module_of_size("cached-module", lessons=2, blocks_repeat=1)
    first, second = lessons_of(module)
    quiz_for(module, questions=2)
    urls = {"lesson": first.url, "module": module.url, "my training": "/my-training/"}
    counts = queries_per_page(officer_client, urls)
    for name, limit in WARM_LIMITS.items():
        assert len(counts[name]) <= limit, f"{name}: {len(counts[name])}\n" + "\n".join(
            counts[name]
        )

    # Unpublishing the second lesson takes it out of the first's "next" link at once...
    LessonPage.objects.get(pk=second.pk).unpublish()
    assert second.url not in officer_client.get(first.url).content.decode()
    # ...and publishing a third puts it there.
    third = LessonPage(title="Lesson 3", slug="lesson-3", summary="S", body=LESSON_BODY)
    module.add_child(instance=third)
    third.save_revision().publish()
    assert f'href="{third.url}"' in officer_client.get(first.url).content.decode()


def test_a_lessons_cached_body_follows_publishing_and_a_preview_shows_the_draft(
    officer_client, user_factory
):
    module = module_of_size("body-module", lessons=1, blocks_repeat=1)
    lesson = lessons_of(module)[0]
    assert "Recognise, record, report." in officer_client.get(lesson.url).content.decode()

    body = json.loads(LESSON_BODY)
    body[0]["value"] = "<p>Look again, then report.</p>"
    lesson.body = json.dumps(body)
    lesson.save_revision()  # a draft: learners still see the published body
    page = officer_client.get(lesson.url).content.decode()
    assert "Recognise, record, report." in page
    assert "Look again" not in page
    editor = Client()
    admin = user_factory(email="ed.admin@example.gov.uk", is_superuser=True, is_staff=True)
    totp_activate(admin)
    editor.force_login(admin)
    preview = editor.get(reverse("wagtailadmin_pages:view_draft", args=[lesson.pk]))
    assert "Look again, then report." in preview.content.decode()

    LessonPage.objects.get(pk=lesson.pk).get_latest_revision().publish()
    page = officer_client.get(lesson.url).content.decode()
    assert "Look again, then report." in page
    assert "Recognise, record, report." not in page


def test_a_cached_view_restriction_follows_its_groups(officer_client):
    module = module_of_size("restricted-module", lessons=1, blocks_repeat=1)
    lesson = lessons_of(module)[0]
    assert officer_client.get(lesson.url).status_code == 200

    restriction = PageViewRestriction.objects.create(
        page=module, restriction_type=PageViewRestriction.GROUPS
    )
    group = Group.objects.create(name="Councillors")
    restriction.groups.add(group)
    assert officer_client.get(lesson.url).status_code == 403

    officer_client.user.groups.add(group)
    assert officer_client.get(lesson.url).status_code == 200
    restriction.groups.remove(group)
    assert officer_client.get(lesson.url).status_code == 403
    restriction.delete()
    assert officer_client.get(lesson.url).status_code == 200


def test_my_trainings_cached_lesson_counts_and_a_modules_cached_quiz_follow_editors(
    officer_client,
):
    module = module_of_size("counted-module", lessons=2, blocks_repeat=1)
    assign(officer_client.user, module)
    quiz = quiz_for(module, questions=2, pass_mark=80)
    assert "0 of 2" in officer_client.get("/my-training/").content.decode()
    assert "Pass mark 80%." in officer_client.get(module.url).content.decode()

    # Publishing a third lesson counts it at once; saving the quiz shows its new rules.
    third = LessonPage(title="Lesson 3", slug="lesson-3", summary="S", body=LESSON_BODY)
    module.add_child(instance=third)
    third.save_revision().publish()
    assert "0 of 3" in officer_client.get("/my-training/").content.decode()
    quiz.pass_mark = 70
    quiz.save()
    page = officer_client.get(module.url).content.decode()
    assert "Pass mark 70%." in page
    assert "Pass mark 80%." not in page


def test_the_cached_header_and_footer_differ_by_what_they_ask_and_follow_the_settings(
    officer_client, site
):
    from cms.models import CouncilSettings

    signed_in = officer_client.get("/my-training/").content.decode()
    assert "Sign out" in signed_in
    assert 'href="/my-training/">My training' in signed_in
    # Another client, not signed in, on the same site: the signed-in header is not shared.
    anonymous = Client().get("/").content.decode()
    assert "Sign out" not in anonymous
    assert "Sign in" in anonymous
    assert 'href="/my-training/">My training' not in anonymous

    settings = CouncilSettings.for_site(site)
    settings.council_name = "Borsetshire Council"
    settings.support_email = "help@borsetshire.example.gov.uk"
    settings.save()
    page = officer_client.get("/my-training/").content.decode()
    assert "Borsetshire Council</span>" in page  # the header
    assert "mailto:help@borsetshire.example.gov.uk" in page  # the footer


def test_my_training_shows_a_module_the_cached_modules_do_not_hold_yet(officer_client):
    """A module page written where the site cache was not told (this process caching alone
    while Redis is down, say) is read from the database, not missed."""
    first = module_of_size("cached-first", lessons=1, blocks_repeat=1)
    assign(officer_client.user, first)
    assert officer_client.get("/my-training/").status_code == 200  # the modules are cached
    later = ModulePage(
        title="Module made since",
        slug="made-since",
        summary="A module the cache has not seen.",
        owning_team="Counter-fraud team",
        learning_outcomes=json.dumps([{"type": "outcome", "value": "Spot the signs."}]),
    )
    catalogue().add_child(instance=later)  # saved live, with no publish signal
    assign(officer_client.user, later)
    response = officer_client.get("/my-training/")
    assert response.status_code == 200
    assert "Module made since" in response.content.decode()
