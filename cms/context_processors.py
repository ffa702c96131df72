"""Template context for every page: the footer's links to the standing public pages."""

from wagtail.models import Page, Site

# Slugs of the pages every footer links to, in order, created by load_initial_data.
FOOTER_SLUGS = ["report-a-concern", "accessibility-statement", "privacy"]


def footer_links(request) -> dict:
    site = Site.find_for_request(request)
    if site is None:
        return {"aware_footer_links": []}
    pages = {
        p.slug: p
        for p in Page.objects.live().descendant_of(site.root_page).filter(slug__in=FOOTER_SLUGS)
    }
    links = [
        {"label": pages[s].title, "url": pages[s].get_url(request)}
        for s in FOOTER_SLUGS
        if s in pages
    ]
    return {"aware_footer_links": links}
