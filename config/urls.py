"""URL routes. Every sign-in, the Wagtail and Django admins' included, goes through allauth."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.decorators.cache import never_cache
from django.views.generic import RedirectView
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.admin.auth import require_admin_access
from wagtail.documents import urls as wagtaildocs_urls

from accounts.sso_saml import saml_login, saml_metadata
from accounts.views import (
    AdminSignIn,
    InvitedSignInView,
    KioskView,
    SignOut,
    django_admin_opens_for,
    wagtail_admin_opens_for,
)
from cms.views import (
    SiteHistoryView,
    csp_report,
    healthz,
    media,
    search,
    service_worker,
    web_app_manifest,
)

to_allauth_login = RedirectView.as_view(pattern_name="account_login", query_string=True)

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("search/", search, name="search"),
    path("csp-report/", csp_report, name="csp_report"),
    path("manifest.webmanifest", web_app_manifest, name="web_app_manifest"),
    path("service-worker.js", service_worker, name="service_worker"),
    path("", include("training.urls")),
    # allauth's SAML sign-in page, with the IdP's origin in its form-action, and its SP metadata,
    # a clear 503 while the IdP's metadata cannot be read (accounts/sso_saml.py).
    path("accounts/saml/<str:organization_slug>/login/", saml_login),
    path("accounts/saml/<str:organization_slug>/metadata/", saml_metadata),
    # allauth's sign-out, clearing what the offline pages kept on the device (accounts.views).
    path("accounts/logout/", SignOut.as_view(), name="account_logout"),
    # A partner's invitation link: the page that emails them a sign-in code.
    path(
        "accounts/invited/<str:token>/",
        InvitedSignInView.as_view(),
        name="accounts_invited_sign_in",
    ),
    path("accounts/", include("allauth.urls")),
    # HR marks a shared depot device as a kiosk (accounts.kiosk).
    path("kiosk/", KioskView.as_view(), name="accounts_kiosk"),
    path("cms/login/", AdminSignIn.as_view(may_open=wagtail_admin_opens_for)),
    # Answers in place of Wagtail's site history (its URL name points here), exporting the changes.
    path("cms/reports/site-history/", never_cache(require_admin_access(SiteHistoryView.as_view()))),
    # ...and its listing's results, which the page fetches when filtered, sorted or paged.
    path(
        "cms/reports/site-history/results/",
        never_cache(require_admin_access(SiteHistoryView.as_view(results_only=True))),
    ),
    path("cms/", include(wagtailadmin_urls)),
    path("django-admin/login/", AdminSignIn.as_view(may_open=django_admin_opens_for)),
    path("django-admin/", admin.site.urls),
    path("documents/", include(wagtaildocs_urls)),
    path("quizzes/", include("quizzes.urls")),
]

if settings.DEBUG or settings.AWARE_SERVE_MEDIA:
    urlpatterns += [re_path(r"^media/images/(?P<path>.+)$", media, name="media_image")]

urlpatterns += [
    # Wagtail's front-end sign-in (for private pages) is Django's password form: it would let a
    # privileged person in without their second factor and outside allauth's rate limits.
    path("_util/login/", to_allauth_login),
    path("", include(wagtail_urls)),
]
