"""The site and roles caches ask the shared cache once per request (cms.generations), and what
another process changes still shows on the next request."""

import pytest
from django.core.cache import caches

from cms import generations
from cms.generations import (
    generation,
    generation_cached,
    generation_key_register,
    request_generations_begin,
    request_generations_end,
)
from tests.training.test_query_counts import lessons_of, module_of_size

KEY = generation_key_register("aware:test-generations:generation")


@pytest.fixture
def shared_cache_calls(monkeypatch):
    """Every get and get_many Aware asks the shared cache (Wagtail's own keys left out), by name.
    The generations exist already, as on any running site."""
    generation(KEY)
    calls = []
    inside = []  # a cache's own get_many may call its get (Django's local-memory cache does)
    shared = caches["default"]
    for name in ("get", "get_many"):
        original = getattr(shared, name)

        def counted(key, *args, _name=name, _original=original, **kwargs):
            keys = key if _name == "get_many" else [key]
            if not inside and any(k.startswith("aware:") for k in keys):
                calls.append(_name)
            inside.append(_name)
            try:
                return _original(key, *args, **kwargs)
            finally:
                inside.pop()

        monkeypatch.setattr(shared, name, counted)
    return calls


@pytest.fixture
def in_request():
    request_generations_begin()
    yield
    request_generations_end()


def test_a_warm_learner_page_asks_the_shared_cache_once(
    client, site, user_factory, shared_cache_calls
):
    client.force_login(user_factory(email="sam.officer@example.gov.uk", person_type="officer"))
    module = module_of_size("generations-module", lessons=1, blocks_repeat=1)
    lesson = lessons_of(module)[0]
    for url in (lesson.url, module.url, "/my-training/"):
        assert client.get(url).status_code == 200  # fills the caches
        shared_cache_calls.clear()
        assert client.get(url).status_code == 200
        # The site's and the roles' generations together; the site, its settings, the links,
        # the route and the roles from this process's memory.
        assert shared_cache_calls == ["get_many"], url


def test_every_generation_is_read_once_per_request(shared_cache_calls, in_request):
    first = generation(KEY)
    assert generation(KEY) == first
    assert shared_cache_calls == ["get_many"]


def test_another_process_replacing_a_generation_shows_on_the_next_request(shared_cache_calls):
    computed = []

    def compute():
        computed.append(1)
        return {"links": len(computed)}

    request_generations_begin()
    old = generation(KEY)
    assert generation_cached(f"x:{old}", compute, 60) == {"links": 1}
    assert generation_cached(f"x:{old}", compute, 60) == {"links": 1}  # from memory
    request_generations_end()
    caches["default"].set(KEY, "replaced-elsewhere", None)  # as site_cache_clear in another process

    request_generations_begin()
    new = generation(KEY)
    assert new == "replaced-elsewhere"
    assert generation_cached(f"x:{new}", compute, 60) == {"links": 2}
    request_generations_end()
    assert len(computed) == 2


def test_memory_hands_out_copies_so_one_request_cannot_change_anothers(in_request):
    key = f"copies:{generation(KEY)}"
    first = generation_cached(key, lambda: {"roles": {1: "HR"}}, 60)
    first["roles"][2] = "Administrator"  # what one request does with its own copy
    assert generation_cached(key, lambda: None, 60) == {"roles": {1: "HR"}}


def test_outside_a_request_each_read_is_fresh(shared_cache_calls):
    assert generations._request.__dict__.get("generations") is None
    generation(KEY)
    generation(KEY)
    assert shared_cache_calls == ["get_many", "get_many"]
