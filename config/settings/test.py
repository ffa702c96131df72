"""Settings for the test suite (pytest-django)."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "insecure-test-only")
# Unless the environment names one, a development key for the completion chain. It is public
# (it is in this file): NOT FOR PRODUCTION, which refuses any key id starting "dev-".
if not os.environ.get("AWARE_RECORDS_KEYS"):
    os.environ["AWARE_RECORDS_KEYS"] = (
        "dev-not-for-production:ZY8Fyu0vsmekMrPVgHMhz2EvLYC656Qtdm2oJTh2MPQ="
    )
    os.environ["AWARE_RECORDS_KEY_ID"] = "dev-not-for-production"

from .base import *

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
AWARE_DEMO_DATA = True
INSTALLED_APPS = [*INSTALLED_APPS, "devtools"]  # seed_scale and benchmark, as under local
AWARE_SIGNUP_EMAIL_DOMAINS = ["example.gov.uk"]
# Each test run gets its own key space in a shared Redis.
if REDIS_URL:
    CACHES["default"]["KEY_PREFIX"] = f"aware-test-{os.getpid()}"
