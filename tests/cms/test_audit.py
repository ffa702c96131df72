"""The audit trail: who changed what, when, with each field's before and after, on the object's
History, in Reports → Site history and in its CSV export."""

import html
import io

import openpyxl
import pytest
from django.core.management import call_command
from django.urls import reverse
from wagtail.models import ModelLogEntry, Site

from accounts.importers import people_import_plan
from accounts.models import PeopleImport, User
from accounts.services import people_import_confirm, people_import_upload, user_deactivate
from tests.accounts.test_import import celery_eager, csv_of, person  # noqa: F401 - a fixture
from tests.factories import module_with_lessons
from training.models import Assignment, AssignmentRule, Audience, ReminderSettings
from training.services.assignments import assignments_sync

pytestmark = pytest.mark.django_db

SITE_HISTORY = "/cms/reports/site-history/"


@pytest.fixture
def hr(signed_in_with_mfa):
    return signed_in_with_mfa("hr.person@example.gov.uk", groups=["HR"], full_name="Hana Reyes")


@pytest.fixture
def administrator(signed_in_with_mfa):
    return signed_in_with_mfa(
        "admin.person@example.gov.uk", is_superuser=True, is_staff=True, full_name="Ada Admin"
    )


def entries_for(instance, action=None):
    entries = ModelLogEntry.objects.for_instance(instance)
    return entries.filter(action=action) if action else entries


def changes_of(entry) -> dict[str, tuple[str, str]]:
    return {c["field"]: (c["before"], c["after"]) for c in entry.data.get("changes", [])}


def assignment_for(user_factory) -> Assignment:
    learner = user_factory(email="learner.two@example.gov.uk")
    module = module_with_lessons(1)
    AssignmentRule.objects.create(
        module=module,
        audience=Audience.objects.create(name="Officers", slug="o", person_types=["officer"]),
    )
    assignments_sync()
    return Assignment.objects.get(user=learner)


def test_an_exemption_and_a_new_due_date_show_in_the_assignments_history(client, hr, user_factory):
    assignment = assignment_for(user_factory)
    old_due = assignment.due_on.isoformat()

    client.post(
        f"/cms/snippets/training/assignment/edit/{assignment.pk}/",
        {"due_on": "2027-03-01", "exempt_reason": "Secondment"},
    )

    edit = entries_for(assignment, "wagtail.edit").get()
    assert edit.user == hr
    assert changes_of(edit)["due_on"] == (old_due, "2027-03-01")
    assert changes_of(edit)["exempt_reason"] == ("''", "'Secondment'")
    exempt = entries_for(assignment, "aware.exempt").get()
    assert exempt.user == hr
    assert changes_of(exempt)["exempted_by"] == ("—", "Hana Reyes")
    history = client.get(f"/cms/snippets/training/assignment/history/{assignment.pk}/")
    page = history.content.decode()
    assert f"Due on: {old_due} → 2027-03-01" in page
    assert "Exempt reason: &#x27;&#x27; → &#x27;Secondment&#x27;" in page


def test_withdrawing_an_exemption_says_who_and_what_it_was(client, hr, user_factory):
    assignment = assignment_for(user_factory)
    due = assignment.due_on.isoformat()
    client.post(
        f"/cms/snippets/training/assignment/edit/{assignment.pk}/",
        {"due_on": due, "exempt_reason": "Secondment"},
    )
    client.post(
        f"/cms/snippets/training/assignment/edit/{assignment.pk}/",
        {"due_on": due, "exempt_reason": ""},
    )

    withdrawn = entries_for(assignment, "aware.exemption_withdraw").get()
    assert withdrawn.user == hr
    assert changes_of(withdrawn)["exempted_by"] == ("Hana Reyes", "—")


def test_deactivation_through_the_service_records_who_and_active_true_to_false(roles, user_factory):
    boss = user_factory(email="boss@example.gov.uk", full_name="Boss")
    leaver = user_factory(email="leaver@example.gov.uk")

    user_deactivate(user=leaver, by=boss)

    entry = entries_for(leaver, "aware.deactivate").get()
    assert entry.user == boss
    assert changes_of(entry)["is_active"] == ("True", "False")
    assert "Deactivated: Active: True → False" in entry.message


def test_deactivation_through_the_admin_shows_in_the_persons_history(
    client, administrator, user_factory
):
    leaver = user_factory(email="leaver@example.gov.uk")

    client.post(reverse("wagtailusers_users:delete", args=[leaver.pk]))

    entry = entries_for(leaver, "aware.deactivate").get()
    assert entry.user == administrator
    assert changes_of(entry)["is_active"] == ("True", "False")
    history = client.get(reverse("wagtailusers_users:history", args=[leaver.pk]))
    assert "Active: True → False" in history.content.decode()


