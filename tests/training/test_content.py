"""The starter content: modules of real lessons, loaded idempotently, reporting-ready."""

import re
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

from cms.models import ReportingRoute
from tests.site_snapshot import built
from training.models import Audience, LessonPage, ModulePage
from training.selectors import audience_ids_for_user, module_catalogue_for_user

pytestmark = pytest.mark.django_db
CONTENT = Path(__file__).resolve().parents[2] / "training" / "content" / "modules"


@pytest.fixture
def loaded(site):
    built("training content", lambda: call_command("load_training_content", stdout=StringIO()))


def test_every_module_folder_is_loaded_with_three_to_seven_lessons(loaded):
    modules = ModulePage.objects.live().order_by("path")

    assert modules.count() == len([p for p in CONTENT.iterdir() if p.is_dir()]) >= 10
    for module in modules:
        lessons = LessonPage.objects.child_of(module).live()
        # At most one refresher ("what's new"), for people renewing; 3 to 7 for everyone else.
        assert 3 <= lessons.filter(refresher=False).count() <= 7, module.title
        assert lessons.filter(refresher=True).count() <= 1, module.title
        assert module.versions.get().number == 1
    assert "Organised crime: the councillor's role" in [m.title for m in modules]


def test_every_module_ends_with_how_to_report_and_names_real_routes(loaded):
    route_slugs = set(ReportingRoute.objects.values_list("slug", flat=True))
    for module in ModulePage.objects.all():
        lessons = list(LessonPage.objects.child_of(module).order_by("path"))
        assert lessons[-1].body[-1].block_type == "how_to_report", module.title
        for lesson in lessons:
            for block in lesson.body:
                if block.block_type == "how_to_report":
                    assert set(block.value["routes"]) <= route_slugs, lesson.title


def test_lessons_have_substance_and_every_statistic_a_source_and_year(loaded):
    for lesson in LessonPage.objects.all():
        words = len(" ".join(str(block.render()) for block in lesson.body).split())
        assert words >= 300, lesson.title
        for block in lesson.body:
            if block.block_type == "statistic":
                assert block.value["source"], lesson.title
                assert block.value["year"], lesson.title


def test_loading_again_changes_nothing_and_keeps_editors_changes(loaded, user_factory):
    editor = user_factory(email="editor@example.gov.uk")
    lesson = LessonPage.objects.first()
    lesson.title = "Edited by the counter-fraud team"
    lesson.save_revision(user=editor).publish()
    counts = (ModulePage.objects.count(), LessonPage.objects.count(), Audience.objects.count())

    call_command("load_training_content", stdout=StringIO())

    assert (ModulePage.objects.count(), LessonPage.objects.count(), Audience.objects.count()) == (
        counts
    )
    lesson.refresh_from_db()
    assert lesson.title == "Edited by the counter-fraud team"


def test_the_content_files_and_the_database_agree(loaded):
    folders = sorted(p for p in CONTENT.iterdir() if p.is_dir())
    for folder, module in zip(folders, ModulePage.objects.order_by("path"), strict=True):
        spec = yaml.safe_load((folder / "module.yaml").read_text())
        assert module.title == spec["title"]
        assert set(module.audiences.values_list("slug", flat=True)) == set(spec["audiences"])


def test_the_catalogue_puts_the_learners_own_modules_first(loaded, user_factory):
    from training.models import ModuleIndexPage

    councillor = user_factory(
        email="cllr@example.gov.uk", person_type="councillor", full_name="Cllr Test"
    )
    officer = user_factory(email="waste@example.gov.uk", service_area="waste")
    index = ModuleIndexPage.objects.get()

    councillor_view = module_catalogue_for_user(user=councillor, index=index)
    officer_view = module_catalogue_for_user(user=officer, index=index)

    assert audience_ids_for_user(user=councillor) == {Audience.objects.get(slug="councillors").pk}
    assert councillor_view[0].for_you
    assert "the councillor's role" in " ".join(e.module.title for e in councillor_view if e.for_you)
    mine = [e.module.title for e in officer_view if e.for_you]
    assert "Waste crime and illegal waste sites" in mine
    assert "Organised crime: the councillor's role" not in mine
    assert [e.for_you for e in officer_view] == sorted(
        (e.for_you for e in officer_view), reverse=True
    )


