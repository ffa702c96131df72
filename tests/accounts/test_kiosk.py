"""Kiosk mode (accounts.kiosk): HR marks a shared depot device; there sign-in is by code only and
an idle session is ended on the server."""

import time

import pytest
from django.urls import reverse
from wagtail.models import ModelLogEntry

from accounts.kiosk import KIOSK_COOKIE, SESSION_SEEN
from cms.audit import ACTION_KIOSK

pytestmark = pytest.mark.django_db


@pytest.fixture
def kiosk(client, signed_in_with_mfa):
    """`client` on a device HR made a kiosk, then signed out."""
    hr = signed_in_with_mfa("hr.person@example.gov.uk", groups=["HR"])
    response = client.post(reverse("accounts_kiosk"), {"kiosk": "on"})
    assert response.status_code == 302
    assert client.cookies[KIOSK_COOKIE]["max-age"] == 400 * 86400
    marked = client.cookies[KIOSK_COOKIE].value
    client.logout()  # the test client's sign-out forgets every cookie; the device keeps this one
    client.cookies[KIOSK_COOKIE] = marked
    return hr


def test_hr_marks_a_device_as_a_kiosk_in_the_audit_trail(client, kiosk):
    entry = ModelLogEntry.objects.get(action=ACTION_KIOSK)

    assert entry.user == kiosk
    assert entry.data["changes"][0]["after"] == "Yes"


def test_only_hr_may_mark_a_kiosk(client, signed_in_with_mfa):
    signed_in_with_mfa("editor.person@example.gov.uk", groups=["Content editors"])

    response = client.post(reverse("accounts_kiosk"), {"kiosk": "on"})

    assert response.status_code == 403
    assert KIOSK_COOKIE not in response.cookies


def test_a_kiosk_signs_in_by_code_only(client, kiosk):
    response = client.get(reverse("account_login"))

    assert response.status_code == 302
    assert response["Location"] == reverse("account_request_login_code")
    page = client.get(response["Location"]).content.decode()
    assert "Sign in with a password" not in page


def test_a_kiosk_session_idle_too_long_is_ended_on_the_server(
    client, kiosk, user_factory, settings
):
    settings.AWARE_KIOSK_IDLE_SECONDS = 60
    learner = user_factory(email="crew@example.gov.uk", full_name="Crew Member")
    client.force_login(learner)

    busy = client.get(reverse("training:my_training"))
    assert busy.status_code == 200
    assert "no-store" in busy["Cache-Control"]
    assert 'src="/static/accounts/kiosk.js' in busy.content.decode()
    assert client.session.get_expiry_age() <= 60

    session = client.session
    session[SESSION_SEEN] = time.time() - 61
    session.save()
    idle = client.get(reverse("training:my_training"), follow=True)

    assert idle.redirect_chain[0][0] == reverse("account_request_login_code")
    assert "_auth_user_id" not in client.session
    page = idle.content.decode()
    assert "signed out after 1 minute without use" in page
    assert "Crew Member" not in page


def test_off_a_kiosk_nothing_changes(client, user_factory):
    client.force_login(user_factory(email="officer@example.gov.uk"))

    response = client.get(reverse("training:my_training"))

    assert "kiosk.js" not in response.content.decode()
    assert client.get(reverse("account_login")).status_code == 302  # signed in: sent on
