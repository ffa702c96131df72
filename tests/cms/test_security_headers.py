"""Content-Security-Policy and Permissions-Policy under production settings: learner pages
enforce a policy whose nonce is on every inline script; the admin areas only report; no template
needs inline styles or handlers; browsers' reports are logged without personal data."""

import base64
import json
import logging
import pickle
import re
from pathlib import Path

import pytest
from django.urls import reverse

from tests.test_guards import PRODUCTION_ENV, ROOT, manage

SECURITY_SETTINGS = [
    "MIDDLEWARE",
    "CONTENT_SECURITY_POLICY",
    "CONTENT_SECURITY_POLICY_REPORT_ONLY",
    "CSP_REPORT_ONLY_PREFIXES",
    "PERMISSIONS_POLICY",
]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)([^>]*)>", re.IGNORECASE)


@pytest.fixture(scope="module")
def production_security_settings() -> dict:
    """The header settings exactly as config.settings.production builds them (in its own
    process: production refuses the test settings' development keys)."""
    code = (
        "import base64, pickle; from django.conf import settings; "
        f"values = {{n: getattr(settings, n, None) for n in {SECURITY_SETTINGS!r}}}; "
        "print(base64.b64encode(pickle.dumps(values)).decode())"
    )
    result = manage("shell", "-c", code, env_overrides=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    return pickle.loads(base64.b64decode(result.stdout.strip().splitlines()[-1]))  # noqa: S301


@pytest.fixture
def production_headers(settings, production_security_settings):
    for name, value in production_security_settings.items():
        if value is not None:
            setattr(settings, name, value)
    settings.SECURE_SSL_REDIRECT = False  # the test client speaks plain HTTP
    return settings


def enforced_policy_and_nonce(response) -> tuple[str, str]:
    policy = response["Content-Security-Policy"]
    [nonce] = re.findall(r"'nonce-([^']+)'", policy)
    return policy, nonce


def directives(policy: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in policy.split("; ")}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/search/?q=fraud"])
def test_public_pages_enforce_a_policy_whose_nonce_is_on_every_inline_script(
    client, site, production_headers, path
):
    response = client.get(path)

    assert response.status_code == 200
    assert "Content-Security-Policy-Report-Only" not in response
    policy, nonce = enforced_policy_and_nonce(response)
    rules = directives(policy)
    assert rules["default-src"] == ["'self'"]
    assert rules["script-src"] == ["'self'", f"'nonce-{nonce}'"]
    assert rules["style-src"] == ["'self'"]
    assert rules["object-src"] == ["'none'"]
    assert rules["frame-ancestors"] == ["'none'"]
    assert rules["base-uri"] == ["'self'"]
    assert rules["form-action"] == ["'self'"]
    assert "'unsafe-inline'" not in policy
    assert "'unsafe-eval'" not in policy
    inline_scripts = INLINE_SCRIPT.findall(response.content.decode())
    assert len(inline_scripts) == 2  # base.html: the js-enabled class, GOV.UK Frontend's start
    for attributes in inline_scripts:
        assert f'nonce="{nonce}"' in attributes
    assert nonce != enforced_policy_and_nonce(client.get(path))[1], "a fresh nonce each time"


@pytest.mark.django_db
def test_a_learners_pages_enforce_the_policy(client, site, production_headers, signed_in_with_mfa):
    signed_in_with_mfa("csp.learner@example.gov.uk")

    response = client.get(reverse("training:my_training"))

    assert response.status_code == 200
    _policy, nonce = enforced_policy_and_nonce(response)
    assert response.content.decode().count(f'nonce="{nonce}"') == 2


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/cms/", "/django-admin/"])
def test_the_admin_areas_only_report(client, site, production_headers, signed_in_with_mfa, path):
    signed_in_with_mfa("csp.admin@example.gov.uk", is_superuser=True, is_staff=True)

    response = client.get(path)

    assert response.status_code == 200
    assert "Content-Security-Policy" not in response
    rules = directives(response["Content-Security-Policy-Report-Only"])
    assert rules["script-src"][0] == "'self'"
    assert rules["frame-ancestors"] == ["'self'"]  # Wagtail's preview is framed by its editor
    assert rules["report-uri"] == ["/csp-report/"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/cms/"])
def test_every_page_denies_devices_location_and_payments(client, site, production_headers, path):
    response = client.get(path, follow=True)

    features = dict(item.split("=", 1) for item in response["Permissions-Policy"].split(", "))
    for feature in ("camera", "microphone", "geolocation", "payment", "usb", "serial", "hid"):
        assert features[feature] == "()", feature
    assert features["fullscreen"] == "(self)"  # lesson videos


def test_production_settings_keep_the_policy_in_the_middleware(production_security_settings):
    middleware = production_security_settings["MIDDLEWARE"]

    assert "cms.middleware.ReportOnlyAdminCSPMiddleware" in middleware
    assert "django_permissions_policy.PermissionsPolicyMiddleware" in middleware
    # After WhiteNoise (static files need no policy), before anything that renders a template.
    assert middleware.index("cms.middleware.ReportOnlyAdminCSPMiddleware") < middleware.index(
        "django.contrib.sessions.middleware.SessionMiddleware"
    )


def test_no_template_needs_inline_styles_handlers_or_scripts_without_a_nonce():
    """Emails excepted (mail clients need inline styles; no policy applies to them)."""
    problems = []
    for template in (ROOT / "templates").rglob("*.html"):
        relative = template.relative_to(ROOT / "templates")
        text = template.read_text()
        if "email" in relative.parts or template.name.endswith("_message.html"):
            continue
        if re.search(r"\sstyle=", text):
            problems.append(f"{relative}: style attribute")
        if re.search(r"<[a-z][^>]*\son[a-z]+=", text, re.IGNORECASE):
            problems.append(f"{relative}: inline event handler")
        for attributes in INLINE_SCRIPT.findall(text):
            if "csp_nonce" not in attributes and "application/json" not in attributes:
                problems.append(f"{relative}: inline script without the nonce")
    assert problems == []


def test_static_javascript_uses_no_eval():
    for script in Path(ROOT).glob("*/static/**/*.js"):
        assert not re.search(r"\beval\(|new Function\(", script.read_text()), script


@pytest.mark.django_db
def test_a_violation_report_is_logged_without_query_strings(client, caplog):
    report = {
        "csp-report": {
            "document-uri": "https://aware.example.gov.uk/search/?q=jane.doe@example.gov.uk",
            "effective-directive": "script-src-elem",
            "blocked-uri": "https://evil.example/x.js?who=jane",
            "disposition": "enforce",
        }
    }
    with caplog.at_level(logging.INFO, logger="cms.views"):
        response = client.post(
            "/csp-report/", json.dumps(report), content_type="application/csp-report"
        )

    assert response.status_code == 204
    [record] = [r for r in caplog.records if r.name == "cms.views"]
    assert record.levelno == logging.WARNING
    message = record.getMessage()
    assert "script-src-elem" in message
    assert "https://evil.example/x.js" in message
    assert "jane" not in message


@pytest.mark.django_db
@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"csp-report": "x"}', b"{}"])
def test_a_bad_report_gets_204_and_logs_nothing(client, caplog, body):
    with caplog.at_level(logging.INFO, logger="cms.views"):
        response = client.post("/csp-report/", body, content_type="application/csp-report")

    assert response.status_code == 204
    assert [r for r in caplog.records if r.name == "cms.views"] == []


@pytest.mark.django_db
def test_an_oversized_report_is_not_read(client, caplog):
    body = json.dumps({"csp-report": {"blocked-uri": "x" * 20_000}})
    with caplog.at_level(logging.INFO, logger="cms.views"):
        response = client.post("/csp-report/", body, content_type="application/csp-report")

    assert response.status_code == 204
    assert [r for r in caplog.records if r.name == "cms.views"] == []


def test_a_report_cannot_be_fetched(client):
    assert client.get("/csp-report/").status_code == 405
