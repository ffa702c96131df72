"""Administrators set up single sign-on in the Wagtail admin: the providers, the council's
sign-in settings (both in the audit trail), and the URLs to paste into Entra ID."""

import pytest
from allauth.socialaccount.models import SocialApp
from wagtail.models import ModelLogEntry, Site

from accounts.models import SignInSettings

SETUP = "/cms/sso/setup/"


@pytest.fixture
def administrator(signed_in_with_mfa):
    return signed_in_with_mfa(
        "ada.admin@example.gov.uk", full_name="Ada Admin", is_superuser=True, is_staff=True
    )


def entra_app() -> SocialApp:
    return SocialApp.objects.create(
        provider="openid_connect",
        provider_id="entra",
        name="Borsetshire Entra ID",
        client_id="3f2b-client",
        secret="s3cret-value",
        settings={"server_url": "https://login.microsoftonline.com/tenant-id/v2.0"},
    )


def test_setup_page_shows_the_redirect_uri_to_paste_into_entra(client, administrator):
    entra_app()

    page = client.get(SETUP).content.decode()

    assert "Borsetshire Entra ID" in page
    assert "http://testserver/accounts/oidc/entra/login/callback/" in page
    assert "3f2b-client" in page
    assert "s3cret-value" not in page


def test_setup_page_is_for_administrators_only(client, signed_in_with_mfa):
    signed_in_with_mfa("hr.person@example.gov.uk", groups=["HR"])

    assert client.get(SETUP).status_code == 403


def test_adding_a_provider_in_the_admin_is_audited_and_keeps_its_secret_out(client, administrator):
    form = {
        "name": "Borsetshire Entra ID",
        "provider": "openid_connect",
        "provider_id": "entra",
        "client_id": "3f2b-client",
        "secret": "s3cret-value",
        "settings": '{"server_url": "https://login.microsoftonline.com/t/v2.0"}',
    }

    response = client.post("/cms/snippets/socialaccount/socialapp/add/", form)

    assert response.status_code == 302, response.content.decode()[:3000]
    app = SocialApp.objects.get()
    assert (app.secret, app.settings["server_url"]) == (
        "s3cret-value",
        "https://login.microsoftonline.com/t/v2.0",
    )
    entry = ModelLogEntry.objects.get(object_id=str(app.pk), action="wagtail.create")
    assert "s3cret-value" not in str(entry.data)
    # Editing with the secret left empty keeps the saved one.
    form.update(secret="", client_id="new-client")
    client.post(f"/cms/snippets/socialaccount/socialapp/edit/{app.pk}/", form)
    app.refresh_from_db()
    assert (app.client_id, app.secret) == ("new-client", "s3cret-value")


def test_sign_in_settings_changes_are_in_the_audit_trail(client, administrator):
    site = Site.objects.get(is_default_site=True)
    app = entra_app()
    settings = SignInSettings.for_site(site)
    form = {
        "sso_providers": [app.pk],
        "sso_button_text": "",
        "match_claim": "employee_number",
        "employee_number_claim": "employeeid",
        "creation_rule": "hr_file",
        "council_domains": "",
        "sso_only_domains": "borsetshire.gov.uk",
        "trust_idp_mfa": "on",
    }

    response = client.post(f"/cms/settings/accounts/signinsettings/{site.pk}/", form)

    assert response.status_code == 302, response.content.decode()[:3000]
    entry = ModelLogEntry.objects.filter(object_id=str(settings.pk)).latest("timestamp")
    changes = {c["field"]: (c["before"], c["after"]) for c in entry.data["changes"]}
    assert changes["sso_providers"] == ("—", "Borsetshire Entra ID")
    assert changes["trust_idp_mfa"] == ("False", "True")
    assert changes["match_claim"] == (
        "'Verified email address'",
        "'Employee number (from a custom claim)'",
    )


def test_setup_page_shows_a_saml_providers_entity_id_and_reply_url(client, administrator):
    SocialApp.objects.create(
        provider="saml",
        provider_id="council-saml",
        name="Borsetshire Entra ID (SAML)",
        client_id="council",
        settings={"idp": {"entity_id": "https://sts.windows.net/t/", "metadata_url": ""}},
    )

    page = client.get(SETUP).content.decode()

    assert "Borsetshire Entra ID (SAML)" in page
    assert "SAML" in page
    base = "http://testserver/accounts/saml/council"
    for value in (f"{base}/metadata/", f"{base}/acs/", f"{base}/login/"):
        assert value in page
    assert "Basic SAML Configuration" in page
