"""Single sign-on in Chromium: an administrator connects the council's OpenID Connect provider
in the admin (screenshots for the README's set-up section), then an officer HR imported presses
"Sign in with <council> account", signs in on the provider's own login page and lands on My
training; someone HR never imported is refused with a clear page. axe-core on Aware's pages."""

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.journeys import hr_imports_an_officer
from tests.browser.mfa import sign_in_with_mfa
from tests.conftest import SSO_PASSWORD

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
ADMIN = "admin@example.gov.uk"
OFFICER = "journey@example.gov.uk"
PROVIDER_NAME = "Aware Demo Council Entra ID"


def shoot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_administrator_connects_the_provider_and_an_imported_officer_signs_in_with_it(
    live_site, oidc_provider, page, axe_check, tmp_path
):
    base = live_site.url
    callback = f"{base}/accounts/oidc/entra/login/callback/"
    oidc_provider.allow_redirect_uri(callback)
    oidc_provider.set_mode("normal")
    hr_imports_an_officer(tmp_path, employee_number="E7001", email=OFFICER, full_name="Jo Journey")

    # The administrator adds the provider and shows it on the sign-in page.
    sign_in_with_mfa(page, base, ADMIN, axe_check, "sso-admin")
    page.goto(f"{base}/cms/snippets/socialaccount/socialapp/add/")
    page.locator("[name=name]").fill(PROVIDER_NAME)
    page.locator("[name=provider]").select_option("openid_connect")
    page.locator("[name=provider_id]").fill("entra")
    page.locator("[name=client_id]").fill(oidc_provider.CLIENT_ID)
    page.locator("[name=secret]").fill(oidc_provider.client_secret)
    page.locator("[name=settings]").fill(
        json.dumps({"server_url": oidc_provider.url, "fetch_userinfo": False})
    )
    shoot(page, "sso-admin-provider")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text(PROVIDER_NAME).first).to_be_visible()

    page.goto(f"{base}/cms/settings/accounts/signinsettings/")
    page.get_by_label(PROVIDER_NAME).check()
    shoot(page, "sso-admin-sign-in-settings")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("updated")).to_be_visible()

    page.goto(f"{base}/cms/sso/setup/")
    expect(page.get_by_test_id("sso-detail").first).to_have_text(callback)
    shoot(page, "sso-admin-setup")
    page.context.clear_cookies()

    # The officer signs in with the council's account and lands on My training.
    page.goto(f"{base}/accounts/login/")
    button = page.get_by_role("button", name="Sign in with Aware Demo Council account")
    expect(button).to_be_visible()
    axe_check(page, "sso-sign-in")
    shoot(page, "sso-sign-in-page")
    button.click()
    page.wait_for_url(f"{oidc_provider.url}/accounts/login/**")  # the provider's own page
    page.locator("[name=login]").fill(OFFICER)
    page.locator("[name=password]").fill(SSO_PASSWORD)
    page.locator("form [type=submit]").click()
    page.wait_for_url(f"{base}/my-training/")
    expect(page.get_by_role("heading", level=1)).to_have_text("My training")
    expect(page.locator("body")).to_contain_text("Jo Journey")
    axe_check(page, "sso-my-training")

    # Someone the provider knows but HR never imported is refused, with the reason.
    page.context.clear_cookies()
    page.goto(f"{base}/accounts/login/")
    page.get_by_role("button", name="Sign in with Aware Demo Council account").click()
    page.locator("[name=login]").fill("stranger@example.gov.uk")
    page.locator("[name=password]").fill(SSO_PASSWORD)
    page.locator("form [type=submit]").click()
    expect(page.get_by_test_id("sso-message")).to_contain_text("no record of you in HR")
    axe_check(page, "sso-refused")
