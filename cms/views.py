"""Views for the site shell."""

import json
import logging
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.staticfiles import finders
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from django.views.static import serve
from wagtail import hooks
from wagtail.admin.views.reports.audit_logging import LogEntriesView, SiteHistoryReportFilterSet
from wagtail.log_actions import registry as log_action_registry

from cms.models import CouncilSettings, Heartbeat
from cms.selectors import (
    broker_is_reachable,
    database_is_reachable,
    operational_alert_list_open,
    page_search,
    search_text,
)

LOCAL_ADDRESSES = ("127.0.0.1", "::1")


def healthz_details_allowed(request) -> bool:
    """What failed, and why, is for the machine itself (its container's health check, an
    operator's curl) and for staff: exception text can name hosts, ports and settings."""
    if request.META.get("REMOTE_ADDR") in LOCAL_ADDRESSES:
        return True
    try:
        return request.user.is_staff
    except Exception:  # the session may live in the database that is down
        return False


logger = logging.getLogger(__name__)
CSP_REPORT_MAX_BYTES = 16 * 1024


@never_cache
@require_GET
def healthz(request):
    """JSON health check for load balancers: 200 when the database and the broker answer, with
    status "degraded" while an operational alert is open (the site serves; a background job
    needs someone), 503 "unavailable" when either does not answer. Which check failed and why,
    and the open alerts, only for staff and local requests; anyone else gets the status."""
    db_ok, db_detail = database_is_reachable()
    broker_ok, broker_detail = broker_is_reachable()
    alerts = operational_alert_list_open() if db_ok else []
    status = 200 if db_ok and broker_ok else 503
    payload = {"status": "unavailable" if status == 503 else "degraded" if alerts else "ok"}
    if healthz_details_allowed(request):
        heartbeat = Heartbeat.objects.filter(name="worker").first() if db_ok else None
        payload |= {
            "database": {"ok": db_ok, "detail": db_detail},
            "broker": {"ok": broker_ok, "detail": broker_detail},
            "worker_last_seen": heartbeat.seen_at.isoformat() if heartbeat else None,
            "alerts": [
                {"kind": a.kind, "detail": a.detail, "since": a.opened_at.isoformat()}
                for a in alerts
            ],
        }
    return JsonResponse(payload, status=status)


def search(request):
    """Site search over published pages (Wagtail's database search backend)."""
    query = search_text(request.GET.get("q", ""))
    results = page_search(query=query) if query else []
    paginator = Paginator(results, 20)
    page_number = request.GET.get("page", "1")
    return render(
        request,
        "cms/search.html",
        {"query": query, "results": paginator.get_page(page_number), "count": paginator.count},
    )


@require_GET
def media(request, path: str):
    """A lesson image's rendition, from MEDIA_ROOT/images as it is now. Nothing else under
    MEDIA_ROOT: documents go through Wagtail's view (which checks privacy) and HR's exports
    through their owner's download link."""
    return serve(request, path, document_root=Path(settings.MEDIA_ROOT) / "images")


# Each function registered under this hook takes (request, log entries) and returns the entries
# the request's user may see: accounts leaves out entries about people the viewer may not see.
LOG_ENTRIES_VISIBLE_HOOK = "aware_log_entries_visible"


def log_entries_visible(request, entries):
    for visible in hooks.get_hooks(LOG_ENTRIES_VISIBLE_HOOK):
        entries = visible(request, entries)
    return entries


class SiteHistoryFilterSet(SiteHistoryReportFilterSet):
    def get_users_queryset(self):
        """The "User" filter offers those who made an entry the viewer may see (Wagtail's offers
        whoever made any page entry)."""
        user_ids = set()
        for log_model in log_action_registry.get_log_entry_models():
            entries = log_model.objects.viewable_by_user(self.request.user)
            user_ids.update(log_entries_visible(self.request, entries).get_user_ids())
        return get_user_model().objects.filter(pk__in=user_ids)


class SiteHistoryView(LogEntriesView):
    """Reports → Site history, whose CSV and XLSX exports also carry each entry's message: what
    changed, from what to what (Wagtail's export has only the action's name). Entries about
    people the viewer may not see are left out (LOG_ENTRIES_VISIBLE_HOOK)."""

    filterset_class = SiteHistoryFilterSet
    list_export = [*LogEntriesView.list_export, "message"]
    export_headings = {**LogEntriesView.export_headings, "message": "Changes"}

    def filter_queryset(self, queryset):
        return super().filter_queryset(log_entries_visible(self.request, queryset))


@csrf_exempt  # browsers send these reports without a CSRF token
@require_POST
def csp_report(request):
    """Where browsers report what the Content-Security-Policy blocked (or, in the admin, would
    block): logs the directive and the addresses without their query strings (no personal data);
    answers 204 whatever it is sent."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = CSP_REPORT_MAX_BYTES + 1
    if 0 < length <= CSP_REPORT_MAX_BYTES:
        try:
            report = json.loads(request.body).get("csp-report", {})
        except (ValueError, AttributeError):
            report = {}
        if isinstance(report, dict) and report:
            disposition = str(report.get("disposition", "enforce"))[:16]
            # Blocked on a learner page: something is broken for someone. Reported in the admin:
            # expected for now (see the settings), kept to know when the admin can enforce.
            logger.log(
                logging.WARNING if disposition == "enforce" else logging.INFO,
                "CSP %s: %s blocked %s on %s",
                disposition,
                str(report.get("effective-directive") or report.get("violated-directive"))[:64],
                str(report.get("blocked-uri", "")).split("?")[0][:200],
                str(report.get("document-uri", "")).split("?")[0][:200],
            )
    return HttpResponse(status=204)


@require_GET
def web_app_manifest(request):
    """The web app manifest: Aware installs to a phone's home screen and opens on My training."""
    council = CouncilSettings.for_request(request).council_name or "Aware"
    manifest = {
        "name": f"{council} training",
        "short_name": "Training",
        "description": "Training to recognise organised crime and fraud, and how to report it.",
        "id": "/",
        "start_url": reverse("training:my_training"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#1d4f76",
        "lang": "en-GB",
        "icons": [
            {"src": static("cms/app-icon.svg"), "sizes": "any", "type": "image/svg+xml"},
            *(
                {
                    "src": static(f"cms/app-icon-{size}.png"),
                    "sizes": f"{size}x{size}",
                    "type": "image/png",
                    "purpose": "any maskable",
                }
                for size in (192, 512)
            ),
        ],
    }
    return JsonResponse(manifest, content_type="application/manifest+json")


@require_GET
def service_worker(request):
    """The offline service worker Workbox built (`npm run build:sw`), from the site's root so that
    its scope is the whole site. Browsers check it for updates on every visit (no-cache)."""
    path = finders.find("pwa/service-worker.js")
    if path is None:
        raise Http404("The service worker is not built: run `make install`.")
    response = HttpResponse(Path(path).read_bytes(), content_type="text/javascript")
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = "/"
    return response
