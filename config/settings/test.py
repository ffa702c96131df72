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

# Under pytest-xdist (`make test` runs two processes, gw0 and gw1), each process gets its own
# Redis database (REDIS_URL's, the next, …) on the shared server, as it gets its own test database
# from pytest-django; tests/conftest.py's celery_config does the same for the in-process worker.
# Once, in the pytest process: the processes tests start inherit the result (or are given a
# REDIS_URL of their own) and keep it.
if (
    os.environ.get("PYTEST_XDIST_WORKER", "gw0") != "gw0"
    and os.environ.get("REDIS_URL")
    and "AWARE_TEST_REDIS_OWN_DB" not in os.environ
):
    from urllib.parse import urlparse

    _redis = urlparse(os.environ["REDIS_URL"])
    _db = int(_redis.path.strip("/") or 0) + int(os.environ["PYTEST_XDIST_WORKER"][2:])
    os.environ["REDIS_URL"] = _redis._replace(path=f"/{_db}").geturl()
    os.environ["AWARE_TEST_REDIS_OWN_DB"] = str(_db)

from .base import *

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
AWARE_DEMO_DATA = True
INSTALLED_APPS = [*INSTALLED_APPS, "devtools"]  # seed_scale and benchmark, as under local
AWARE_SIGNUP_EMAIL_DOMAINS = ["example.gov.uk"]
XDIST_INDEX = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:])
# Each process's own media and embedded broker folders, never a developer's.
MEDIA_ROOT = str(BASE_DIR / "var" / f"test-media-{XDIST_INDEX}")
if not REDIS_URL:
    CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_broker_options(
        BASE_DIR / "var" / f"test-celery-{XDIST_INDEX}"
    )
# Each test run gets its own key space in a shared Redis.
if REDIS_URL:
    CACHES["default"]["KEY_PREFIX"] = f"aware-test-{os.getpid()}"
