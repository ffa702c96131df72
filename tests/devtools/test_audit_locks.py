"""Supply chain: the locks pin every package with its hashes, every install checks them, and
`make audit` fails on a known vulnerability and when its vulnerability database is out of reach."""

import os
import re
import socket
import subprocess
import sys
import tempfile

import pytest

from tests.devtools.advisory_server import advisory_server
from tests.test_guards import ROOT

LOCKS = ["requirements.lock", "requirements-dev.lock"]
# Jinja2 2.10's advisory as PyPI publishes it (the audit's canary pins that release).
JINJA2_2_10_ADVISORY = {
    "id": "PYSEC-2019-217",
    "aliases": ["CVE-2019-10906", "GHSA-462w-v97r-4m45"],
    "fixed_in": ["2.10.1"],
    "summary": "In Pallets Jinja before 2.10.1, str.format_map allows a sandbox escape.",
    "withdrawn": None,
}
HASHED_PIN = re.compile(r"[a-z0-9._-]+(\[[a-z0-9,_-]+\])?==\S+( --hash=sha256:[0-9a-f]{64})+")


def locked_requirements(lock: str) -> list[str]:
    """Each requirement of a lock as one line (continuations joined), comments left out."""
    text = (ROOT / lock).read_text().replace("\\\n", " ")
    lines = (" ".join(line.split("#", 1)[0].split()) for line in text.splitlines())
    return [line for line in lines if line]


def run_audit(*paths: str, env_overrides: dict[str, str] | None = None):
    """`make audit`'s command, with an HTTP cache of its own: no answer from an earlier run."""
    with tempfile.TemporaryDirectory() as cache:
        env = {
            **os.environ,
            "XDG_CACHE_HOME": cache,
            "PIP_CACHE_DIR": cache,
            **(env_overrides or {}),
        }
        return subprocess.run(
            [sys.executable, "-m", "devtools.audit_locks", *paths],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


@pytest.mark.parametrize("lock", LOCKS)
def test_every_locked_package_is_pinned_to_one_version_with_its_hashes(lock):
    requirements = locked_requirements(lock)
    unhashed = [line.split()[0] for line in requirements if not HASHED_PIN.fullmatch(line)]

    assert len(requirements) > 50
    assert unhashed == []


def test_every_install_from_a_lock_checks_its_hashes():
    installs = [
        line.strip()
        for name in ["Makefile", "Dockerfile"]
        for line in (ROOT / name).read_text().splitlines()
        if "pip install" in line and ".lock" in line
    ]

    assert len(installs) == 2
    assert [line for line in installs if "--require-hashes" not in line] == []


def test_audit_fails_with_a_clear_message_when_the_vulnerability_database_cannot_be_reached():
    with socket.socket() as probe:  # a port nothing listens on: every connection is refused
        probe.bind(("127.0.0.1", 0))
        refusing = f"http://127.0.0.1:{probe.getsockname()[1]}"
    proxy = {"HTTPS_PROXY": refusing, "https_proxy": refusing, "npm_config_fetch_retries": "0"}

    result = run_audit("requirements.lock", "package-lock.json", env_overrides=proxy)

    assert result.returncode == 3, result.stdout + result.stderr
    assert "FAILED: the vulnerability database could not be reached" in result.stdout
    assert "This is not a pass: those locks were not checked" in result.stdout
    assert "package-lock.json: npm's audit endpoint did not answer" in result.stdout
    assert "No known vulnerabilities" not in result.stdout


def test_audit_fails_on_a_locked_version_with_a_known_vulnerability(tmp_path):
    advisories = {"jinja2==2.10": [JINJA2_2_10_ADVISORY]}
    with advisory_server(tmp_path, advisories) as to_the_stand_in:
        result = run_audit("devtools/audit_canary.lock", env_overrides=to_the_stand_in)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAILED: known vulnerabilities in the locked versions (1):" in result.stdout
    assert (
        "audit_canary.lock: jinja2 2.10: PYSEC-2019-217 (CVE-2019-10906, GHSA-462w-v97r-4m45); "
        "fixed in 2.10.1"
    ) in result.stdout
    assert "raise the package's lower bound in pyproject.toml" in result.stdout


def test_audit_passes_when_every_locked_package_was_checked_and_none_is_vulnerable(tmp_path):
    advisories = {"jinja2==2.10": [JINJA2_2_10_ADVISORY]}
    with advisory_server(tmp_path, advisories) as to_the_stand_in:
        result = run_audit("requirements.lock", env_overrides=to_the_stand_in)

    packages = len(locked_requirements("requirements.lock"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Audited requirements.lock ({packages} packages)." in result.stdout
    assert "No known vulnerabilities in the locked versions." in result.stdout


def test_audit_fails_when_the_database_has_no_data_for_a_locked_package(tmp_path):
    """As here: PyPI's index answers, its per-release JSON answers 404; pip-audit alone exits 0."""
    django = next(
        line for line in locked_requirements("requirements.lock") if line.startswith("django==")
    )
    advisories = {"jinja2==2.10": [JINJA2_2_10_ADVISORY], django.split()[0]: None}
    with advisory_server(tmp_path, advisories) as to_the_stand_in:
        result = run_audit("requirements.lock", env_overrides=to_the_stand_in)

    assert result.returncode == 3, result.stdout + result.stderr
    assert "requirements.lock: PyPI gave no advisory data for 1 of " in result.stdout
    assert "This is not a pass" in result.stdout
    assert "No known vulnerabilities" not in result.stdout


def test_audit_fails_when_the_database_does_not_know_the_canary(tmp_path):
    """An empty or stale copy of the database reports nothing: its silence proves nothing."""
    with advisory_server(tmp_path, {}) as to_the_stand_in:
        result = run_audit("requirements.lock", env_overrides=to_the_stand_in)

    assert result.returncode == 3, result.stdout + result.stderr
    assert "reported nothing for jinja2 2.10, which has published advisories" in result.stdout
    assert "No known vulnerabilities" not in result.stdout
