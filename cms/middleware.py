"""Content-Security-Policy: enforced on learner and public pages, report-only in the admin areas."""

from csp.middleware import CSPMiddleware
from django.conf import settings


class ReportOnlyAdminCSPMiddleware(CSPMiddleware):
    """django-csp's middleware, sending the report-only policy only under CSP_REPORT_ONLY_PREFIXES
    (the enforced one skips them through its EXCLUDE_URL_PREFIXES), so each page gets one policy."""

    def process_response(self, request, response):
        if not request.path_info.startswith(settings.CSP_REPORT_ONLY_PREFIXES):
            response._csp_exempt_ro = True
        return super().process_response(request, response)


class SiteCacheMiddleware:
    """Gives each request its Site and the council's settings from the cache (cms.site_cache),
    the caches' generations read once for the request (cms.generations), except the endpoints
    that never render a page (they need neither, nor the database)."""

    NO_PAGE_PREFIXES = ("/csp-report/", "/healthz", "/service-worker.js", "/static/", "/media/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from cms.generations import request_generations_begin, request_generations_end
        from cms.site_cache import request_site_prepare

        if request.path_info.startswith(self.NO_PAGE_PREFIXES):
            return self.get_response(request)
        # The site's and the roles' cache generations, read once for the whole request.
        request_generations_begin()
        try:
            request_site_prepare(request)
            return self.get_response(request)
        finally:
            request_generations_end()
