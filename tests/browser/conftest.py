"""Browser tests: a live server, Debian's Chromium, and axe-core from npm."""

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTEFACTS = ROOT / "test-results" / "axe"

pytestmark = pytest.mark.browser


@pytest.fixture
def axe_check():
    """Run axe-core on the page; fail on serious or critical violations; keep the results."""

    def check(page, name: str) -> list:
        page.add_script_tag(path=str(AXE_JS))
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
    """The live server with the site tree built (live_server tests flush the database after)."""
    from django.conf import settings
    from django.contrib.contenttypes.models import ContentType
    from django.core.management import call_command
    from wagtail.models import Collection, Locale, Page, Site

    ContentType.objects.clear_cache()
    # A live_server test flushes the database afterwards, taking the rows Wagtail's migrations
    # made with it; put them back.
    Locale.objects.get_or_create(language_code=settings.LANGUAGE_CODE)
    if Page.get_first_root_node() is None:
        Page.add_root(instance=Page(title="Root", slug="root"))
    if Collection.get_first_root_node() is None:
        Collection.add_root(name="Root")
    call_command("load_initial_data", stdout=open(os.devnull, "w"))  # noqa: SIM115
    site = Site.objects.get(is_default_site=True)
    site.hostname, site.port = "localhost", live_server.thread.port
    site.save()
    return live_server