def test_an_admin_edit_of_a_person_records_its_fields_and_never_the_password(
    client, administrator, user_factory
):
    person = user_factory(email="p@example.gov.uk", full_name="Pat Old", job_title="Clerk")

    response = client.post(
        reverse("wagtailusers_users:edit", args=[person.pk]),
        {
            "email": person.email,
            "full_name": "Pat New",
            "person_type": "officer",
            "job_title": "Clerk",
            "is_active": "on",
            "password1": "a-new-long-password-2026",
            "password2": "a-new-long-password-2026",
        },
    )

    assert response.status_code == 302
    entry = entries_for(person, "wagtail.edit").get()
    assert changes_of(entry) == {"full_name": ("'Pat Old'", "'Pat New'")}
    assert "password" not in str(entry.data)


def test_a_settings_change_shows_before_and_after_in_site_history(client, administrator):
    site = Site.objects.get(is_default_site=True)
    settings = ReminderSettings.for_site(site)
    assert settings.weekly_cap == 2
    form = {
        "send_time": "07:30",
        "send_days": settings.send_days,
        "overdue_every_days": settings.overdue_every_days,
        "expiring_days": settings.expiring_days,
        "weekly_cap": 3,
        "escalate_after_days": settings.escalate_after_days,
        "escalate_again_after_days": settings.escalate_again_after_days,
        "member_services_email": "",
        "monitoring_officer_email": "",
        "manager_extension_max_days": settings.manager_extension_max_days,
    }

    response = client.post(f"/cms/settings/training/remindersettings/{site.pk}/", form)

    assert response.status_code == 302
    page = client.get(SITE_HISTORY).content.decode()
    assert "Edited: Weekly cap: 2 → 3" in page
    assert "Ada Admin" in page


def test_audience_and_assignment_rule_edits_show_their_field_changes(client, administrator):
    audience = Audience.objects.create(name="Officers", slug="o", person_types=["officer"])
    rule = AssignmentRule.objects.create(module=module_with_lessons(1), audience=audience)

    client.post(
        f"/cms/snippets/training/audience/edit/{audience.pk}/",
        {
            "name": "Frontline officers",
            "slug": "o",
            "description": "",
            "person_types": ["officer", "councillor"],
            "service_areas": [],
            "job_title_keywords": "",
        },
    )
    client.post(
        f"/cms/snippets/training/assignmentrule/edit/{rule.pk}/",
        {
            "module": rule.module_id,
            "audience": audience.pk,
            "mandatory": "on",
            "due_days": 45,
            "councillor_due_weeks": rule.councillor_due_weeks or "",
            "valid_months": rule.valid_months or "",
            "reopen_days": rule.reopen_days or "",
            "active": "on",
        },
    )

    audience_changes = changes_of(entries_for(audience, "wagtail.edit").get())
    assert audience_changes["name"] == ("'Officers'", "'Frontline officers'")
    assert audience_changes["person_types"] == ("officer", "officer, councillor")
    rule_changes = changes_of(entries_for(rule, "wagtail.edit").get())
    assert rule_changes == {"due_days": (str(AssignmentRule().due_days), "45")}


@pytest.mark.usefixtures("celery_eager")
def test_a_people_import_from_the_admin_is_in_site_history_with_counts_and_who(
    client, hr, user_factory
):
    user_factory(email="e3@example.gov.uk", employee_number="E3", job_title="Tenancy Officer")
    user_factory(email="e4@example.gov.uk", employee_number="E4")
    text = csv_of(person("E1"), person("E3", job_title="Team Leader"), person("E4", active="no"))
    upload = people_import_upload(uploaded_by=hr, filename="people.csv", text=text)

    people_import_confirm(
        token=upload.token, user=hr, expected=people_import_plan(text=text).summary()
    )

    entry = entries_for(PeopleImport.objects.get(), "aware.import").get()
    assert entry.user == hr
    counts = entry.data["counts"]
    assert (counts["created"], counts["updated"], counts["deactivated"]) == (1, 1, 1)
    page = client.get(SITE_HISTORY).content.decode()
    assert "Imported people from people.csv (run by Hana Reyes): 1 created, 1 updated" in page
    changed = User.objects.get(employee_number="E3")
    change = entries_for(changed, "aware.import_change").get()
    assert changes_of(change)["job_title"] == ("'Tenancy Officer'", "'Team Leader'")
    leaver = entries_for(User.objects.get(employee_number="E4"), "aware.deactivate").get()
    assert leaver.user == hr
    assert "by a people import" in leaver.message


@pytest.mark.usefixtures("celery_eager", "administrator")
def test_a_people_import_from_the_command_line_is_in_site_history(client, tmp_path):
    path = tmp_path / "leavers.csv"
    path.write_text(csv_of(person("E1"), person("E2")), encoding="utf-8")

    call_command("import_people", str(path), stdout=open("/dev/null", "w"))  # noqa: SIM115

    entry = ModelLogEntry.objects.get(action="aware.import")
    assert entry.user is None
    assert entry.data["run_by"] == "command line"
    assert entry.data["counts"]["created"] == 2
    page = client.get(SITE_HISTORY).content.decode()
    assert "Imported people from leavers.csv (run by command line): 2 created" in page


