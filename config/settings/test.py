"""Settings for the test suite (pytest-django)."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "insecure-test-only")

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
