"""The test OpenID Connect provider (tests/sso/oidc_idp/) in a process of its own: set up,
started on a free port, switched to misbehave through its control file, stopped by its pid."""

import json
import os
import secrets
import subprocess
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.workers import ROOT, free_port, wait_for


@dataclass
class IdpUser:
    email: str
    password: str
    name: str
    email_verified: bool = True
    claims: dict = field(default_factory=dict)  # extra ID token claims: employeeid, amr


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 (our own http)
            return response.status == 200
    except OSError:
        return False


class OidcProvider:
    CLIENT_ID = "aware-test-client"

    def __init__(self, *, workdir: Path, users: list[IdpUser], redirect_uris: list[str]):
        self.workdir = workdir
        self.users = users
        self.redirect_uris = redirect_uris
        self.port = free_port()
        self.client_secret = secrets.token_urlsafe(24)
        self.process: subprocess.Popen | None = None
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        (workdir / "key.pem").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE"))},
            "DJANGO_SETTINGS_MODULE": "tests.sso.oidc_idp.settings",
            "IDP_SECRET_KEY": secrets.token_urlsafe(32),
            "IDP_DB": str(workdir / "idp.sqlite3"),
            "IDP_PRIVATE_KEY": str(workdir / "key.pem"),
            "IDP_CONTROL": str(workdir / "control.json"),
        }
        self.set_mode("normal")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def set_mode(self, mode: str, **extra) -> None:
        """How the running provider behaves from its next request (see oidc_idp/misbehave.py)."""
        claims = {user.email: user.claims for user in self.users}
        control = {"mode": mode, "claims": claims, **extra}
        (self.workdir / "control.json").write_text(json.dumps(control))

    def _run(self, *args: str, stdin: str | None = None) -> str:
        return subprocess.run(
            [sys.executable, *args],
            cwd=ROOT,
            env=self.env,
            input=stdin,
            text=True,
            check=True,
            capture_output=True,
        ).stdout

    def start(self) -> "OidcProvider":
        self._run("-m", "django", "migrate", "--no-input", "-v", "0")
        users = [
            {
                "email": u.email,
                "password": u.password,
                "name": u.name,
                "email_verified": u.email_verified,
            }
            for u in self.users
        ]
        client = {
            "id": self.CLIENT_ID,
            "secret": self.client_secret,
            "redirect_uris": self.redirect_uris,
        }
        seeded = self._run(
            "-m", "tests.sso.oidc_idp.seed", stdin=json.dumps({"users": users, "client": client})
        )
        self.subjects: dict[str, str] = json.loads(seeded)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "django", "runserver", f"127.0.0.1:{self.port}", "--noreload"],
            cwd=ROOT,
            env=self.env,
            stdout=(self.workdir / "idp.log").open("w"),
            stderr=subprocess.STDOUT,
        )
        wait_for(
            lambda: _answers(f"{self.url}/.well-known/openid-configuration"),
            seconds=20,
            what="the test OpenID Connect provider",
        )
        return self

    def allow_redirect_uri(self, uri: str) -> None:
        """Register one more of Aware's callback URLs (a live server's) with the client."""
        self._run("-m", "tests.sso.oidc_idp.seed", "--redirect-uri", uri)

    def sign_in(self, authorize_url: str, *, email: str, password: str, until: str) -> str:
        """What a person's browser does at the provider: follow Aware's redirect to it, sign in
        on its login page, and come back. Returns the URL it sends them to (Aware's callback,
        starting `until`), without opening it."""
        session = requests.Session()
        url = authorize_url
        for _ in range(10):
            if url.startswith(until):
                return url
            response = session.get(url, allow_redirects=False, timeout=10)
            if response.status_code == 200 and "/accounts/login/" in response.url:
                token = session.cookies["idp_csrftoken"]
                form = {"login": email, "password": password, "csrfmiddlewaretoken": token}
                response = session.post(response.url, data=form, allow_redirects=False, timeout=10)
            assert response.status_code in (301, 302), (response.status_code, response.text[:500])
            url = urljoin(response.url, response.headers["Location"])
        raise AssertionError(f"the provider never sent the browser back to {until}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()  # this process only, by its pid
            self.process.wait(timeout=10)