def test_the_site_history_csv_export_has_the_changes(client, hr, user_factory):
    assignment = assignment_for(user_factory)
    client.post(
        f"/cms/snippets/training/assignment/edit/{assignment.pk}/",
        {"due_on": "2027-03-01", "exempt_reason": "Secondment"},
    )

    response = client.get(SITE_HISTORY, {"export": "csv"})

    csv_text = b"".join(response.streaming_content).decode()
    assert csv_text.splitlines()[0].endswith(",Changes")
    assert "→ 2027-03-01" in csv_text
    assert "Exempt reason: '' → 'Secondment'" in csv_text
    xlsx = client.get(SITE_HISTORY, {"export": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active
    cells = [str(cell.value) for row in sheet.iter_rows() for cell in row]
    assert "Changes" in cells
    assert any("Exempt reason: '' → 'Secondment'" in cell for cell in cells)


def test_nothing_is_recorded_when_an_admin_save_changes_nothing(client, administrator):
    audience = Audience.objects.create(name="Officers", slug="o", person_types=["officer"])

    client.post(
        f"/cms/snippets/training/audience/edit/{audience.pk}/",
        {
            "name": "Officers",
            "slug": "o",
            "description": "",
            "person_types": ["officer"],
            "service_areas": [],
            "job_title_keywords": "",
        },
    )

    entry = entries_for(audience, "wagtail.edit").get()
    assert "changes" not in entry.data
    assert entry.message == "Edited"


def test_a_reporting_route_change_names_the_route_and_its_field(client, administrator):
    from wagtail.test.utils.form_data import inline_formset, nested_form_data

    from cms.site_settings import ReportingRoutes

    site = Site.objects.get(is_default_site=True)
    setting = ReportingRoutes.for_site(site)
    routes = list(setting.routes.all())
    assert routes, "load_cms_data ships reporting routes"
    fields = ["slug", "name", "contact", "other_contact", "use_for", "link", "verification_note"]
    items = []
    for order, route in enumerate(routes):
        item = {name: getattr(route, name) for name in fields}
        verified = route.last_verified.isoformat() if route.last_verified else ""
        item |= {"id": route.pk, "ORDER": order, "last_verified": verified}
        flags = ["is_internal", "for_residents", "is_emergency"]
        item |= {flag: "on" for flag in flags if getattr(route, flag)}
        items.append(item)
    old_contact = routes[0].contact
    items[0]["contact"] = "0300 000 0000"

    response = client.post(
        f"/cms/settings/cms/reportingroutes/{site.pk}/",
        nested_form_data(
            {"intro": setting.intro, "routes": inline_formset(items, initial=len(items))}
        ),
    )

    assert response.status_code == 302
    entry = entries_for(setting, "wagtail.edit").get()
    assert [c["label"] for c in entry.data["changes"]] == [
        f"Reporting route '{routes[0].name}', contact"
    ]
    assert (entry.data["changes"][0]["before"], entry.data["changes"][0]["after"]) == (
        f"'{old_contact}'",
        "'0300 000 0000'",
    )
    page = client.get(SITE_HISTORY).content.decode()
    assert page.count('value="wagtail.edit"') == 1  # one "Edit" in the action filter


def test_a_new_assignment_rule_records_what_it_was_created_with(client, hr):
    audience = Audience.objects.create(name="Officers", slug="o", person_types=["officer"])
    module = module_with_lessons(1)

    response = client.post(
        "/cms/snippets/training/assignmentrule/add/",
        {
            "module": module.pk,
            "audience": audience.pk,
            "mandatory": "on",
            "due_days": 30,
            "councillor_due_weeks": 8,
            "valid_months": "",
            "reopen_days": 60,
            "active": "on",
        },
    )

    assert response.status_code == 302
    rule = AssignmentRule.objects.get()
    created = changes_of(entries_for(rule, "wagtail.create").get())
    assert created["audience"] == ("—", "Officers")
    assert created["due_days"] == ("—", "30")
    assert "valid_months" not in created  # left empty, so not listed


def test_a_deleted_audience_keeps_what_it_held_in_site_history(client, administrator):
    audience = Audience.objects.create(
        name="Waste crews", slug="waste-crews", service_areas=["waste"], job_title_keywords="crew"
    )
    pk = audience.pk

    response = client.post(f"/cms/snippets/training/audience/delete/{pk}/")

    assert response.status_code == 302
    assert not Audience.objects.filter(pk=pk).exists()
    entry = ModelLogEntry.objects.get(action="wagtail.delete", object_id=str(pk))
    assert entry.user == administrator
    deleted = {c["field"]: (c["before"], c["after"]) for c in entry.data["changes"]}
    assert deleted["name"] == ("'Waste crews'", "—")
    assert deleted["job_title_keywords"] == ("'crew'", "—")
    page = html.unescape(client.get(SITE_HISTORY).content.decode())
    assert "Deleted: Name: 'Waste crews' → —" in page
