"""What every page of a site reads and editors rarely change, kept in the shared cache so that a
learner's request does not ask the database again: the request's Site (with its home page), the
header and footer links, the council's settings and the reporting routes, the page each URL leads
to (Wagtail's routing), the training pages' view restrictions and their rendered bodies.

Every entry is keyed by one site-wide generation, replaced (so every entry goes at once) when an
editor publishes, unpublishes, moves or deletes a page, or saves a Site, the council's settings,
the reporting routes or a page's view restrictions (or their groups): see the receivers at the
end, connected in cms.apps. A URL that leads nowhere is not remembered."""

from django.db.models.signals import m2m_changed, post_delete, post_save
from wagtail.models import Page, PageViewRestriction, Site
from wagtail.signals import page_published, page_unpublished, post_page_move

from cms.generations import (
    generation,
    generation_cached,
    generation_key_register,
    generation_replace,
)
from cms.site_settings import CouncilSettings, ReportingRoute, ReportingRoutes

GENERATION_KEY = generation_key_register("aware:site-cache:generation")
# Five minutes at most, so that even a change the signals could not reach everywhere (made while
# Redis was down, each process then caching alone) shows within five minutes.
TIMEOUT = 5 * 60


def site_cache_clear() -> None:
    """Forget every cached entry (a new generation): after any change editors make."""
    generation_replace(GENERATION_KEY)


def cached(key_parts: tuple, compute):
    """The cached value for `key_parts` in the current generation (cms.generations: memory, then
    the shared cache), computing it when missing. None is never kept (so a URL that leads
    nowhere adds nothing to the cache)."""
    key = ":".join(["aware:site-cache", generation(GENERATION_KEY), *map(str, key_parts)])
    return generation_cached(key, compute, TIMEOUT)


def request_site_prepare(request) -> None:
    """Give the request its Site (home page loaded, as its specific page) and the council's
    settings from the cache, where Wagtail's Site.find_for_request and the settings' for_request
    look first."""
    if hasattr(request, "_wagtail_site"):
        return
    host, port = request.get_host().split(":")[0], request.get_port()

    def find():
        site = Site._find_for_request(request)
        if site is not None:
            site.root_page = site.root_page.specific
        return site

    site = cached(("site", host, port), find)
    request._wagtail_site = site
    # Where Wagtail's Page._get_site_root_paths looks first, for every {% pageurl %}.
    request._wagtail_cached_site_root_paths = site_root_paths()
    if site is None:
        return
    attr = CouncilSettings.get_cache_attr_name()
    if not hasattr(request, attr):
        setattr(request, attr, cached(("council", site.pk), lambda: CouncilSettings.for_site(site)))


def reporting_routes_for_site(site: Site) -> list[ReportingRoute]:
    return cached(("routes", site.pk), lambda: ReportingRoutes.for_site(site).route_list)


def route_page(root: Page, url_path: str) -> Page | None:
    """The live page (as its specific class) at `url_path` under the site root, or None. Kept
    whole, as lesson_module_shown keeps a module: each request gets its own copy (unpickled), so
    nothing a request sets on it reaches another."""

    def find():
        pages = Page.objects.live().filter(url_path=url_path, path__startswith=root.path)
        return pages.specific().first()

    return cached(("route", root.pk, url_path), find)


def site_root_paths() -> list:
    """Wagtail's site root paths (Site.get_site_root_paths, which every page URL needs), from
    this process's memory instead of a shared-cache round trip on every request."""
    return cached(("root-paths",), Site.get_site_root_paths)


def _cleared(**kwargs) -> None:
    site_cache_clear()


def connect() -> None:
    for signal in (page_published, page_unpublished, post_page_move):
        signal.connect(_cleared, dispatch_uid=f"aware-site-cache-{id(signal)}")
    post_delete.connect(_cleared, sender=Page, dispatch_uid="aware-site-cache-page-delete")
    m2m_changed.connect(
        _cleared,
        sender=PageViewRestriction.groups.through,
        dispatch_uid="aware-site-cache-restriction-groups",
    )
    for model in (Site, CouncilSettings, ReportingRoutes, ReportingRoute, PageViewRestriction):
        for signal in (post_save, post_delete):
            signal.connect(
                _cleared,
                sender=model,
                dispatch_uid=f"aware-site-cache-{model.__name__}-{id(signal)}",
            )
