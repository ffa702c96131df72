"""A stand-in for PyPI's per-release JSON API on loopback, for the audit's tests: the real one is
out of this machine's reach. pip-audit reaches it through HTTPS_PROXY (a CONNECT proxy here that
answers for every host with a certificate from a throwaway authority, trusted through
REQUESTS_CA_BUNDLE), so the real pip-audit and the real `make audit` script run end to end."""

import datetime
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _certificate_files(directory: Path) -> tuple[Path, Path, Path]:
    """A throwaway authority, and a certificate from it for pypi.org: (ca, cert, key) files."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "audit test authority")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pypi.org")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("pypi.org")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = directory / "ca.pem", directory / "cert.pem", directory / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


def _release_json(path: str, advisories: dict[str, list[dict]]) -> bytes | None:
    """PyPI's answer for /pypi/<name>/<version>/json, with `advisories` keyed "name==version"
    (none for a release not listed; None answers 404, as this machine's proxy does)."""
    parts = path.strip("/").split("/")
    if len(parts) != 4 or parts[0] != "pypi" or parts[3] != "json":
        return None
    name, version = parts[1], parts[2]
    vulnerabilities = advisories.get(f"{name}=={version}", [])
    if vulnerabilities is None:
        return None
    body = {
        "info": {"name": name, "version": version},
        "urls": [],
        "vulnerabilities": vulnerabilities,
    }
    return json.dumps(body).encode()


def _serve(client: socket.socket, context: ssl.SSLContext, advisories: dict) -> None:
    with client:
        request = client.recv(65536)
        if not request.startswith(b"CONNECT "):
            return
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        with context.wrap_socket(client, server_side=True) as tls:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = tls.recv(65536)
                if not chunk:
                    return
                head += chunk
            path = head.split(b" ", 2)[1].decode()
            body = _release_json(path, advisories)
            status = b"200 OK" if body is not None else b"404 Not Found"
            body = body or b""
            tls.sendall(
                b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\n"
                b"Cache-Control: no-store\r\nConnection: close\r\n"
                b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
            )


@contextmanager
def advisory_server(directory: Path, advisories: dict[str, list[dict] | None]) -> Iterator[dict]:
    """Serves `advisories` as PyPI would; yields the environment that sends pip-audit to it."""
    ca, cert, key = _certificate_files(directory)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stopping = threading.Event()

    def accept_loop():
        while not stopping.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            client.settimeout(10)
            threading.Thread(target=_serve, args=(client, context, advisories)).start()

    thread = threading.Thread(target=accept_loop)
    thread.start()
    proxy = f"http://127.0.0.1:{listener.getsockname()[1]}"
    try:
        yield {
            "HTTPS_PROXY": proxy,
            "https_proxy": proxy,
            "NO_PROXY": "",
            "no_proxy": "",
            "REQUESTS_CA_BUNDLE": str(ca),
        }
    finally:
        stopping.set()
        thread.join()
        listener.close()
