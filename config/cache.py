"""Django's Redis cache, falling back to this process's memory while Redis cannot be reached.

Why not simply ignore Redis's errors (django-redis's IGNORE_EXCEPTIONS): allauth's rate limits
take a lock with `cache.add()` first, and an ignored error reads as "lock taken", so every sign-in
and password reset would wait a second and then answer "too many attempts"; and a `get` that
always misses would let a password guesser try for ever. A per-process memory cache keeps the
limits (per process rather than shared) and Wagtail's lookups, at the cost of each process
counting on its own until Redis is back."""

import logging
import threading
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

REDIS_DOWN = (RedisConnectionError, RedisTimeoutError)
# After a failure, this process uses its memory for this long before it tries Redis again, so a
# request never waits on a dead Redis more than once in a while.
RETRY_REDIS_AFTER = 5.0
# Nothing stays in the fallback longer than this, so what a process cached alone (such as
# Wagtail's site root paths) is read afresh soon; allauth's longest default window is 5 minutes.
FALLBACK_MAX_TIMEOUT = 300

_down_until: dict[str, float] = {}  # LOCATION -> monotonic time to try Redis again
_down_lock = threading.Lock()


class FailoverRedisCache(RedisCache):
    """RedisCache whose every operation, when Redis is unreachable, goes to a LocMemCache shared
    by this process's threads. Logs one warning per outage (no keys: they can hold emails)."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._location = server if isinstance(server, str) else ",".join(server)
        self._fallback = LocMemCache(
            f"aware-redis-fallback:{self._location}",
            {
                "TIMEOUT": FALLBACK_MAX_TIMEOUT,
                "KEY_PREFIX": params.get("KEY_PREFIX", ""),
                "VERSION": params.get("VERSION", 1),
                "OPTIONS": {"MAX_ENTRIES": 10_000},
            },
        )

    def _call(self, name: str, *args, fallback_args: tuple | None = None):
        """RedisCache's `name`, or the fallback's while Redis is down."""
        if time.monotonic() >= _down_until.get(self._location, 0):
            try:
                result = getattr(super(), name)(*args)
            except REDIS_DOWN as exc:
                self._mark_down(exc)
            else:
                if self._location in _down_until:
                    self._mark_up()
                return result
        return getattr(self._fallback, name)(*(fallback_args or args))

    def _mark_down(self, exc: Exception) -> None:
        with _down_lock:
            first = self._location not in _down_until
            _down_until[self._location] = time.monotonic() + RETRY_REDIS_AFTER
        if first:
            logger.warning(
                "Redis cache unreachable (%s); this process uses its own memory until it is back",
                type(exc).__name__,
            )

    def _mark_up(self) -> None:
        with _down_lock:
            if _down_until.pop(self._location, None) is not None:
                logger.warning("Redis cache reachable again")

    @staticmethod
    def _capped(timeout):
        if timeout is DEFAULT_TIMEOUT:
            return timeout  # the fallback's own default, FALLBACK_MAX_TIMEOUT
        return FALLBACK_MAX_TIMEOUT if timeout is None else min(timeout, FALLBACK_MAX_TIMEOUT)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        capped = (key, value, self._capped(timeout), version)
        return self._call("add", key, value, timeout, version, fallback_args=capped)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        capped = (key, value, self._capped(timeout), version)
        return self._call("set", key, value, timeout, version, fallback_args=capped)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        capped = (key, self._capped(timeout), version)
        return self._call("touch", key, timeout, version, fallback_args=capped)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        capped = (data, self._capped(timeout), version)
        return self._call("set_many", data, timeout, version, fallback_args=capped)

    def get(self, key, default=None, version=None):
        return self._call("get", key, default, version)

    def delete(self, key, version=None):
        return self._call("delete", key, version)

    def get_many(self, keys, version=None):
        return self._call("get_many", keys, version)

    def has_key(self, key, version=None):
        return self._call("has_key", key, version)

    def incr(self, key, delta=1, version=None):
        return self._call("incr", key, delta, version)

    def delete_many(self, keys, version=None):
        return self._call("delete_many", keys, version)

    def clear(self):
        return self._call("clear")
