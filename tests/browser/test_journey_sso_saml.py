"""An officer HR imported signs in through the council's SAML identity provider in Chromium: presses
the council sign-in on Aware's sign-in page, types at the IdP's real login page, and lands on My
training, signed in as themselves. While the IdP is down the same button leads to a page that
says so. axe-core checks Aware's pages on the way; the screenshots go to docs/screenshots/."""

import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.journeys import hr_imports_an_officer

pytestmark = pytest.mark.browser
EMAIL = "priya.shah@example.gov.uk"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def test_officer_signs_in_through_saml_and_lands_on_my_training(
    live_site, saml_app, saml_idp, tmp_path, page, axe_check
):
    hr_imports_an_officer(
        tmp_path,
        employee_number="E9002",
        email=EMAIL,
        full_name="Priya Shah",
        job_title="Housing Officer",
        start_date="2026-11-02",
    )
    metadata_url = f"{live_site.url}/accounts/saml/council/metadata/"
    with urllib.request.urlopen(metadata_url, timeout=10) as answer:  # noqa: S310
        saml_idp.trust_service_provider(answer.read(), "aware-live")
    saml_idp.people(
        {
            "priya": {
                "password": "idp-password-2",
                "email": EMAIL,
                "given_name": "Priya",
                "surname": "Shah",
                "object_id": "9f1c2d3e-2222-4b68-8e1f-1d5a7c8f3b02",
                "employee_id": "E9002",
            }
        }
    )

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{live_site.url}/my-training/")
    expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()
    axe_check(page, "sso-saml-sign-in")

    # The IdP is down: a page that says so, and the way back to email sign-in.
    button = page.get_by_role("button", name="Sign in with Aware Demo Council account")
    saml_idp.stop()
    try:
        button.click()
        expect(
            page.get_by_role("heading", name="Your council's sign-in service is not answering")
        ).to_be_visible()
        axe_check(page, "sso-saml-idp-down")
        page.screenshot(path=str(SCREENSHOTS / "sso-saml-idp-down-desktop.png"), full_page=True)
    finally:
        saml_idp.start()
    page.get_by_role("link", name="Go back to the sign-in page").click()

    page.get_by_role("button", name="Sign in with Aware Demo Council account").click()

    # The identity provider's own page, on its own origin.
    page.wait_for_url(f"{saml_idp.base_url}/sso/redirect*")
    page.get_by_label("Username").fill("priya")
    page.get_by_label("Password").fill("idp-password-2")
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url(f"{live_site.url}/my-training/")
    expect(page.get_by_role("heading", name="My training")).to_be_visible()
    assert "Priya Shah" in page.content()
    axe_check(page, "sso-saml-my-training")
