"""Kiosk mode: a shared device in a depot that HR marked at /kiosk/ (a long-lived signed
cookie). There sign-in is by emailed code only, and a signed-in person is signed out after
AWARE_KIOSK_IDLE_SECONDS without a request (here, on the server) or without a touch or key
(static/accounts/kiosk.js, which then posts the sign-out and shows the sign-in page)."""

import logging
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import patch_cache_control

logger = logging.getLogger(__name__)

KIOSK_COOKIE = "aware_kiosk"
KIOSK_SALT = "aware.kiosk"
KIOSK_COOKIE_DAYS = 400  # the longest a browser keeps a cookie (Chromium caps at 400 days)
SESSION_SEEN = "aware_kiosk_seen"  # when this session last made a request, in seconds


def is_kiosk(request) -> bool:
    return request.get_signed_cookie(KIOSK_COOKIE, default="", salt=KIOSK_SALT) == "1"


def kiosk_cookie_set(response) -> None:
    response.set_signed_cookie(
        KIOSK_COOKIE,
        "1",
        salt=KIOSK_SALT,
        max_age=KIOSK_COOKIE_DAYS * 86400,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def kiosk_cookie_delete(response) -> None:
    response.delete_cookie(KIOSK_COOKIE, samesite="Lax")


def idle_minutes() -> str:
    seconds = settings.AWARE_KIOSK_IDLE_SECONDS
    if seconds % 60:
        return f"{seconds} seconds"
    return f"{seconds // 60} minute{'s' if seconds != 60 else ''}"


class KioskMiddleware:
    """On a kiosk: the password sign-in page sends to the code one; a session idle longer than
    AWARE_KIOSK_IDLE_SECONDS is ended (and its cookie lasts no longer); pages are never stored,
    so the browser's Back button shows nothing of the last person."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.kiosk = is_kiosk(request)
        if not request.kiosk:
            return self.get_response(request)
        user = request.user
        if not user.is_authenticated:
            if request.path == reverse("account_login"):
                return redirect("account_request_login_code")
            return self.get_response(request)
        now = time.time()
        seen = request.session.get(SESSION_SEEN)
        if seen is not None and now - seen > settings.AWARE_KIOSK_IDLE_SECONDS:
            logout(request)
            messages.info(
                request,
                f"The last person was signed out after {idle_minutes()} without use.",
            )
            return redirect("account_request_login_code")
        request.session[SESSION_SEEN] = now
        request.session.set_expiry(settings.AWARE_KIOSK_IDLE_SECONDS)
        response = self.get_response(request)
        patch_cache_control(response, no_store=True)
        return response
