"""The Wagtail admin screens editors use for training content."""

import pytest

from tests.factories import lessons_of, module_with_lessons
from training.models import Audience

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor_client(client, signed_in_with_mfa):
    signed_in_with_mfa("editor.person@example.gov.uk", groups=["Content editors"])
    return client


@pytest.fixture
def admin_client_with_mfa(client, signed_in_with_mfa):
    signed_in_with_mfa("admin.person@example.gov.uk", is_superuser=True, is_staff=True)
    return client


def test_an_editor_can_open_module_and_lesson_editors(editor_client):
    module = module_with_lessons(1)
    lesson = lessons_of(module)[0]

    module_edit = editor_client.get(f"/cms/pages/{module.pk}/edit/")
    assert module_edit.status_code == 200
    assert "Learners must retake" in module_edit.content.decode()
    assert editor_client.get(f"/cms/pages/{lesson.pk}/edit/").status_code == 200
    add_lesson = editor_client.get(f"/cms/pages/add/training/lessonpage/{module.pk}/")
    assert add_lesson.status_code == 200
    for block in [
        "warning_signs",
        "case_study",
        "scenario",
        "do_dont",
        "statistic",
        "how_to_report",
    ]:
        assert block in add_lesson.content.decode(), block


def test_an_editor_cannot_add_a_lesson_outside_a_module(editor_client):
    from cms.models import HomePage

    home = HomePage.objects.get()
    response = editor_client.get(f"/cms/pages/add/training/lessonpage/{home.pk}/", follow=True)

    assert response.redirect_chain[0][0] == "/cms/"
    assert "you do not have permission to access this area" in response.content.decode()


def test_audiences_and_reporting_routes_are_editable(admin_client_with_mfa):
    from wagtail.models import Site

    from cms.models import ReportingRoutes

    Audience.objects.create(name="Licensing", slug="licensing")
    assert admin_client_with_mfa.get("/cms/snippets/training/audience/").status_code == 200
    assert admin_client_with_mfa.get("/cms/snippets/training/audience/add/").status_code == 200
    setting = ReportingRoutes.for_site(Site.objects.get(is_default_site=True))
    response = admin_client_with_mfa.get(f"/cms/settings/cms/reportingroutes/{setting.site_id}/")
    assert response.status_code == 200
    assert "Last verified" in response.content.decode()


def test_an_audience_is_saved_from_the_admin_form(admin_client_with_mfa):
    response = admin_client_with_mfa.post(
        "/cms/snippets/training/audience/add/",
        {
            "name": "Licensing officers",
            "slug": "licensing-officers",
            "description": "",
            "person_types": ["officer"],
            "service_areas": ["licensing", "trading-standards"],
            "job_title_keywords": "",
        },
    )

    assert response.status_code == 302
    audience = Audience.objects.get(slug="licensing-officers")
    assert audience.person_types == ["officer"]
    assert audience.service_areas == ["licensing", "trading-standards"]


def test_hr_exempts_someone_and_moves_a_due_date_in_the_admin(
    client, signed_in_with_mfa, user_factory
):
    import datetime as dt

    from training.models import Assignment, AssignmentRule
    from training.services.assignments import assignments_sync

    hr = signed_in_with_mfa("hr.person@example.gov.uk", groups=["HR"], person_type="other")
    learner = user_factory(email="learner.two@example.gov.uk")
    module = module_with_lessons(1)
    AssignmentRule.objects.create(
        module=module,
        audience=Audience.objects.create(name="Officers", slug="o", person_types=["officer"]),
    )
    assignments_sync()
    assignment = Assignment.objects.get(user=learner)

    response = client.post(
        f"/cms/snippets/training/assignment/edit/{assignment.pk}/",
        {"due_on": "2027-03-01", "exempt_reason": "On secondment to the police until 2027"},
    )

    assert response.status_code == 302
    assignment.refresh_from_db()
    assert assignment.due_on == dt.date(2027, 3, 1)
    assert assignment.exempt_reason == "On secondment to the police until 2027"
    assert assignment.exempted_by == hr
    assert assignment.exempted_at is not None


def test_a_learner_cannot_reach_the_assignments_admin(client, roles, user_factory):
    client.force_login(user_factory(email="plain@example.gov.uk"))

    response = client.get("/cms/snippets/training/assignment/")

    assert response.status_code == 302
    assert response["Location"] == "/cms/login/?next=/cms/snippets/training/assignment/"
    assert client.get(response["Location"]).status_code == 403


def test_training_has_one_admin_menu_and_no_two_menu_items_share_a_place(admin_client_with_mfa):
    from collections import Counter

    from wagtail.admin.menu import SubmenuMenuItem, admin_menu

    request = admin_client_with_mfa.get("/cms/").wsgi_request
    top = admin_menu.menu_items_for_request(request)
    clashes, submenus = [], {}

    def walk(items, where):
        orders = Counter(item.order for item in items)
        clashes.extend(f"{where}{i.label} ({i.order})" for i in items if orders[i.order] > 1)
        for item in items:
            if isinstance(item, SubmenuMenuItem):
                children = item.menu.menu_items_for_request(request)
                submenus[item.label] = [c.label for c in sorted(children, key=lambda c: c.order)]
                walk(children, f"{where}{item.label} → ")

    walk(top, "")

    assert clashes == []  # Wagtail would order such items by whichever hook registered first
    assert submenus["Training"] == [
        "Audiences",
        "Assignment rules",
        "Assignments",
        "Exemption requests",
        "Reminder log",
        "Email previews",
    ]
    assert not {"Audiences", "Assignments", "Email previews"} & {item.label for item in top}
    assert "Quiz insights" in submenus["Reports"]
