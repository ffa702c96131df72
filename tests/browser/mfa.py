"""Signing in for the browser journeys: demo learners, and staff whose groups need two factors."""

from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)

DEMO_PASSWORD = "aware-demo-2026"


def totp_activate(email: str) -> str:
    """Give the person an authenticator app; returns its secret."""
    from accounts.models import User

    secret = generate_totp_secret()
    TOTP.activate(User.objects.get(email=email), secret)
    return secret


def sign_in(page, base: str, email: str) -> None:
    """Sign a demo person without two-factor sign-in in through /accounts/login/."""
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")


def sign_in_with_mfa(page, base: str, email: str, secret: str, axe_check, name: str) -> None:
    """Sign in through /accounts/login/ and the code page, checking both with axe-core."""
    page.goto(f"{base}/accounts/login/")
    axe_check(page, f"{name}-sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/accounts/2fa/authenticate/")
    axe_check(page, f"{name}-two-factor")
    code = format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))
    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")
