"""Browser tests: a live server, Debian's Chromium, and axe-core from npm."""

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

# How long an expectation waits for the page to come round (Playwright's default is 5 s): the
# whole suite runs in two processes on two cores, where a live server under load, and Wagtail's
# editing-session pings in its admin, can take longer than that to answer.
expect.set_options(timeout=15_000)

ROOT = Path(__file__).resolve().parents[2]
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTEFACTS = ROOT / "test-results" / "axe"

pytestmark = pytest.mark.browser


@pytest.fixture
def axe_check():
    """Run axe-core on the page; fail on serious or critical violations; keep the results."""

    def check(page, name: str) -> list:
        # Evaluated through the DevTools protocol: an injected <script> tag would carry no nonce
        # and the page's Content-Security-Policy would rightly block it.
        page.evaluate(AXE_JS.read_text())
        results = page.evaluate(
            "async () => await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a',"
            " 'wcag21aa', 'wcag22aa', 'best-practice']})"
        )
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        (ARTEFACTS / f"{name}.json").write_text(json.dumps(results, indent=2))
        serious = [
            (v["id"], v["impact"], [n["target"] for n in v["nodes"]])
            for v in results["violations"]
            if v["impact"] in {"serious", "critical"}
        ]
        assert serious == [], f"axe found on {name}: {serious}"
        return results["violations"]

    return check


@pytest.fixture
def live_site(live_server, transactional_db):
    """The live server with the whole site built (live_server tests flush the database after)."""
    from wagtail.models import Site

    from tests.site_snapshot import site_whole_build

    site_whole_build()
    site = Site.objects.get(is_default_site=True)
    site.hostname, site.port = "localhost", live_server.thread.port
    site.save()
    return live_server


@pytest.fixture
def assigned(live_site):
    """Everyone's training assigned from the starter rules, as the nightly sync would."""
    from training.services.assignments import assignments_sync

    assignments_sync()


CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.awareCspViolation({
    disposition: event.disposition,
    directive: event.effectiveDirective,
    blocked: event.blockedURI,
    page: event.documentURI,
    sample: event.sample,
  });
}, true);
"""


@pytest.fixture(autouse=True)
def csp_violations(request):
    """Every Content-Security-Policy violation the browser reports on any page a test opens (the
    securitypolicyviolation event, caught before the page's own scripts run, and any console
    message about the policy). No browser test may have the policy block anything."""
    if "page" not in request.fixturenames:
        yield []
        return
    page = request.getfixturevalue("page")
    violations = []
    page.expose_function("awareCspViolation", lambda violation: violations.append(violation))
    page.add_init_script(CSP_LISTENER)
    page.on(
        "console",
        lambda message: (
            violations.append({"disposition": "console", "text": message.text})
            if "Content Security Policy" in message.text or "Permissions-Policy" in message.text
            else None
        ),
    )
    yield violations
    blocked = [v for v in violations if v["disposition"] == "enforce"]
    assert blocked == [], f"the Content-Security-Policy blocked: {blocked}"
