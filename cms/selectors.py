"""Reads for the site shell."""

from django.db import connection
from django.http import HttpRequest
from wagtail.models import Page, Site

from cms.operations import OperationalAlert
from cms.site_cache import reporting_routes_for_site
from cms.site_settings import CouncilSettings, ReportingRoute, RetentionSettings
from config.celery_app import app as celery_app


def database_is_reachable() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return False, type(exc).__name__
    return True, "ok"


def broker_is_reachable() -> tuple[bool, str]:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
    except Exception as exc:
        return False, f"{type(exc).__name__}: {exc}"
    return True, "ok"


def operational_alert_list_open() -> list[OperationalAlert]:
    """The alerts still open, oldest first (what makes /healthz say "degraded")."""
    return list(OperationalAlert.objects.filter(cleared_at__isnull=True).order_by("opened_at"))


def search_text(value: str, *, max_length: int = 200) -> str:
    """What a search box sent, as the database can take it: NUL characters (which PostgreSQL
    refuses in text) dropped, outer spaces trimmed, at most `max_length` characters."""
    return value.replace("\x00", "").strip()[:max_length]


def page_search(*, query: str):
    """Published pages matching the query, best first."""
    return Page.objects.live().specific().search(query)


def reporting_route_list(
    *, request: HttpRequest | None = None, slugs: list[str] | None = None
) -> list[ReportingRoute]:
    """The site's reporting routes in their set order, optionally only those named.

    With a request, the request's site; without, the default site. Kept in the shared cache
    (cms.site_cache) until an editor changes them.
    """
    site = Site.find_for_request(request) if request is not None else None
    routes = reporting_routes_for_site(site or Site.objects.get(is_default_site=True))
    if slugs:
        return [r for r in routes if r.slug in slugs]
    return routes


def retention_settings() -> RetentionSettings:
    """The default site's retention periods (the defaults, unsaved, before there is a site)."""
    site = Site.objects.filter(is_default_site=True).first()
    return RetentionSettings.for_site(site) if site else RetentionSettings()


def council_settings() -> CouncilSettings:
    """The default site's council details (the defaults, unsaved, before there is a site)."""
    site = Site.objects.filter(is_default_site=True).first()
    return CouncilSettings.for_site(site) if site else CouncilSettings()
