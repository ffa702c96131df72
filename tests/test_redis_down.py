"""Redis down (it is the cache and the broker): pages still answer, sign-in rate limits still
hold, queued email waits in the database, and /healthz says 503.

Each test starts its own redis-server, points the cache (as production settings build it) and
the Celery app at it, and kills it by its pid."""

import time

import pytest
from django.core.cache import cache
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.urls import reverse

from accounts.models import QueuedEmail
from config.settings.base import redis_cache_config
from tests.factories import lessons_of, module_with_lessons
from tests.faults import RedisServer
from training.models import LessonProgress

PASSWORD = "correct-horse-battery"


@pytest.fixture
def own_redis(settings):
    """Our own Redis as Django's cache and Celery's broker, as with REDIS_URL set."""
    from config.celery_app import app

    def drop_pooled_connections():
        app._pool = None
        app.amqp._producer_pool = None

    server = RedisServer()
    original_broker = app.conf.broker_url
    settings.CACHES = {"default": redis_cache_config(server.url)}
    drop_pooled_connections()
    app.conf.broker_url = server.url
    yield server
    server.stop()
    drop_pooled_connections()
    app.conf.broker_url = original_broker


@pytest.fixture
def learner(user_factory):
    return user_factory(email="learner@example.gov.uk", full_name="Alex Morgan")


def answers(client, learner, lesson) -> dict[str, int]:
    """Every page the issue lists, as a visitor and then as the signed-in learner."""
    client.logout()
    found = {}
    for url in ["/", "/verify/", "/healthz"]:
        found[f"GET {url}"] = client.get(url).status_code
    found["GET sign-in"] = client.get(reverse("account_login")).status_code
    found["POST sign-in"] = client.post(
        reverse("account_login"), {"login": learner.email, "password": PASSWORD}
    ).status_code
    found["GET /my-training/"] = client.get("/my-training/").status_code
    found["GET /training/"] = client.get("/training/").status_code
    found["GET lesson"] = client.get(lesson.url).status_code
    found["POST lesson complete"] = client.post(lesson.url).status_code
    client.logout()
    found["GET password reset"] = client.get(reverse("account_reset_password")).status_code
    found["POST password reset"] = client.post(
        reverse("account_reset_password"), {"email": learner.email}
    ).status_code
    return found


@pytest.mark.django_db
def test_every_page_answers_when_redis_is_stopped(
    own_redis, client, learner, site, django_capture_on_commit_callbacks
):
    client.raise_request_exception = False
    lessons = lessons_of(module_with_lessons(3))
    healthy = answers(client, learner, lessons[0])
    assert cache.get("wagtail_site_root_paths", version=2) is not None  # Redis held them

    waiting = QueuedEmail.objects.count()
    own_redis.stop()
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):  # tasks queued on the dead broker
        down = answers(client, learner, lessons[1])
    elapsed = time.monotonic() - started

    expected = {
        "GET /": 200,
        "GET /training/": 200,
        "GET /verify/": 200,
        "GET /healthz": 200,
        "GET sign-in": 200,
        "POST sign-in": 302,
        "GET /my-training/": 200,
        "GET lesson": 200,
        "POST lesson complete": 302,
        "GET password reset": 200,
        "POST password reset": 302,
    }
    assert healthy == expected
    assert down == {**expected, "GET /healthz": 503}
    assert LessonProgress.objects.get(user=learner, lesson=lessons[1]).completed_at is not None
    # The reset email could not be queued on the broker: the outbox keeps it for the retry.
    assert QueuedEmail.objects.count() == waiting + 1
    # Nothing waits seconds on the dead Redis (the broker's one timeout at most).
    assert elapsed < 10


@pytest.mark.django_db
def test_wrong_passwords_are_still_rate_limited_when_redis_is_stopped(own_redis, client, learner):
    own_redis.stop()
    for _ in range(5):
        client.post(reverse("account_login"), {"login": learner.email, "password": "wrong"})

    response = client.post(reverse("account_login"), {"login": learner.email, "password": PASSWORD})

    assert response.status_code == 200
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_cache_goes_back_to_redis_when_it_returns(own_redis, monkeypatch):
    monkeypatch.setattr("config.cache.RETRY_REDIS_AFTER", 0)  # try Redis again at once
    cache.set("before", "in Redis")
    own_redis.stop()
    assert cache.get("before") is None  # only Redis had it
    cache.set("during", "in this process's memory")
    assert cache.get("during") == "in this process's memory"

    revived = RedisServer(port=own_redis.port)
    try:
        cache.set("after", "in Redis again")
        assert revived.client().get(cache.make_key("after")) is not None
    finally:
        revived.stop()


def test_healthz_says_503_when_redis_is_stopped(own_redis, client, db):
    own_redis.stop()

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["broker"]["ok"] is False


class ErrorsIgnoredCache(BaseCache):
    """What a cache that ignores Redis's errors (django-redis's IGNORE_EXCEPTIONS) answers while
    Redis is down: nothing added, nothing found, nothing stored."""

    def __init__(self, location, params):
        super().__init__(params)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return None

    def get(self, key, default=None, version=None):
        return default

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return None

    def delete(self, key, version=None):
        return None

    def clear(self):
        return None


@pytest.mark.django_db
def test_why_not_ignore_cache_errors_allauth_then_refuses_every_sign_in(settings, client, learner):
    """The README's reason for failing over rather than ignoring errors: allauth's rate limit
    takes its lock with cache.add(), so with errors ignored the right password is refused."""
    settings.CACHES = {"default": {"BACKEND": "tests.test_redis_down.ErrorsIgnoredCache"}}

    response = client.post(reverse("account_login"), {"login": learner.email, "password": PASSWORD})

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
