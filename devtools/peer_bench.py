"""`make bench-peer`: Aware's learner pages beside wagtail-lms 0.11's lesson page (bench/peer/) and
beside two bare views, in requests per second from wrk, each server gunicorn with 2 sync workers.

Both servers run at once on ports picked here, each on its own throwaway PostgreSQL database; wrk
loads one URL at a time, in rounds that rotate the order, so every ratio compares figures taken
moments apart (its median over the rounds is printed beside its goal from issue 17).
"""

import html
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from base64 import b64encode
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from devtools.bench_urls import ANONYMOUS_TEXT, SIGNED_IN_TEXT
from devtools.management.commands.benchmark import Goal

BASE_DIR = Path(__file__).resolve().parent.parent
PEER_DIR = BASE_DIR / "bench" / "peer"
PEER_PYTHON = PEER_DIR / ".venv" / "bin" / "python"
LOG_DIR = BASE_DIR / "var" / "bench-peer"
# As a TLS-terminating proxy in front of gunicorn sends it: production settings redirect plain
# HTTP to HTTPS and mark cookies Secure, and both projects trust this header.
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}
GUNICORN_FLAGS = ["--workers", "2", "--timeout", "120"]
LEARNER_EMAIL = "bench.learner@example.gov.uk"

# (figure, numerator, denominator, goal): each the median over rounds of the round's ratio.
GOALS = [
    ("lesson page req/s vs wagtail-lms 0.11's lesson page", "lesson", "peer lesson", 1.5),
    ("lesson req/s vs a signed-in bare view", "lesson", "signed-in bare", 0.5),
    ("module req/s vs a signed-in bare view", "module", "signed-in bare", 0.5),
    ("My training req/s vs a signed-in bare view", "My training", "signed-in bare", 0.5),
    ("signed-in bare view vs anonymous bare view req/s", "signed-in bare", "anonymous bare", 0.3),
]


@dataclass
class Target:
    """One URL wrk loads: on which server, with whose session, and text that proves the page is
    the one meant (not the sign-in page, not an error)."""

    name: str
    port: int
    path: str
    cookie: str  # "" for none
    expect: list[str]


@dataclass
class WrkResult:
    requests_per_second: float
    requests: int
    bad_responses: int  # non-2xx/3xx answers and socket errors


# PURE PARTS (tests/devtools/test_peer_bench.py)


def wrk_parse(output: str) -> WrkResult:
    """wrk's summary: its Requests/sec line, how many requests, and how many went wrong."""
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    count = re.search(r"^\s*(\d+) requests in ", output, re.MULTILINE)
    if not rate or not count:
        raise ValueError(f"wrk printed no summary:\n{output}")
    bad = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if errors:
        bad += sum(int(n) for n in errors.groups())
    return WrkResult(float(rate.group(1)), int(count.group(1)), bad)


def ratio_goals(rounds: list[dict[str, float]]) -> list[Goal]:
    """Each goal's ratio, taken within each round and then the median over rounds (with the
    rounds' range), beside its goal."""
    goals = []
    for figure, numerator, denominator, minimum in GOALS:
        ratios = [r[numerator] / r[denominator] for r in rounds if r[denominator]]
        if not ratios:
            goals.append(Goal(figure, "not measured", f">= {minimum}", None))
            continue
        middle = statistics.median(ratios)
        measured = f"{middle:.2f}"
        note = f"{len(ratios)} rounds, {min(ratios):.2f} to {max(ratios):.2f}"
        goals.append(Goal(figure, measured, f">= {minimum}", middle >= minimum, note))
    return goals


def rounds_order(names: list[str], round_number: int) -> list[str]:
    """The targets rotated by one each round, so none is always first or always last."""
    shift = round_number % len(names)
    return names[shift:] + names[:shift]


