"""Caches that forget every entry at once by replacing one generation key (the site cache, the
roles cache), at the cost of one shared-cache round trip per request, not one per entry.

Within a request, every generation is read from the shared cache once, together, at the first
use (so what an editor changed shows on the next request, in every process). Entries are keyed
by their generation and kept in this process's memory as well as the shared cache, so a warm
entry costs no round trip; memory holds pickled copies (LocMemCache), never one shared object, so
nothing a request attaches to a page or a person reaches another request. Outside a request (a
Celery task, a command) each generation is read afresh every time."""

import threading
import uuid
from collections.abc import Callable

from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache

# A copy in memory lives at most this long, so an entry's own timeout (the safety net for a change
# no signal reached) is kept to within a minute.
MEMORY_TIMEOUT = 60

_keys: list[str] = []
_memory = LocMemCache(
    "aware-generations",
    {"TIMEOUT": MEMORY_TIMEOUT, "OPTIONS": {"MAX_ENTRIES": 20_000, "CULL_FREQUENCY": 4}},
)
_request = threading.local()


def generation_key_register(key: str) -> str:
    """A cache key that holds a generation; all of them are read in one round trip."""
    if key not in _keys:
        _keys.append(key)
    return key


def request_generations_begin() -> None:
    """From now until request_generations_end, each generation is read once (the middleware)."""
    _request.generations = {}


def request_generations_end() -> None:
    _request.generations = None


def _read_all() -> dict[str, str]:
    found = cache.get_many(_keys)
    for key in _keys:
        if key not in found:
            new = uuid.uuid4().hex
            # Another process may have added it first: theirs stands.
            found[key] = new if cache.add(key, new, None) else cache.get(key, new)
    return found


def generation(key: str) -> str:
    """The current generation under `key`: once per request, all keys together."""
    memo = getattr(_request, "generations", None)
    if memo is None:
        return _read_all()[key]
    if not memo:
        memo.update(_read_all())
    return memo[key]


def generation_replace(key: str) -> None:
    """Forget every entry of this generation, in every process (this request included)."""
    new = uuid.uuid4().hex
    cache.set(key, new, None)
    memo = getattr(_request, "generations", None)
    if memo:
        memo[key] = new


def generation_cached(key: str, compute: Callable, timeout: int):
    """The value under `key` (which names its generation), from this process's memory, else the
    shared cache, else `compute()`; None is never kept."""
    value = _memory.get(key)
    if value is not None:
        return value
    value = cache.get(key)
    if value is None:
        value = compute()
        if value is None:
            return None
        cache.set(key, value, timeout)
    _memory.set(key, value, min(timeout, MEMORY_TIMEOUT))
    return value
