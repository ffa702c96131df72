"""People: email login, the department tree, leavers kept, roles and demo people."""

import base64
import os
import subprocess
import sys
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import IntegrityError

from accounts.management.commands.load_accounts_data import department_from_path
from accounts.models import Department, User
from accounts.services import user_deactivate


@pytest.mark.django_db
def test_email_is_the_login_and_is_unique_whatever_its_case():
    User.objects.create_user(email="Alex.Morgan@example.gov.uk", full_name="Alex Morgan")

    with pytest.raises(IntegrityError):
        User.objects.create_user(email="alex.morgan@EXAMPLE.gov.uk", full_name="Someone Else")


@pytest.mark.django_db
def test_department_paths_build_one_tree():
    housing = department_from_path("Neighbourhoods > Housing")
    licensing = department_from_path("Neighbourhoods > Licensing")
    again = department_from_path("Neighbourhoods > Housing")

    assert again.pk == housing.pk
    assert housing.full_name == "Neighbourhoods > Housing"
    directorate = Department.objects.get(name="Neighbourhoods")
    assert set(directorate.get_children()) == {housing, licensing}


@pytest.mark.django_db
def test_a_leaver_is_deactivated_not_deleted(user_factory):
    user = user_factory(email="leaver@example.gov.uk")

    user_deactivate(user=user)

    user.refresh_from_db()
    assert user.is_active is False
    assert user.deactivated_at is not None


@pytest.mark.django_db
def test_deleting_a_user_in_the_wagtail_admin_deactivates_them(
    client, user_factory, signed_in_with_mfa
):
    signed_in_with_mfa("admin.person@example.gov.uk", is_superuser=True, is_staff=True)
    leaver = user_factory(email="leaver@example.gov.uk")

    response = client.post(f"/cms/users/delete/{leaver.pk}/")

    assert response.status_code == 302
    leaver.refresh_from_db()
    assert leaver.is_active is False
    assert User.objects.filter(pk=leaver.pk).exists()


@pytest.mark.django_db
def test_load_initial_data_creates_roles_and_demo_people_and_is_idempotent(settings):
    settings.AWARE_DEMO_DATA = True
    out = StringIO()
    call_command("load_initial_data", stdout=out)
    counts = (User.objects.count(), Group.objects.count(), Department.objects.count())
    call_command("load_initial_data", stdout=StringIO())

    assert (User.objects.count(), Group.objects.count(), Department.objects.count()) == counts
    assert {"HR", "Member Services", "Content editors", "Content approvers"} <= set(
        Group.objects.values_list("name", flat=True)
    )
    officer = User.objects.get(email="officer@example.gov.uk")
    assert officer.line_manager.email == "manager@example.gov.uk"
    assert officer.emailaddress_set.get().verified
    assert User.objects.get(email="councillor@example.gov.uk").is_councillor
    assert User.objects.get(email="admin@example.gov.uk").is_superuser
    assert "aware-demo-2026" in out.getvalue()
    assert "officer@example.gov.uk" in out.getvalue()


@pytest.mark.django_db
def test_no_demo_people_without_the_demo_setting(settings):
    settings.AWARE_DEMO_DATA = False

    call_command("load_initial_data", stdout=StringIO())

    assert not User.objects.exists()
    assert Group.objects.filter(name="HR").exists()


def test_production_settings_never_enable_demo_people():
    env = {
        **os.environ,
        "DJANGO_SECRET_KEY": "x" * 60,
        "DJANGO_SETTINGS_MODULE": "",
        "AWARE_RECORDS_KEYS": "2026a:" + base64.b64encode(b"k" * 32).decode(),
        "AWARE_RECORDS_KEY_ID": "2026a",
    }
    code = "import config.settings.production as p; print(p.AWARE_DEMO_DATA)"

    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == "False"
