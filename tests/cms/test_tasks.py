"""Celery wiring: a real worker on the real Redis, and no request waits on a dead broker."""

import logging
import time

import pytest

from cms.models import Heartbeat
from cms.services import task_enqueue_on_commit
from cms.tasks import heartbeat_record_task
from config.celery_app import app as celery_app
from tests.conftest import redis_is_up, skip_unless


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_on_redis_runs_the_heartbeat_task(celery_worker):
    skip_unless(redis_is_up(), "Redis is not running")
    assert celery_worker.app.conf.broker_url.startswith("redis://")

    heartbeat_record_task.delay()

    deadline = time.monotonic() + 20
    while not Heartbeat.objects.filter(name="worker").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert Heartbeat.objects.filter(name="worker").exists()


def test_the_celery_app_reads_its_settings_from_django(settings):
    assert celery_app.conf.task_time_limit == settings.CELERY_TASK_TIME_LIMIT
    assert celery_app.conf.beat_scheduler == settings.CELERY_BEAT_SCHEDULER
    assert "cms.tasks.heartbeat_record_task" in celery_app.tasks


@pytest.mark.django_db
def test_a_dead_broker_is_logged_and_the_request_carries_on(
    caplog, django_capture_on_commit_callbacks, dead_broker
):
    with (
        caplog.at_level(logging.ERROR, logger="cms.services"),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        task_enqueue_on_commit(heartbeat_record_task)
        # Nothing is sent before the transaction commits.
        assert caplog.records == []

    assert len(callbacks) == 1
    assert any("broker is unreachable" in r.getMessage() for r in caplog.records)
    assert not Heartbeat.objects.exists()