def test_audience_rules_follow_department_subtrees_and_extra_members(user_factory):
    from accounts.management.commands.load_accounts_data import department_from_path

    housing = department_from_path("Neighbourhoods > Housing")
    directorate = housing.get_parent()
    audience = Audience.objects.create(name="Neighbourhoods", slug="neighbourhoods")
    audience.departments.add(directorate)
    inside = user_factory(email="in@example.gov.uk", department=housing)
    outside = user_factory(email="out@example.gov.uk")
    named = user_factory(email="named@example.gov.uk")
    audience.extra_members.add(named)
    leaver = user_factory(email="gone@example.gov.uk", department=housing, is_active=False)

    assert audience.pk in audience_ids_for_user(user=inside)
    assert audience.pk not in audience_ids_for_user(user=outside)
    assert audience.pk in audience_ids_for_user(user=named)
    assert audience.pk not in audience_ids_for_user(user=leaver)


def test_an_audience_with_an_empty_rule_is_every_active_person(user_factory):
    everyone = Audience.objects.create(name="Everyone", slug="everyone")
    active = user_factory(email="a@example.gov.uk")
    leaver = user_factory(email="b@example.gov.uk", is_active=False)

    assert everyone.pk in audience_ids_for_user(user=active)
    assert everyone.pk not in audience_ids_for_user(user=leaver)


# --- the content standard, read from the files -----------------------------------------------

PRIMARY = (
    "legislation.gov.uk",
    "gov.uk",
    "nationalcrimeagency.gov.uk",
    "local.gov.uk",
    "ncsc.gov.uk",
    "cps.gov.uk",
    "cipfa.org",
    "parliament.uk",
    "electoralcommission.org.uk",
    "gla.gov.uk",
    "gangmasters.gov.uk",
    "durham.gov.uk",
    "police.uk",
    "ico.org.uk",
    "lgafirst.co.uk",  # the LGA's own magazine
    "crimestoppers-uk.org",  # the charity's own page, for its own reporting route
)
SECONDARY = ("vdocument", "docplayer", "wiki", "loc.gov", "staging")


def lesson_specs():
    for folder in sorted(p for p in CONTENT.iterdir() if p.is_dir()):
        for path in sorted((folder / "lessons").glob("*.yaml")):
            yield folder, path, yaml.safe_load(path.read_text())


def test_every_lesson_names_primary_sources_and_when_it_was_last_reviewed():
    for _, path, spec in lesson_specs():
        assert spec["last_reviewed"], path.name
        assert 1 <= len(spec["sources"]) <= 6, path.name
        for source in spec["sources"]:
            host = source["url"].split("/")[2]
            assert source["url"].startswith("https://"), source["url"]
            assert host.endswith(PRIMARY), f"{path.name}: {source['url']} is not a primary source"


