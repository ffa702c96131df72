"""HR signs in with two-factor codes, filters the compliance overview and opens its downloads."""

import csv
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser.mfa import sign_in_with_mfa

pytestmark = pytest.mark.browser
HR_EMAIL = "hr@example.gov.uk"


def download(page, link) -> Path:
    with page.expect_download() as download_info:
        link.click()
    return Path(download_info.value.path())


def test_hr_filters_the_overview_by_department_and_opens_csv_and_xlsx(
    live_site, assigned, page, axe_check
):
    from accounts.models import Department

    base = live_site.url
    sign_in_with_mfa(page, base, HR_EMAIL, axe_check, "hr")

    page.goto(f"{base}/cms/aware-reports/compliance/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Compliance overview")
    housing = Department.objects.get(name="Housing")
    page.get_by_role("combobox", name="Department", exact=True).select_option(str(housing.pk))
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(f"**/aware-reports/compliance/?*department={housing.pk}*")
    axe_check(page, "hr-compliance-overview-housing")

    everyone = page.locator("li", has_text="Every person and module")
    # The CSV starts with a byte-order mark so that Excel reads it as UTF-8.
    text = download(page, everyone.get_by_role("link", name="CSV")).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    heading = rows[0]
    people = [dict(zip(heading, row, strict=True)) for row in rows[1:]]
    alex = [p for p in people if p["Email"] == "officer@example.gov.uk"]
    assert {p["Module"] for p in alex} >= {"Organised crime and your council"}
    assert all("Housing" in p["Department"] for p in people)
    assert "hr@example.gov.uk" not in {p["Email"] for p in people}

    xlsx = download(page, everyone.get_by_role("link", name="XLSX")).read_bytes()
    sheet = load_workbook(io.BytesIO(xlsx)).active
    cells = list(sheet.iter_rows(values_only=True))
    assert list(cells[0]) == heading
    emails = [row[heading.index("Email")] for row in cells[1:]]
    assert sorted(emails) == sorted(p["Email"] for p in people)
    assert "officer@example.gov.uk" in emails
