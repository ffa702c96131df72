"""Production: every secret from the environment, HTTPS only, no demo data."""

from django.core.exceptions import ImproperlyConfigured

from .base import *

if AWARE_RECORDS_KEY_ID not in AWARE_RECORDS_KEYS:
    raise ImproperlyConfigured(
        "Set AWARE_RECORDS_KEYS ('key-id:base64-secret', comma-separated; keep every key that "
        "ever signed a record) and AWARE_RECORDS_KEY_ID (the id of the one that signs new "
        "records): without them completion records cannot be signed or verified."
    )
if any(key_id.startswith("dev-") for key_id in AWARE_RECORDS_KEYS):
    raise ImproperlyConfigured(
        "AWARE_RECORDS_KEYS holds a development key (id starting 'dev-'): use your own secret."
    )

DEBUG = False
AWARE_DEMO_DATA = False

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