def strings_in(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


def test_no_paragraph_in_a_lesson_is_over_sixty_words():
    paragraph = re.compile(r"<(p|li)\b[^>]*>(.*?)</\1>", re.S)
    long = []
    for _, path, spec in lesson_specs():
        for text in strings_in(spec["body"]):
            for match in paragraph.finditer(text):
                words = re.sub(r"<[^>]+>", " ", match.group(2)).split()
                if len(words) > 60:
                    long.append(f"{path.parent.parent.name}/{path.name}: {' '.join(words[:8])}")
    assert not long, "\n".join(long)


def test_every_link_in_a_lesson_goes_to_a_primary_source():
    link = re.compile(r'(?:href="|(?:source_url|url|link): *"?)(https?://[^"\s]+)')
    for _, path, _ in lesson_specs():
        for url in link.findall(path.read_text()):
            host = url.split("/")[2]
            assert host.endswith(PRIMARY), f"{path.name}: {url}"
            assert not any(word in host for word in SECONDARY), f"{path.name}: {url}"


def test_every_module_has_a_diagram_with_its_text_alternative():
    diagrams = CONTENT.parent / "diagrams"
    for folder in sorted(p for p in CONTENT.iterdir() if p.is_dir()):
        found = 0
        for _, path, spec in (s for s in lesson_specs() if s[0] == folder):
            body = spec["body"]
            for index, block in enumerate(body):
                if block["type"] != "image":
                    continue
                svg = (diagrams / block["value"]["image"]).read_text()
                assert "<title" in svg, block["value"]["image"]
                assert "<desc" in svg, block["value"]["image"]
                assert "<script" not in svg, block["value"]["image"]
                assert block["value"]["alt_text"], path.name
                following = body[index + 1]
                assert following["type"] == "details", path.name
                assert following["value"]["summary"] == "The diagram in words", path.name
                found += 1
        assert found >= 1, f"{folder.name} has no diagram"


def test_the_county_durham_case_is_told_once_and_pointed_to_elsewhere():
    tellings = [
        path.name
        for _, path, spec in lesson_specs()
        if any(b["type"] == "case_study" and "Durham" in str(b["value"]) for b in spec["body"])
    ]
    assert tellings == ["06-case-study-county-durham.yaml"]


def test_settings_are_varied_and_no_made_up_contact_is_shipped():
    text = " ".join(path.read_text().lower() for _, path, _ in lesson_specs())
    assert text.count("car wash") + text.count("nail bar") <= 4
    assert "01234 000" not in text
    assert "proposes" not in text or "crime and policing act 2026" in text


def test_loading_again_brings_starter_rules_up_to_date_unless_hr_changed_them(loaded, user_factory):
    """An earlier release's rule (module 03 mandatory for housing and licensing) and audience
    follow the shipped files on the next load, with audit entries, and the open assignments move
    with them; a rule HR edited is left as HR set it."""
    from wagtail.models import ModelLogEntry

    from cms.audit import ACTION_EDIT, audit_record
    from training.models import Assignment, AssignmentRule
    from training.services.assignments import assignments_sync

    rules = AssignmentRule.objects.filter(module__slug="county-lines-exploitation-and-cuckooing")
    housing = rules.get(audience__slug="housing-licensing")
    all_staff = rules.get(audience__slug="all-staff")
    assert not housing.mandatory
    assert all_staff.due_days == 42
    rules.filter(pk=housing.pk).update(mandatory=True)  # as an earlier release shipped it
    rules.filter(pk=all_staff.pk).update(due_days=60)
    audit_record(
        instance=all_staff, action=ACTION_EDIT, user=user_factory(email="hr@example.gov.uk")
    )
    # An earlier release's audience: procurement and finance took in revenues staff.
    procurement = Audience.objects.get(slug="procurement-finance")
    shipped_areas = procurement.service_areas
    assert "revenues" not in shipped_areas
    Audience.objects.filter(pk=procurement.pk).update(service_areas=[*shipped_areas, "revenues"])
    officer = user_factory(email="h@example.gov.uk", person_type="officer", service_area="housing")
    assignments_sync()
    assignment = Assignment.objects.get(user=officer, module=housing.module)
    assert assignment.mandatory

    out = StringIO()
    call_command("load_training_content", stdout=out)

    housing.refresh_from_db()
    all_staff.refresh_from_db()
    assert not housing.mandatory
    assert all_staff.due_days == 60  # HR's edit stands
    entry = ModelLogEntry.objects.for_instance(housing).latest("timestamp")
    assert entry.user is None
    assert [c["field"] for c in entry.data["changes"]] == ["mandatory"]
    assignment.refresh_from_db()
    assert not assignment.mandatory  # recommended now, as the rule says
    procurement.refresh_from_db()
    assert procurement.service_areas == shipped_areas
    assert "1 starter rule(s) and 1 audience(s) brought up to date" in out.getvalue()
    assert "1 rule(s) and 0 audience(s) left as HR changed them" in out.getvalue()
    assert "1 made mandatory or recommended as their rules now say" in out.getvalue()
