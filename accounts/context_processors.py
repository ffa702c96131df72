"""Template context about the signed-in person, for the site header, and the kiosk's idle time."""

from django.conf import settings

from accounts.selectors import user_manages_anyone


def team_link(request) -> dict:
    """Whether the header links to My team: a callable, so that only a page that shows the
    header asks (user_manages_anyone, cached)."""
    return {
        "aware_manages_anyone": lambda: user_manages_anyone(user=request.user),
        "aware_kiosk_idle_seconds": settings.AWARE_KIOSK_IDLE_SECONDS,  # accounts.kiosk
    }
