"""Sign-in without a council email or password, in real Chromium: a contractor HR invites signs
in with a code read from the test outbox; a kiosk signs an idle person out. axe-core at 320 px
on every new page."""

import re
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from tests.accounts.test_import import celery_eager  # noqa: F401 - a fixture
from tests.browser.journeys import WIDTH
from tests.browser.mfa import sign_in_with_mfa

pytestmark = pytest.mark.browser
CONTRACTOR = "sam@cleanstreets.example"
LEARNER = "officer@example.gov.uk"  # a demo officer
CODE = re.compile(r"^([A-Z0-9]{4}-[A-Z0-9]{4})$", re.MULTILINE)


def last_code_for(mailoutbox, email: str) -> str:
    message = [m for m in mailoutbox if m.to == [email]][-1]
    return CODE.search(message.body).group(1)


def sign_in_by_code(page, mailoutbox, email: str, axe_check, name: str) -> None:
    """On the "email me a code" page: ask for a code, read it from the outbox, enter it."""
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Email me a code").click()
    page.wait_for_url("**/accounts/login/code/confirm/")
    axe_check(page, f"{name}-enter-code")
    page.get_by_label("Code").fill(last_code_for(mailoutbox, email))
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.usefixtures("celery_eager")
def test_a_contractor_invited_by_hr_signs_in_with_a_code_read_from_the_test_outbox(
    live_site, browser, page, mailoutbox, axe_check
):
    base = live_site.url
    sign_in_with_mfa(page, base, "hr@example.gov.uk", axe_check, "partners-hr")
    page.set_viewport_size({"width": WIDTH, "height": 720})  # HR on a phone, too
    page.goto(f"{base}/cms/people/invite/")
    axe_check(page, "invite-partners")
    page.get_by_label("People to invite").fill(
        f"Sam Patel, {CONTRACTOR}, Clean Streets Ltd, 07700 900123"
    )
    page.get_by_role("button", name="Invite").click()
    page.wait_for_url(f"{base}/cms/people/invite/sent/")
    expect(page.get_by_test_id("invitation-link")).to_have_count(1)
    expect(page.get_by_role("img", name="QR code of the link for Sam Patel")).to_be_visible()
    axe_check(page, "partners-invited")

    invitation = next(m for m in mailoutbox if m.to == [CONTRACTOR])
    link = re.search(r"https?://\S+/accounts/invited/\S+/", invitation.body).group(0)

    # On the contractor's own phone, 320 px wide.
    phone = browser.new_context(viewport={"width": WIDTH, "height": 720}).new_page()
    phone.goto(base + urlparse(link).path)
    expect(phone.get_by_role("heading", level=1)).to_have_text("Sign in to your training")
    axe_check(phone, "invited-sign-in")
    phone.get_by_role("button", name="Email me a sign-in code").click()
    phone.wait_for_url("**/accounts/login/code/confirm/")
    expect(phone.get_by_text(CONTRACTOR, exact=True)).to_be_visible()
    axe_check(phone, "enter-sign-in-code")

    phone.get_by_label("Code").fill("ZZZZ-ZZZZ")
    phone.get_by_role("button", name="Sign in").click()
    expect(phone.locator(".govuk-error-summary")).to_be_visible()
    axe_check(phone, "enter-sign-in-code-wrong")

    phone.get_by_label("Code").fill(last_code_for(mailoutbox, CONTRACTOR))
    phone.get_by_role("button", name="Sign in").click()
    phone.wait_for_url(f"{base}/")
    expect(phone.get_by_test_id("signed-in-as")).to_contain_text("Sam Patel")
    phone.context.close()


@pytest.mark.usefixtures("celery_eager")
def test_a_kiosk_signs_an_idle_person_out_and_leaves_a_clean_sign_in_page(
    live_site, page, mailoutbox, axe_check, settings
):
    base = live_site.url
    page.set_viewport_size({"width": WIDTH, "height": 720})
    sign_in_with_mfa(page, base, "hr@example.gov.uk", axe_check, "kiosk-hr")
    page.goto(f"{base}/kiosk/")
    axe_check(page, "kiosk-off")
    page.get_by_role("button", name="Make this device a kiosk").click()
    expect(page.get_by_test_id("kiosk-state")).to_contain_text("This device is a kiosk")
    axe_check(page, "kiosk-on")
    page.goto(f"{base}/accounts/logout/")
    # Signing out ends on the home page; going on before it does would abort that navigation.
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{base}/")

    # The next person: the password page is not offered on a kiosk.
    settings.AWARE_KIOSK_IDLE_SECONDS = 3
    page.goto(f"{base}/accounts/login/")
    page.wait_for_url(f"{base}/accounts/login/code/")
    expect(page.get_by_text("Sign in with a password")).to_have_count(0)
    axe_check(page, "kiosk-sign-in")
    sign_in_by_code(page, mailoutbox, LEARNER, axe_check, "kiosk")
    page.wait_for_url(f"{base}/")
    expect(page.get_by_test_id("signed-in-as")).to_contain_text("Alex Morgan")

    # Left alone: signed out by the page's script, the sign-in page on screen.
    page.wait_for_url(f"{base}/accounts/login/code/", timeout=15_000)
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in with a code")
    assert "Alex Morgan" not in page.content()
    page.go_back()
    page.wait_for_load_state()
    assert "Alex Morgan" not in page.content()
