"""Editors' side: page tree rules, block validation, module versions, workflow, query counts."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from wagtail.models import Page
from wagtail.test.utils import WagtailPageTestCase

from cms.blocks import HowToReportBlock, ImageBlock, QuoteBlock, StatisticBlock, VideoBlock
from cms.models import HomePage, StandardPage
from tests.factories import lessons_of, module_with_lessons
from training.blocks import LessonBlocks, ScenarioBlock
from training.models import LessonPage, LessonProgress, ModuleIndexPage, ModulePage


class TestTreeRules(WagtailPageTestCase):
    def test_lessons_live_only_inside_modules(self):
        self.assertAllowedParentPageTypes(LessonPage, {ModulePage})
        self.assertCanNotCreateAt(HomePage, LessonPage)
        self.assertCanNotCreateAt(ModuleIndexPage, LessonPage)
        self.assertCanNotCreateAt(StandardPage, LessonPage)

    def test_modules_live_only_in_the_catalogue(self):
        self.assertAllowedParentPageTypes(ModulePage, {ModuleIndexPage})
        self.assertAllowedSubpageTypes(ModulePage, {LessonPage})
        self.assertAllowedParentPageTypes(ModuleIndexPage, {HomePage})
        self.assertCanNotCreateAt(Page, ModuleIndexPage)


def block_errors(block, value) -> set[str]:
    with pytest.raises(ValidationError) as excinfo:
        block.clean(block.to_python(value))
    return set(excinfo.value.block_errors)


def test_an_image_without_alt_text_is_refused():
    assert "alt_text" in block_errors(ImageBlock(), {"image": None, "alt_text": ""})


def test_a_video_without_a_transcript_is_refused():
    value = {"title": "Signs", "video_url": "https://example.org/v.mp4", "transcript": ""}
    assert block_errors(VideoBlock(), value) == {"transcript"}


@pytest.mark.parametrize("missing", ["value", "source", "year"])
def test_a_statistic_without_value_source_or_year_is_refused(missing):
    value = {"value": "£1bn", "description": "cost", "source": "ESA", "year": 2021}
    value[missing] = None if missing == "year" else ""
    assert block_errors(StatisticBlock(), value) == {missing}


def test_a_statistic_from_the_future_is_refused():
    value = {"value": "£1bn", "description": "cost", "source": "ESA", "year": 2999}
    assert "year" in block_errors(StatisticBlock(), value)


def test_a_quote_without_attribution_is_refused():
    assert block_errors(QuoteBlock(), {"text": "Words", "attribution": ""}) == {"attribution"}


def test_a_scenario_needs_a_best_choice():
    choices = [{"text": "A", "feedback": "No", "is_best": False}] * 2
    value = {"situation": "You see…", "question": "What would you do?", "choices": choices}
    assert block_errors(ScenarioBlock(), value) == {"choices"}


@pytest.mark.django_db
def test_publishing_raises_the_version_only_when_learners_must_retake(site, user_factory):
    module = module_with_lessons(2)
    learner = user_factory()
    from training.services.progress import lesson_complete

    progress = lesson_complete(user=learner, lesson=lessons_of(module)[0])
    assert module.version == 1
    assert list(module.versions.values_list("number", flat=True)) == [1]

    draft = module.get_latest_revision_as_object()
    draft.summary = "A small wording change."
    draft.save_revision().publish()
    module.refresh_from_db()
    assert module.version == 1
    assert module.versions.count() == 1

    draft = module.get_latest_revision_as_object()
    draft.change_note = "The law changed: new offences."
    draft.learners_must_retake = True
    draft.save_revision().publish()
    module.refresh_from_db()
    assert module.version == 2
    assert module.learners_must_retake is False
    assert module.versions.get(number=2).change_note == "The law changed: new offences."

    # The next edit starts clean: it must not raise the version again.
    draft = module.get_latest_revision_as_object()
    assert draft.learners_must_retake is False
    draft.save_revision().publish()
    module.refresh_from_db()
    assert module.version == 2

    # Past progress is evidence: untouched.
    stored = LessonProgress.objects.get(pk=progress.pk)
    assert (stored.module_version, stored.completed_at) == (1, progress.completed_at)


@pytest.mark.django_db
@pytest.mark.parametrize("page_kind", ["module", "lesson"])
def test_page_queries_do_not_grow_with_lessons_or_blocks(
    site, user_factory, django_assert_num_queries, page_kind
):
    learner = user_factory()
    small = module_with_lessons(3, slug="small")
    large = module_with_lessons(12, slug="large")
    client = Client()
    client.force_login(learner)

    def url(module):
        return module.url if page_kind == "module" else lessons_of(module)[1].url

    client.get(url(small))  # warm caches (site root paths, content types) and the progress row
    client.get(url(large))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small_queries:
        assert client.get(url(small)).status_code == 200
    with django_assert_num_queries(len(small_queries)):
        assert client.get(url(large)).status_code == 200


@pytest.mark.django_db
def test_editors_submit_and_approvers_publish(roles, user_factory):
    from django.core.management import call_command

    call_command("load_training_content", stdout=open("/dev/null", "w"))  # noqa: SIM115
    module = ModulePage.objects.first()
    editor = user_factory(email="ed@example.gov.uk", groups=["Content editors"])
    approver = user_factory(email="ap@example.gov.uk", groups=["Content approvers"])

    workflow = module.get_workflow()
    assert workflow is not None
    assert workflow.active
    task = workflow.tasks.get().specific
    assert set(task.groups.values_list("name", flat=True)) == {"Content approvers"}
    assert module.permissions_for_user(editor).can_edit()
    assert not module.permissions_for_user(editor).can_publish()
    assert module.permissions_for_user(approver).can_publish()


def test_a_how_to_report_block_saves_as_added_showing_every_route():
    block = HowToReportBlock()

    value = block.clean(block.get_default())

    assert list(value["routes"]) == []


def test_editors_find_the_do_and_dont_block_by_a_readable_name():
    # Without a label Wagtail's block menu showed the name made from "do_dont": "Do dont".
    assert LessonBlocks().child_blocks["do_dont"].label == "Do and don't"


def test_an_editor_previews_a_lesson_with_its_module_and_records_nothing(
    client, rf, signed_in_with_mfa
):
    """Preview renders what a learner sees (the module's lessons around it) but is not a learner
    opening the lesson: no progress row, even for a lesson not yet published."""
    module = module_with_lessons(2, title="Fraud basics")
    first, draft = lessons_of(module)
    draft.unpublish()
    signed_in_with_mfa("ed@example.gov.uk", groups=["Content editors"])
    original = rf.get("/", HTTP_COOKIE=f"sessionid={client.cookies['sessionid'].value}")

    for lesson in (first, LessonPage.objects.get(pk=draft.pk)):
        response = lesson.make_preview_request(original_request=original)
        assert response.status_code == 200
        html = response.render().content.decode()
        assert "Fraud basics" in html
    assert not LessonProgress.objects.exists()
