"""Guards run by `make test`: migrations match the models; production settings are safe."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "a-long-random-secret-key-for-the-deploy-check-0123456789abcdef",
    "DJANGO_ALLOWED_HOSTS": "aware.example.gov.uk",
    "SITE_URL": "https://aware.example.gov.uk",
    "DATABASE_URL": "sqlite:////tmp/aware-deploy-check.sqlite3",
    "AWARE_RECORDS_KEYS": "2026a:ZGVwbG95LWNoZWNrLW9ubHktbm90LWEtcmVhbC1rZXktMDEyMzQ1Njc4OQ==",
    "AWARE_RECORDS_KEY_ID": "2026a",
}
RECORDS_KEY_VARS = ["AWARE_RECORDS_KEYS", "AWARE_RECORDS_KEY_ID"]


def manage(*args, env_overrides=None, drop=()):
    hidden = {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE", *drop}
    env = {k: v for k, v in os.environ.items() if k not in hidden}
    env.update(env_overrides or {})
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )


@pytest.mark.django_db
def test_migrations_match_the_models():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_production_passes_the_deploy_check_with_no_warnings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env_overrides=PRODUCTION_ENV)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_SECRET_KEY"}

    result = manage("check", env_overrides=env, drop=["DJANGO_SECRET_KEY"])

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_the_records_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k not in RECORDS_KEY_VARS}

    result = manage("check", env_overrides=env, drop=RECORDS_KEY_VARS)

    assert result.returncode != 0
    assert "ImproperlyConfigured: Set AWARE_RECORDS_KEYS" in result.stderr


def test_production_refuses_the_development_records_key():
    env = {
        **PRODUCTION_ENV,
        "AWARE_RECORDS_KEYS": os.environ["AWARE_RECORDS_KEYS"],  # test settings' dev key
        "AWARE_RECORDS_KEY_ID": "dev-not-for-production",
    }

    result = manage("check", env_overrides=env)

    assert result.returncode != 0
    assert "AWARE_RECORDS_KEYS holds a development key" in result.stderr


def test_hr_reports_count_on_sqlite_as_make_demo_runs_them(tmp_path):
    """`make demo` without DATABASE_URL runs on SQLite: the reports' grouped SQL must run there."""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/demo.sqlite3", "REDIS_URL": ""}
    assert manage("migrate", "-v0", env_overrides=env).returncode == 0
    script = (
        "from django.utils import timezone\n"
        "from training.reports.filters import ReportFilters\n"
        "from training.reports.live import compliance_overview\n"
        "from training.reports.snapshot import report_counts_refresh, snapshot_overview\n"
        "now = timezone.now()\n"
        "compliance_overview(filters=ReportFilters(), now=now)\n"
        "assert report_counts_refresh(now=now)\n"  # the overview's groups and a year of weeks
        "assert snapshot_overview(filters=ReportFilters()) is not None\n"
        "print('counted')\n"
    )

    result = manage("shell", "-c", script, env_overrides=env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == "counted"


def test_every_beat_schedule_names_a_task_the_worker_runs(settings):
    """Beat stores task names in its database rows: a renamed or moved task must fail here."""
    from config.celery_app import app

    app.loader.import_default_modules()  # what a worker imports at start (autodiscovery)
    scheduled = [entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()]
    scheduled.append(settings.AWARE_REMINDER_SWEEP_SCHEDULE["task"])
    # messages_retry_task, queued_emails_retry_task and retention_sweep_task (issue 15);
    # content_review_digest_task and operations_check_task (issue 18)
    assert len(scheduled) == 11
    assert set(scheduled) <= set(app.tasks)
