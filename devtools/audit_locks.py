"""`make audit`: checks the locked versions against known vulnerabilities (see the README).

Python locks go through pip-audit with PyPI's advisory data (per release, the same data PyPI shows
on a release's page, drawn from the OSV database); package-lock.json goes through `npm audit`,
the npm registry's advisories. It exits 0 only when every locked package was checked and none has
a known vulnerability; 1 when one has; 3 when the database could not be reached or did not answer
for every package, because an audit that checked nothing must never pass.
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LOCKS = ("requirements.lock", "requirements-dev.lock", "package-lock.json")
CANARY = Path(__file__).with_name("audit_canary.lock")

CLEAN = 0
VULNERABLE = 1
NOT_AUDITED = 3

# An advisory that does not apply to Aware, by id, with the reason (`pip-audit --ignore-vuln`).
# Empty: add one only with a reason a reviewer can check, and remove it once a fix is locked.
IGNORED: dict[str, str] = {}

WHAT_TO_DO_VULNERABLE = """\
What to do: raise the package's lower bound in pyproject.toml (or its pin in package.json) to a
fixed version, run `make lock` (or `npm install`), then `make test` and `make audit` again, and
commit the lock with a note of the advisory. If no fixed version exists yet, decide whether Aware
uses the affected feature; only then list the advisory in IGNORED (devtools/audit_locks.py), with
why."""

WHAT_TO_DO_NOT_AUDITED = """\
This is not a pass: those locks were not checked. Run `make audit` again where PyPI's
per-release JSON API (which pip-audit reads) and the npm registry's audit endpoint answer."""


class NotAudited(Exception):
    """The vulnerability database could not be reached, or did not answer for every package."""


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def pip_audit(lock: Path) -> list[dict]:
    """pip-audit's report for one hashed lock: one entry per package, with its vulns.

    Raises NotAudited when PyPI did not answer for every package (pip-audit itself only warns
    and exits 0 when a release's data cannot be had: "Dependency not found on PyPI").
    """
    with tempfile.TemporaryDirectory() as tmp:
        report_path = Path(tmp) / "report.json"
        command = [
            sys.executable,
            "-m",
            "pip_audit",
            "--requirement",
            str(lock),
            "--require-hashes",
            "--disable-pip",
            "--vulnerability-service",
            "pypi",
            "--timeout",
            "10",
            "--progress-spinner",
            "off",
            "--format",
            "json",
            "--output",
            str(report_path),
        ]
        for vuln_id in IGNORED:
            command += ["--ignore-vuln", vuln_id]
        result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        if not report_path.exists() or not report_path.read_text().strip():
            raise NotAudited(f"{lock.name}: pip-audit gave no report: {_last_line(result.stderr)}")
        dependencies = json.loads(report_path.read_text())["dependencies"]
    skipped = [dep for dep in dependencies if "skip_reason" in dep]
    if skipped:
        first = skipped[0]["skip_reason"]
        raise NotAudited(
            f"{lock.name}: PyPI gave no advisory data for {len(skipped)} of "
            f"{len(dependencies)} packages (first: {first})"
        )
    return dependencies


def python_findings(lock: Path) -> tuple[int, list[str]]:
    """How many packages the lock pins, and one line per known vulnerability among them."""
    dependencies = pip_audit(lock)
    findings = []
    for dep in dependencies:
        for vuln in dep["vulns"]:
            fixed = ", ".join(vuln["fix_versions"]) or "no fixed version yet"
            aliases = ", ".join(sorted(vuln.get("aliases", [])))
            also = f" ({aliases})" if aliases else ""
            findings.append(
                f"{lock.name}: {dep['name']} {dep['version']}: {vuln['id']}{also}; fixed in {fixed}"
            )
    return len(dependencies), findings


def npm_findings(package_lock: Path) -> tuple[int, list[str]]:
    """How many packages package-lock.json pins, and one line per vulnerable package."""
    result = subprocess.run(
        ["npm", "audit", "--package-lock-only", "--json"],  # noqa: S607
        cwd=package_lock.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        report = {}
    if "metadata" not in report:
        reason = report.get("message") or _last_line(result.stderr)
        raise NotAudited(f"{package_lock.name}: npm's audit endpoint did not answer: {reason}")
    findings = []
    for name, vuln in sorted(report.get("vulnerabilities", {}).items()):
        advisories = [
            f"{source['title']} {source['url']}"
            for source in vuln["via"]
            if isinstance(source, dict)
        ] or [f"through {', '.join(vuln['via'])}"]
        fix = "a fix is available" if vuln.get("fixAvailable") else "no fix yet"
        findings.append(
            f"{package_lock.name}: {name} {vuln['range']} ({vuln['severity']}): "
            f"{'; '.join(advisories)}; {fix}"
        )
    return report["metadata"]["dependencies"]["total"], findings


def check_canary() -> None:
    """Trusts the database's silence only if it reports a release known to be vulnerable."""
    _, findings = python_findings(CANARY)
    if not findings:
        raise NotAudited(
            "PyPI's advisory data reported nothing for jinja2 2.10, which has published "
            "advisories: the database is not answering as it should"
        )


def audit(paths: list[Path]) -> int:
    """Audits each lock; prints what was checked and what was found. Returns the exit code."""
    findings: list[str] = []
    checked: list[str] = []
    problems: list[str] = []
    python_locks = [path for path in paths if path.suffix != ".json"]
    try:
        if python_locks:
            check_canary()
    except NotAudited as error:
        problems.append(f"PyPI, asked first about the canary (jinja2 2.10): {error}")
        python_locks = []
    for path in paths:
        if path.suffix == ".json":
            audit_one = npm_findings
        elif path in python_locks:
            audit_one = python_findings
        else:
            continue
        try:
            count, found = audit_one(path)
        except NotAudited as error:
            problems.append(str(error))
            continue
        checked.append(f"{path.name} ({count} packages)")
        findings += found

    if checked:
        print(f"Audited {', '.join(checked)}.")
    if findings:
        print(f"FAILED: known vulnerabilities in the locked versions ({len(findings)}):")
        print("\n".join(f"  - {line}" for line in findings))
        print(WHAT_TO_DO_VULNERABLE)
    if problems:
        print("FAILED: the vulnerability database could not be reached or did not answer:")
        print("\n".join(f"  - {line}" for line in problems))
        print(WHAT_TO_DO_NOT_AUDITED)
    if findings:
        return VULNERABLE
    if problems:
        return NOT_AUDITED
    print("No known vulnerabilities in the locked versions.")
    return CLEAN


def main(argv: list[str]) -> int:
    paths = [Path(arg).resolve() for arg in argv] or [ROOT / name for name in DEFAULT_LOCKS]
    return audit(paths)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
