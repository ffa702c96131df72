"""A public module (ModulePage.public): readable without signing in, recording nothing, assigned
to nobody; the rest of the catalogue still needs sign-in."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.forms import modelform_factory

from tests.factories import lessons_of, module_with_lessons
from training.models import Assignment, AssignmentRule, LessonProgress, ModulePage

pytestmark = pytest.mark.django_db

# The council's routes that are for its own staff and councillors, not for the public.
STAFF_ONLY_ROUTES = {
    "whistleblowing-line": "Whistleblowing line",
    "mlro": "Money Laundering Reporting Officer",
    "member-services": "Member Services",
    "modern-slavery-lead": "Modern slavery lead",
    "modern-slavery-portal": "Modern Slavery Portal",
}


@pytest.fixture
def public_module(site):
    return module_with_lessons(2, slug="open-module", title="Open module", public=True)


def test_anyone_reads_a_public_module_and_its_lessons_without_signing_in(client, public_module):
    response = client.get(public_module.url)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Open to everyone" in html
    assert 'data-testid="module-progress"' not in html  # no "0 of 2 lessons done"
    for lesson in lessons_of(public_module):
        response = client.get(lesson.url)
        assert response.status_code == 200
        assert 'data-testid="complete-lesson"' not in response.content.decode()


def test_the_other_modules_still_send_people_to_sign_in(client, public_module):
    private = module_with_lessons(1, slug="private-module", title="Private module")

    for url in [private.url, lessons_of(private)[0].url, private.get_parent().url]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_reading_a_public_lesson_signed_in_records_nothing(client, public_module, user_factory):
    client.force_login(user_factory(email="reader@example.gov.uk"))
    lesson = lessons_of(public_module)[0]

    assert client.get(public_module.url).status_code == 200
    assert client.get(lesson.url).status_code == 200
    assert client.post(lesson.url).status_code == 200

    assert not LessonProgress.objects.exists()


def test_the_home_page_offers_public_modules_to_people_not_signed_in(
    client, public_module, user_factory
):
    module_with_lessons(1, slug="private-module", title="Private module")

    html = client.get("/").content.decode()
    assert f'href="{public_module.url}"' in html
    assert "Private module" not in html

    client.force_login(user_factory(email="reader@example.gov.uk"))
    assert 'data-testid="public-modules"' not in client.get("/").content.decode()


def test_a_public_module_cannot_be_assigned(public_module):
    private = module_with_lessons(1, slug="private-module", title="Private module")

    for model in [AssignmentRule, Assignment]:
        form_class = modelform_factory(model, fields=["module"])
        assert form_class(data={"module": private.pk}).is_valid()
        refused = form_class(data={"module": public_module.pk})
        assert not refused.is_valid()
        assert "module" in refused.errors


def test_the_shipped_public_module_is_open_and_shows_the_public_only_public_routes(client, site):
    call_command("load_training_content", stdout=StringIO())
    module = ModulePage.objects.get(slug="spot-it-report-it")

    assert module.public
    assert not module.audiences.exists()
    assert not AssignmentRule.objects.filter(module=module).exists()
    pages = [module, *lessons_of(module)]
    assert 3 <= len(pages) - 1 <= 4
    assert sum(lesson.estimated_minutes for lesson in pages[1:]) <= module.estimated_minutes
    for page in pages:
        response = client.get(page.url)
        assert response.status_code == 200, page.url
        html = response.content.decode()
        for name in STAFF_ONLY_ROUTES.values():
            assert name not in html, (page.url, name)
        assert "line manager" not in html, page.url
        for block in getattr(page, "body", []):
            if block.block_type == "how_to_report":
                routes = set(block.value["routes"])
                assert routes, "an empty list would show every route, staff ones included"
                assert not routes & STAFF_ONLY_ROUTES.keys(), page.url
    # The reporting card ends the module, with the national routes and the council's public ones.
    last = pages[-1].body[-1]
    assert last.block_type == "how_to_report"
    assert {"crimestoppers", "report-fraud", "environment-agency"} <= set(last.value["routes"])


def test_the_loader_refuses_a_public_module_with_audiences(site, tmp_path):
    import yaml
    from django.core.management.base import CommandError

    from training.management.commands.load_training_content import Command

    folder = tmp_path / "99-open"
    (folder / "lessons").mkdir(parents=True)
    spec = {"title": "Open", "summary": "S", "learning_outcomes": ["Spot it."], "owner": "Team"}
    spec |= {"estimated_minutes": 10, "public": True, "audiences": ["all-staff"]}
    (folder / "module.yaml").write_text(yaml.safe_dump({**spec, "mandatory_for": []}))

    with pytest.raises(CommandError, match="a public module is assigned to nobody"):
        Command().ensure_module(None, folder)
    assert not ModulePage.objects.filter(title="Open").exists()
