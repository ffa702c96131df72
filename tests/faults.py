"""Real parts that fail on purpose: our own Redis server (stopped by its pid) and SMTP servers
that refuse, answer with an error or accept, each on a free loopback port."""

import logging
import shutil
import socket
import subprocess
import time
from email import message_from_bytes
from email.message import Message

import redis
from aiosmtpd.controller import Controller

from tests.conftest import skip_unless

# aiosmtpd logs every envelope (addresses included) at INFO, from its own thread, sometimes
# after a test's captured output has closed: keep only its warnings.
logging.getLogger("mail.log").setLevel(logging.WARNING)


def free_port() -> int:
    """A loopback port nothing listens on (nothing will, unless a test starts something)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class RedisServer:
    """A redis-server of our own on a free port, without persistence; `stop()` kills it by pid."""

    def __init__(self, port: int | None = None):
        skip_unless(shutil.which("redis-server") is not None, "redis-server is not installed")
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not port_answers(self.port):
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.02)

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


class Mailbox:
    """aiosmtpd handler: answers each message with `reply` when set (e.g. "451 4.3.0 Try again
    later"), otherwise accepts it and keeps it; refuses the addresses in `unknown` (550)."""

    def __init__(self, reply: str | None = None, unknown: frozenset[str] = frozenset()):
        self.reply = reply
        self.unknown = unknown
        self.messages: list[Message] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if address in self.unknown:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.reply:
            return self.reply
        self.messages.append(message_from_bytes(envelope.content))
        return "250 2.0.0 Queued"


class SMTPServer:
    """A real SMTP server (aiosmtpd) on a loopback port, in a thread."""

    def __init__(self, port: int | None = None, *, reply: str | None = None, unknown=frozenset()):
        self.port = port or free_port()
        self.mailbox = Mailbox(reply, frozenset(unknown))
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        self.running = True

    @property
    def messages(self) -> list[Message]:
        return self.mailbox.messages

    def stop(self) -> None:
        if self.running:
            self.running = False
            self.controller.stop()