def csrf_form_token(page: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if not match:
        raise RuntimeError("the sign-in page has no CSRF token")
    return match.group(1)


# TALKING TO THE SERVERS


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_get(port: int, path: str, cookie: str = "") -> tuple[int, dict, str]:
    """One GET as wrk sends it (the proxy header, the cookie), redirects not followed."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {**PROXY_HEADERS, "Host": f"127.0.0.1:{port}"}
    if cookie:
        headers["Cookie"] = cookie
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    body = response.read().decode("utf-8", "replace")
    connection.close()
    return response.status, response, body


def cookies_of(response) -> dict[str, str]:
    jar = SimpleCookie()
    for header in response.headers.get_all("Set-Cookie") or []:
        jar.load(header)
    return {name: morsel.value for name, morsel in jar.items()}


def sign_in(port: int, path: str, fields: dict[str, str]) -> str:
    """Sign in through the project's own form, as a browser does; returns the Cookie header."""
    status, response, page = http_get(port, path)
    if status != 200:
        raise RuntimeError(f"the sign-in page {path} answered {status}")
    csrf = cookies_of(response)["csrftoken"]
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = urlencode({"csrfmiddlewaretoken": csrf_form_token(page), **fields})
    connection.request(
        "POST",
        path,
        body=body,
        headers={
            **PROXY_HEADERS,
            "Host": f"127.0.0.1:{port}",
            "Referer": f"https://127.0.0.1:{port}{path}",
            "Cookie": f"csrftoken={csrf}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    response = connection.getresponse()
    response.read()
    connection.close()
    session = cookies_of(response).get("sessionid")
    if response.status != 302 or not session:
        raise RuntimeError(f"signing in at {path} answered {response.status}, no session")
    return f"sessionid={session}"


def target_check(target: Target) -> None:
    """A 200 with the page meant, before any timing: a redirect to sign-in would time the wrong
    page."""
    status, _, body = http_get(target.port, target.path, target.cookie)
    missing = [text for text in target.expect if text not in body]
    if status != 200 or missing:
        raise RuntimeError(
            f"{target.name} ({target.path}) answered {status}, missing {missing}: not timed"
        )


def wrk_run(target: Target, seconds: int) -> WrkResult:
    command = ["wrk", "-t", "1", "-c", "4", "-d", f"{seconds}s"]
    for name, value in PROXY_HEADERS.items():
        command += ["-H", f"{name}: {value}"]
    if target.cookie:
        command += ["-H", f"Cookie: {target.cookie}"]
    command.append(f"http://127.0.0.1:{target.port}{target.path}")
    done = subprocess.run(command, capture_output=True, text=True, check=True)  # noqa: S603
    return wrk_parse(done.stdout)


class Server:
    """A gunicorn process, started in its own process group and stopped by its process id."""

    def __init__(self, name: str, python: Path, app: str, *, cwd: Path, env: dict[str, str]):
        self.name, self.port = name, free_port()
        self.log = LOG_DIR / f"{name}.log"
        gunicorn = [str(python), "-m", "gunicorn", app, "--bind", f"127.0.0.1:{self.port}"]
        self.process = subprocess.Popen(  # noqa: S603
            [*gunicorn, *GUNICORN_FLAGS],
            cwd=cwd,
            env=env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, path: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} server exited: see {self.log}")
            try:
                http_get(self.port, path)
                return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"{self.name} server did not answer in {timeout:.0f} s: see {self.log}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


# THE RUN


def peer_manage(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(  # noqa: S603
        [str(PEER_PYTHON), "manage.py", *args],
        cwd=PEER_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"peer manage.py {args[0]} failed:\n{done.stderr}")
    return done.stdout


def database_url(settings_dict: dict, name: str) -> str:
    auth = settings_dict["USER"] or ""
    if settings_dict["PASSWORD"]:
        auth += f":{settings_dict['PASSWORD']}"
    host = settings_dict["HOST"] or "127.0.0.1"
    port = settings_dict["PORT"] or 5432
    return f"postgres://{auth}@{host}:{port}/{name}"


def aware_seed(password: str) -> dict:
    """A learner (an officer, email verified) assigned the starter modules, in the database this
    process now uses; returns the URLs to time and the first lesson's content for the peer."""
    from allauth.account.models import EmailAddress

    from accounts.models import User
    from training.models import LessonPage
    from training.services.assignments import assignments_sync

    learner = User.objects.create_user(
        email=LEARNER_EMAIL, password=password, full_name="Bench Learner", person_type="officer"
    )
    EmailAddress.objects.create(user=learner, email=LEARNER_EMAIL, verified=True, primary=True)
    assignments_sync(user_ids=[learner.pk])
    module = learner.assignments.order_by("module__path").first().module
    # The refresher opens module 00 but only renewers see it: time the lesson a first-timer reads.
    lesson = (
        LessonPage.objects.child_of(module).live().filter(refresher=False).order_by("path").first()
    )
    body_html = str(lesson.body)
    first_paragraph = re.search(r"<p>[^<]{20,}", body_html).group(0)
    return {
        "module_title": module.title,
        "module_url": module.url,
        "title": lesson.title,
        "slug": lesson.slug,
        "summary": lesson.summary,
        "lesson_url": lesson.url,
        "body_html": body_html,
        "first_paragraph": first_paragraph,
    }


def bench_peer(out, *, rounds: int, seconds: int) -> list[Goal]:
    """Set up both projects, time every target in rotating rounds, stop both; print and return
    the goals. Needs PostgreSQL, wrk and the peer's venv (the Makefile target makes both)."""
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        raise RuntimeError(
            "make bench-peer needs PostgreSQL (both projects run on it): set DATABASE_URL="
            "postgres://USER@HOST:5432/aware; it works in two throwaway databases named after it."
        )
    if not shutil.which("wrk") or not PEER_PYTHON.exists():
        raise RuntimeError("make bench-peer needs wrk and bench/peer/.venv: run it through make")
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    settings_dict = connection.settings_dict
    peer_db = f"{settings_dict['NAME']}_peerbench_lms"
    secret, password = secrets.token_urlsafe(40), secrets.token_urlsafe(16)
    peer_env = {
        "PATH": os.environ["PATH"],
        "PEER_DATABASE_URL": database_url(settings_dict, peer_db),
        "DJANGO_SECRET_KEY": secret,
    }
    started = time.perf_counter()
    with connection._nodb_cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{peer_db}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{peer_db}"')
    # The peer migrates while Aware does.
    peer_migrate = subprocess.Popen(  # noqa: S603
        [str(PEER_PYTHON), "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=PEER_DIR,
        env=peer_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    settings_dict["TEST"]["NAME"] = f"{settings_dict['NAME']}_peerbench"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    servers: list[Server] = []
    try:
        call_command("load_initial_data", stdout=open(os.devnull, "w"))  # noqa: SIM115
        content = aware_seed(password)
        aware_env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "devtools.bench_settings",
            "DATABASE_URL": database_url(settings_dict, settings_dict["NAME"]),
            "DJANGO_SECRET_KEY": secret,
            "AWARE_RECORDS_KEYS": f"bench:{b64encode(secrets.token_bytes(32)).decode()}",
            "AWARE_RECORDS_KEY_ID": "bench",
            "DJANGO_DEBUG": "False",
        }
        # Production's manifest storage: every {% static %} needs the collected files.
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
            cwd=BASE_DIR,
            env=aware_env,
            check=True,
        )
        lesson_file = LOG_DIR / "lesson.json"
        lesson_file.write_text(json.dumps(content))
        if peer_migrate.wait():
            raise RuntimeError(f"the peer's migrate failed:\n{peer_migrate.stderr.read()}")
        peer_lesson = peer_manage(
            "peer_seed",
            "--lesson",
            str(lesson_file),
            "--username",
            "learner",
            "--password",
            password,
            env=peer_env,
        ).strip()
        out.write(f"set up both projects in {time.perf_counter() - started:.0f} s")

        aware = Server(
            "aware", Path(sys.executable), "config.wsgi:application", cwd=BASE_DIR, env=aware_env
        )
        servers.append(aware)
        peer = Server("peer", PEER_PYTHON, "peer.wsgi:application", cwd=PEER_DIR, env=peer_env)
        servers.append(peer)
        aware.wait_ready("/bench/anonymous/")
        peer.wait_ready("/accounts/login/")

        aware_cookie = sign_in(
            aware.port, "/accounts/login/", {"login": LEARNER_EMAIL, "password": password}
        )
        peer_cookie = sign_in(
            peer.port, "/accounts/login/", {"username": "learner", "password": password}
        )
        lesson_texts = [html.escape(content["title"]), content["first_paragraph"]]
        module_title = html.escape(content["module_title"])
        targets = [
            Target("lesson", aware.port, content["lesson_url"], aware_cookie, lesson_texts),
            Target("module", aware.port, content["module_url"], aware_cookie, [module_title]),
            Target("My training", aware.port, "/my-training/", aware_cookie, [module_title]),
            Target(
                "signed-in bare", aware.port, "/bench/signed-in/", aware_cookie, [SIGNED_IN_TEXT]
            ),
            Target("anonymous bare", aware.port, "/bench/anonymous/", "", [ANONYMOUS_TEXT]),
            Target("peer lesson", peer.port, peer_lesson, peer_cookie, lesson_texts),
        ]
        by_name = {target.name: target for target in targets}
        for target in targets:
            target_check(target)
            wrk_run(target, 2)  # warm: each worker's caches and connections
        results: list[dict[str, float]] = []
        for number in range(rounds):
            measured = {}
            for name in rounds_order(list(by_name), number):
                result = wrk_run(by_name[name], seconds)
                if result.bad_responses:
                    raise RuntimeError(f"{name}: {result.bad_responses} bad responses under wrk")
                measured[name] = result.requests_per_second
            results.append(measured)
            out.write(
                f"round {number + 1}/{rounds}: "
                + ", ".join(f"{name} {rate:.0f}" for name, rate in measured.items())
            )
        for target in targets:
            rates = [r[target.name] for r in results]
            out.write(f"{target.name} ({target.path}): median {statistics.median(rates):.0f} req/s")
        for target in targets:
            target_check(target)  # still the page meant, after the load
    finally:
        for server in servers:
            server.stop()
        with connection._nodb_cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{peer_db}" WITH (FORCE)')
        connection.creation.destroy_test_db(old_name, verbosity=0)
    return ratio_goals(results)
