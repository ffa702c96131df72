"""Template context for every page: links to the standing public pages and the catalogue."""

from wagtail.models import Page, Site

from cms.site_cache import cached

# Slugs of the pages every footer links to, in order, created by load_initial_data.
FOOTER_SLUGS = ["report-a-concern", "accessibility-statement", "privacy"]
CATALOGUE_SLUG = "training"


def site_links(request) -> dict:
    """Kept per site in the cache (cms.site_cache): publishing, unpublishing or moving a page
    clears it."""
    site = Site.find_for_request(request)
    if site is None:
        return {"aware_footer_links": []}
    return cached(("links", site.pk), lambda: _site_links(request, site))


def _site_links(request, site: Site) -> dict:
    pages = {
        p.slug: p
        for p in Page.objects.live()
        .child_of(site.root_page)
        .filter(slug__in=[*FOOTER_SLUGS, CATALOGUE_SLUG])
    }
    report, catalogue = pages.get("report-a-concern"), pages.get(CATALOGUE_SLUG)
    return {
        "aware_footer_links": [
            {"label": pages[slug].title, "url": pages[slug].get_url(request)}
            for slug in FOOTER_SLUGS
            if slug in pages
        ],
        "aware_report_url": report.get_url(request) if report else "",
        "aware_training_url": catalogue.get_url(request) if catalogue else "",
    }
