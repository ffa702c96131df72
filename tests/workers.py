"""Real processes for fault tests: our own redis-server (stopped by its pid, never the shared
one), a Celery worker in its own process (killed by its pid), an SMTP server that can hold a
message before answering, and a port that counts the connections made to it."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parent.parent


def database_url() -> str:
    """The URL of the test database this process uses, for a worker process to use too."""
    from django.db import connection

    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def smtp_settings(settings, port: int) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 10
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition, *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what} after {seconds} s")
        time.sleep(0.1)


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class RedisServer:
    """A redis-server of our own on a port of its own, in memory only."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: port_open(self.port), seconds=10, what="redis-server")
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()  # this process only, by its pid
            self.process.wait(timeout=10)
        wait_for(lambda: not port_open(self.port), seconds=10, what="redis-server to stop")


class CeleryWorker:
    """`celery worker` in a process of its own, on the test database and the given broker,
    sending mail to the given SMTP port (settings: tests.worker_settings, or `settings`)."""

    def __init__(
        self,
        *,
        broker_url: str,
        database_url: str,
        smtp_port: int,
        log: Path,
        settings: str = "tests.worker_settings",
        name: str = "fault",
        env: dict[str, str] | None = None,
    ):
        self.env = {
            **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
            "DJANGO_SETTINGS_MODULE": settings,
            "REDIS_URL": broker_url,
            "DATABASE_URL": database_url,
            "AWARE_TEST_SMTP_PORT": str(smtp_port),
            **(env or {}),
        }
        self.name = name
        self.log = log
        self.process: subprocess.Popen | None = None

    def arguments(self) -> list[str]:
        return [
            *("worker", "--pool=solo", "--concurrency=1", "--without-heartbeat"),
            *("--without-gossip", "--without-mingle", "--loglevel=INFO"),
            f"--hostname={self.name}-{os.getpid()}@%h",
        ]

    def start(self) -> "CeleryWorker":
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config.celery_app", *self.arguments()],
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )
        return self

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        """A warm shutdown (SIGTERM): a worker finishes the task in hand."""
        if self.process and self.process.poll() is None:
            self.process.terminate()  # this process only, by its pid
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        """kill -9, as the OOM killer or a pulled plug would."""
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


class CeleryBeat(CeleryWorker):
    """`celery beat` with the project's database scheduler (django-celery-beat)."""

    def arguments(self) -> list[str]:
        return ["beat", "--loglevel=INFO", f"--pidfile={self.log.with_suffix('.pid')}"]


class HoldingInbox:
    """An aiosmtpd handler that keeps what it is sent; it can hold the reply to one message
    (the server has the message, the client is still waiting for the 250)."""

    def __init__(self, *, hold_at: int | None = None):
        self.messages: list = []
        self.hold_at = hold_at  # the number of the message to hold, counting from 1
        self.holding = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        import asyncio

        self.messages.append(envelope)
        if len(self.messages) == self.hold_at:
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
        return "250 OK: queued"

    def recipients(self) -> list[str]:
        return sorted(r for envelope in self.messages for r in envelope.rcpt_tos)


class SmtpServer:
    def __init__(self, inbox: HoldingInbox):
        self.inbox = inbox
        self.port = free_port()
        self.controller = Controller(inbox, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> "SmtpServer":
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.inbox.release.set()
        self.controller.stop()


class CountingPort:
    """A port that accepts connections, counts them and hangs up: a broker that is not there."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            connection.close()

    def __enter__(self) -> "CountingPort":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.listener.close()
