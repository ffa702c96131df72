"""Signing in for the browser journeys: demo learners, and staff whose groups need two factors."""

from tests.conftest import totp_activate, totp_code

DEMO_PASSWORD = "aware-demo-2026"


def sign_in(page, base: str, email: str) -> None:
    """Sign a demo person without two-factor sign-in in through /accounts/login/."""
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")


def sign_in_with_mfa(page, base: str, email: str, axe_check, name: str) -> None:
    """Give the demo person an authenticator app, then sign them in through /accounts/login/
    and the code page, checking both with axe-core."""
    from accounts.models import User

    secret = totp_activate(User.objects.get(email=email))
    page.goto(f"{base}/accounts/login/")
    axe_check(page, f"{name}-sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/accounts/2fa/authenticate/")
    axe_check(page, f"{name}-two-factor")
    page.get_by_label("Code").fill(totp_code(secret))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")
