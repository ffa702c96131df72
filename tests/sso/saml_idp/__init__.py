"""The test SAML identity provider: its own key and certificate, its people, its process (started
on a free port, stopped by its pid), and responses forged with its key (or another) that the real
IdP would never send."""

import base64
import datetime as dt
import json
import subprocess
import sys
import urllib.request
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.workers import ROOT, free_port, port_open, wait_for

from .server import idp_config


def key_and_certificate(directory: Path, name: str) -> str:
    """A new RSA key and self-signed certificate in `directory` (idp.key, idp.crt); the
    certificate in base64 DER, as SAML metadata carries it."""
    directory.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    (directory / "idp.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    (directory / "idp.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "sp").mkdir(exist_ok=True)
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


class SamlIdP:
    """python -m tests.sso.saml_idp in a process of its own."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.entity_id = f"{self.base_url}/metadata"
        self.metadata_url = f"{self.base_url}/metadata"
        self.process: subprocess.Popen | None = None
        key_and_certificate(directory, "Test council IdP")
        self.people({})

    def people(self, people: dict) -> None:
        """Who may sign in: {username: {password, email, given_name, surname, object_id,
        employee_id?, mfa?}}. The IdP reads the file at each sign-in."""
        (self.directory / "people.json").write_text(json.dumps(people))

    def trust_service_provider(self, metadata_xml: bytes, name: str) -> None:
        """Aware's SP metadata, as an administrator would give it to Entra ID."""
        (self.directory / "sp" / f"{name}.xml").write_bytes(metadata_xml)

    def start(self) -> "SamlIdP":
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.sso.saml_idp", str(self.directory), str(self.port)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=(self.directory / "idp.log").open("ab"),
        )
        wait_for(lambda: port_open(self.port), seconds=15, what="the SAML IdP")
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()  # this process only, by its pid
            self.process.wait(timeout=10)
        wait_for(lambda: not port_open(self.port), seconds=10, what="the SAML IdP to stop")

    def metadata(self) -> bytes:
        with urllib.request.urlopen(self.metadata_url, timeout=5) as answer:  # noqa: S310
            return answer.read()

    def server(self, *, key_directory: Path | None = None, entity_id: str | None = None):
        """pysaml2's Server with this IdP's configuration, in this process, to forge responses:
        with another key (key_directory) or under another name (entity_id) if asked."""
        from saml2.server import Server

        return Server(
            config=idp_config(
                self.directory, self.base_url, entity_id=entity_id, keys=key_directory
            )
        )
