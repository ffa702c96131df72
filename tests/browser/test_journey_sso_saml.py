"""An officer HR imported signs in through the council's SAML identity provider in Chromium: presses
the council sign-in on Aware's sign-in page, types at the IdP's real login page, and lands on My
training, signed in as themselves. While the IdP is down the same button leads to a page that
says so. axe-core checks Aware's pages on the way; the screenshots go to docs/screenshots/."""

import csv
import urllib.request
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from accounts.importers import COLUMNS

pytestmark = pytest.mark.browser
EMAIL = "priya.shah@example.gov.uk"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def hr_import(tmp_path) -> None:
    path = tmp_path / "people.csv"
    with path.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=COLUMNS)
        writer.writeheader()
        row = dict.fromkeys(COLUMNS, "")
        row.update(
            employee_number="E9002",
            email=EMAIL,
            full_name="Priya Shah",
            person_type="officer",
            department="Neighbourhoods > Housing",
            service_area="housing",
            job_title="Housing Officer",
            start_date="2026-11-02",
            active="yes",
        )
        writer.writerow(row)
    call_command("import_people", str(path), stdout=(tmp_path / "out.txt").open("w"))


def test_officer_signs_in_through_saml_and_lands_on_my_training(
    live_site, saml_app, saml_idp, tmp_path, page, axe_check
):
    hr_import(tmp_path)
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
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    axe_check(page, "sso-saml-sign-in")

    # The IdP is down: a page that says so, and the way back to email sign-in.
    saml_idp.stop()
    try:
        page.get_by_role("link", name="Example Council account").click()
        page.get_by_role("button", name="Continue").click()
        expect(
            page.get_by_role("heading", name="Your council's sign-in service is not answering")
        ).to_be_visible()
        axe_check(page, "sso-saml-idp-down")
        page.screenshot(path=str(SCREENSHOTS / "sso-saml-idp-down-desktop.png"), full_page=True)
    finally:
        saml_idp.start()
    page.go_back()  # to the Continue page, as a person trying again would
    page.go_back()

    page.get_by_role("link", name="Example Council account").click()
    axe_check(page, "sso-saml-continue")
    page.get_by_role("button", name="Continue").click()

    # The identity provider's own page, on its own origin.
    page.wait_for_url(f"{saml_idp.base_url}/sso/redirect*")
    page.get_by_label("Username").fill("priya")
    page.get_by_label("Password").fill("idp-password-2")
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url(f"{live_site.url}/my-training/")
    expect(page.get_by_role("heading", name="My training")).to_be_visible()
    assert "Priya Shah" in page.content()
    axe_check(page, "sso-saml-my-training")
