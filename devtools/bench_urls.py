"""The product's routes plus two bare views, so `make bench-peer` can tell what every request costs
(middleware, session, user) from what a page adds. Served only under devtools.bench_settings."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import path

from config.urls import urlpatterns as product_urlpatterns

SIGNED_IN_TEXT = "Signed in bare view"
ANONYMOUS_TEXT = "Anonymous bare view"


@login_required
def signed_in_bare(request):
    """A fixed short answer for a signed-in person: their session and user are loaded (by
    login_required), and the middleware ran, but no page was built."""
    return HttpResponse(SIGNED_IN_TEXT, content_type="text/plain")


def anonymous_bare(request):
    """A fixed short answer to anyone, the session and user never read."""
    return HttpResponse(ANONYMOUS_TEXT, content_type="text/plain")


urlpatterns = [
    path("bench/signed-in/", signed_in_bare, name="bench_signed_in"),
    path("bench/anonymous/", anonymous_bare, name="bench_anonymous"),
    *product_urlpatterns,
]
