"""Development and `make demo`: SQLite and the embedded broker unless the environment says else."""

import os
from pathlib import Path

import environ

# A developer's .env (copied from .env.example) fills in anything the shell did not set.
environ.Env.read_env(Path(__file__).resolve().parents[2] / ".env")
os.environ.setdefault("DJANGO_SECRET_KEY", "insecure-local-development-only")
# Unless the environment names one, a development key for the completion chain. It is public
# (it is in this file): NOT FOR PRODUCTION, which refuses any key id starting "dev-".
if not os.environ.get("AWARE_RECORDS_KEYS"):
    os.environ["AWARE_RECORDS_KEYS"] = (
        "dev-not-for-production:ZY8Fyu0vsmekMrPVgHMhz2EvLYC656Qtdm2oJTh2MPQ="
    )
    os.environ["AWARE_RECORDS_KEY_ID"] = "dev-not-for-production"

from .base import *  # noqa: E402

DEBUG = env.bool("DJANGO_DEBUG", default=True)
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
AWARE_DEMO_DATA = True
# seed_scale and benchmark: never installed in production.
INSTALLED_APPS = [*INSTALLED_APPS, "devtools"]
