"""Wagtail's own accessibility checker finds nothing on any page of the starter content.

The rules, their options and the custom rule and check specs come from Wagtail's own userbar
item (AccessibilityItem, as the userbar builds it, hooks included) for a request by the person
browsing, so the test follows Wagtail upgrades. The custom checks' JavaScript (alt-text-quality
and the rest) lives only in Wagtail's userbar bundle: signed in as an editor, every page loads
that bundle, which puts its own axe-core on window.axe and configures Wagtail's checks there. The
test waits for the userbar's own run to finish (two runs at once would clash), then runs that
same axe with the configuration from Python and keeps the full results.
"""

import json
import re

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from playwright.sync_api import expect

from tests.browser.conftest import ARTEFACTS
from tests.browser.mfa import sign_in_with_mfa

pytestmark = pytest.mark.browser
EDITOR = "editor@example.gov.uk"


def wagtail_axe_configuration(user, page) -> dict:
    """What Wagtail's userbar would hand axe-core for this person on this page."""
    from django.test import RequestFactory
    from wagtail.admin.userbar import AccessibilityItem, apply_userbar_hooks

    request = RequestFactory().get(page.url)
    request.user = user
    items = [AccessibilityItem()]
    apply_userbar_hooks(request, items, page)
    (checker,) = [item for item in items if isinstance(item, AccessibilityItem)]
    # The messages are lazy translations: make them plain strings for the browser and the report.
    return json.loads(json.dumps(checker.get_axe_configuration(request), cls=DjangoJSONEncoder))


def test_wagtails_checker_finds_no_errors_on_any_starter_page(live_site, page, axe_check):
    from wagtail.models import Page

    from accounts.models import User
    from cms.models import ReportConcernPage, StandardPage
    from training.models import LessonPage, ModulePage

    assert ModulePage.objects.live().count() == 17
    assert LessonPage.objects.live().count() == 115  # 16 of them refreshers
    assert ReportConcernPage.objects.live().exists()
    assert StandardPage.objects.live().filter(slug="accessibility-statement").exists()
    pages = list(Page.objects.live().filter(depth__gt=1).specific().order_by("path"))
    editor = User.objects.get(email=EDITOR)
    sign_in_with_mfa(page, live_site.url, EDITOR, axe_check, "wagtail")

    out = ARTEFACTS / "wagtail-checker"
    out.mkdir(parents=True, exist_ok=True)
    problems = []
    for wagtail_page in pages:
        url = wagtail_page.get_url()
        config = wagtail_axe_configuration(editor, wagtail_page)
        response = page.goto(f"{live_site.url}{url}")
        assert response.ok, f"{url} answered {response.status}"
        # The userbar shows its count once its own run is over; then axe is free and configured.
        expect(page.locator("wagtail-userbar [data-content-checker-count]").first).to_have_text(
            re.compile(r"^\d+$")
        )
        results = page.evaluate(
            "async ({context, options}) => await window.axe.run(context, options)", config
        )
        ran = {
            rule["id"]
            for key in ("passes", "violations", "incomplete", "inapplicable")
            for rule in results[key]
        }
        assert set(config["options"]["runOnly"]) <= ran, f"{url}: not every Wagtail rule ran"
        name = url.strip("/").replace("/", "--") or "home"
        (out / f"{name}.json").write_text(json.dumps(results, indent=2))
        for violation in results["violations"]:
            message = config["messages"].get(violation["id"], {}).get("error_name", "")
            targets = [" ".join(node["target"]) for node in violation["nodes"]]
            problems.append(
                f"{url}: {violation['id']} ({message or violation['help']}) on "
                f"{len(targets)} element(s), e.g. {targets[:3]}"
            )

    assert len(pages) >= 17 + 115 + 4
    assert problems == [], "Wagtail's accessibility checker found:\n" + "\n".join(problems)
