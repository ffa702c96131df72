"""{% site_cached %}: a fragment that is the same for everyone on the site (a lesson's body),
rendered once and kept in the site cache (cms.site_cache) until an editor changes something."""

from django import template

from cms.site_cache import cached

register = template.Library()

# A fragment holding a form's CSRF field is someone's own: it is rendered, never kept.
CSRF_FIELD = 'name="csrfmiddlewaretoken"'


class SiteCachedNode(template.Node):
    def __init__(self, nodelist, name: str, parts: list):
        self.nodelist, self.name, self.parts = nodelist, name, parts

    def render(self, context) -> str:
        request = context.get("request")
        if getattr(request, "is_preview", False):  # an editor's draft, not what readers see
            return self.nodelist.render(context)
        site = getattr(request, "_wagtail_site", None)
        key = (self.name, getattr(site, "pk", None), *(p.resolve(context) for p in self.parts))
        rendered = []

        def render_fragment():
            rendered.append(self.nodelist.render(context))
            return None if CSRF_FIELD in rendered[0] else rendered[0]

        html = cached(key, render_fragment)
        if html is None:
            return rendered[0] if rendered else self.nodelist.render(context)
        return html


@register.tag
def site_cached(parser, token):
    """`{% site_cached "name" part… %}…{% endsite_cached %}`: the fragment, keyed by its name,
    the request's site and the parts (a page's id and live revision, say). Only for what
    every reader sees alike: never a person's data, a CSRF token or a CSP nonce."""
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError("site_cached needs a fragment name")
    nodelist = parser.parse(("endsite_cached",))
    parser.delete_first_token()
    name = bits[1].strip("\"'")
    return SiteCachedNode(nodelist, name, [parser.compile_filter(bit) for bit in bits[2:]])
