"""`make bench-peer`: what it reads from wrk and how it judges each ratio (no wrk run here), and
the two bare views it times, served only by the bench's URL conf, never by the product's."""

import pytest
from django.test import override_settings
from django.urls import Resolver404, resolve

from devtools.bench_urls import ANONYMOUS_TEXT, SIGNED_IN_TEXT, anonymous_bare, signed_in_bare
from devtools.peer_bench import (
    GOALS,
    csrf_form_token,
    ratio_goals,
    rounds_order,
    wrk_parse,
)
from tests.test_guards import PRODUCTION_ENV, manage

WRK_OUTPUT = """\
Running 10s test @ http://127.0.0.1:41235/modules/organised-crime/what-it-is/
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    52.10ms   10.33ms 120.04ms   80.12%
    Req/Sec    77.02     12.40   101.00     70.00%
  770 requests in 10.01s, 12.52MB read
Requests/sec:     76.92
Transfer/sec:      1.25MB
"""

WRK_OUTPUT_WITH_ERRORS = """\
Running 10s test @ http://127.0.0.1:41235/bench/signed-in/
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     5.10ms    1.33ms  20.04ms   80.12%
    Req/Sec   790.02     12.40   901.00     70.00%
  7901 requests in 10.00s, 1.52MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 12
Requests/sec:    790.10
Transfer/sec:    155.20KB
"""


def test_wrk_summary_gives_the_rate_the_count_and_what_went_wrong():
    clean = wrk_parse(WRK_OUTPUT)
    assert (clean.requests_per_second, clean.requests, clean.bad_responses) == (76.92, 770, 0)

    errors = wrk_parse(WRK_OUTPUT_WITH_ERRORS)
    assert (errors.requests_per_second, errors.requests) == (790.10, 7901)
    assert errors.bad_responses == 12 + 2 + 1


def test_wrk_output_without_a_summary_is_refused_not_read_as_zero():
    with pytest.raises(ValueError, match="wrk printed no summary"):
        wrk_parse("unable to connect to 127.0.0.1:41235 Connection refused\n")


def round_of(**rates) -> dict[str, float]:
    names = {
        "lesson": "lesson",
        "module": "module",
        "my_training": "My training",
        "signed_in": "signed-in bare",
        "anonymous": "anonymous bare",
        "peer": "peer lesson",
    }
    return {names[key]: value for key, value in rates.items()}


def test_each_ratio_is_the_median_of_the_rounds_ratios_beside_its_goal():
    rounds = [
        round_of(lesson=90, module=100, my_training=60, signed_in=200, anonymous=400, peer=60),
        round_of(lesson=80, module=110, my_training=50, signed_in=100, anonymous=1000, peer=40),
        round_of(lesson=60, module=90, my_training=40, signed_in=150, anonymous=300, peer=50),
    ]

    lines = [goal.line() for goal in ratio_goals(rounds)]

    # lesson / peer per round: 1.5, 2.0, 1.2 -> median 1.5; the round's own ratio, so a round
    # slowed by a busy machine slows both sides of it.
    assert lines == [
        "lesson page req/s vs wagtail-lms 0.11's lesson page: 1.50 "
        "(goal >= 1.5; 3 rounds, 1.20 to 2.00) OK",
        # 0.45, 0.8, 0.4
        "lesson req/s vs a signed-in bare view: 0.45 (goal >= 0.5; 3 rounds, 0.40 to 0.80) SHORT",
        # 0.5, 1.1, 0.6
        "module req/s vs a signed-in bare view: 0.60 (goal >= 0.5; 3 rounds, 0.50 to 1.10) OK",
        # 0.3, 0.5, 0.267
        "My training req/s vs a signed-in bare view: 0.30 "
        "(goal >= 0.5; 3 rounds, 0.27 to 0.50) SHORT",
        # 0.5, 0.1, 0.5
        "signed-in bare view vs anonymous bare view req/s: 0.50 "
        "(goal >= 0.3; 3 rounds, 0.10 to 0.50) OK",
    ]


def test_no_rounds_is_not_measured_not_met():
    goals = ratio_goals([])
    assert len(goals) == len(GOALS)
    assert all(goal.line().endswith("NOT MEASURED") for goal in goals)


def test_every_target_takes_each_place_in_turn():
    names = ["a", "b", "c"]
    orders = [rounds_order(names, number) for number in range(3)]
    assert orders == [["a", "b", "c"], ["b", "c", "a"], ["c", "a", "b"]]
    assert {order[0] for order in orders} == set(names)


def test_the_sign_in_forms_csrf_token_is_read_and_its_absence_is_said():
    page = '<form><input type="hidden" name="csrfmiddlewaretoken" value="abc123XYZ"></form>'
    assert csrf_form_token(page) == "abc123XYZ"
    with pytest.raises(RuntimeError, match="no CSRF token"):
        csrf_form_token("<form></form>")


@override_settings(ROOT_URLCONF="devtools.bench_urls")
def test_the_bench_bare_views_answer_a_signed_in_person_and_anyone(client, user_factory):
    anonymous = client.get("/bench/anonymous/")
    assert anonymous.status_code == 200
    assert anonymous.content.decode() == ANONYMOUS_TEXT

    # Signed out, the signed-in view sends the person to sign in, as any learner page does.
    signed_out = client.get("/bench/signed-in/")
    assert signed_out.status_code == 302
    assert signed_out["Location"].startswith("/accounts/login/")

    client.force_login(user_factory())
    signed_in = client.get("/bench/signed-in/")
    assert signed_in.status_code == 200
    assert signed_in.content.decode() == SIGNED_IN_TEXT
    # The product's pages are still served under the bench's URL conf.
    assert client.get("/my-training/").status_code == 200


def test_the_product_has_no_bench_views(client, site):
    for path in ("/bench/signed-in/", "/bench/anonymous/"):
        try:
            view = resolve(path).func
        except Resolver404:
            view = None
        assert view not in (signed_in_bare, anonymous_bare)
        assert client.get(path).status_code == 404


def test_the_bench_serves_production_settings_with_only_its_url_conf_added():
    probe = (
        "from django.conf import settings; from config.settings import production; "
        "print(settings.DEBUG, settings.ROOT_URLCONF, production.ROOT_URLCONF)"
    )
    result = manage(
        "shell",
        "-c",
        probe,
        env_overrides={**PRODUCTION_ENV, "DJANGO_SETTINGS_MODULE": "devtools.bench_settings"},
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == ["False", "devtools.bench_urls", "config.urls"]
