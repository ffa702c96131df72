"""Create the home page, the standing public pages and the council's settings. Idempotent."""

from pathlib import Path

import yaml
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from wagtail.models import Page, Site
from wagtail.rich_text import RichText

from cms.audit import audit_changes, audit_record, audit_snapshot
from cms.models import (
    CouncilSettings,
    HomePage,
    PrivacyNoticePage,
    ReportConcernPage,
    ReportingRoute,
    ReportingRoutes,
    StandardPage,
)

CONTENT_DIR = Path(__file__).resolve().parents[2] / "content"
PRIVACY_SLUG = "privacy"

HOME_INTRO = (
    "<p>Short, practical training that helps council staff and councillors recognise "
    "organised crime and fraud, and report it through the right route.</p>"
)


# What an earlier release shipped for the council's own routes: made-up contacts marked as
# verified. Routes still holding exactly these are reset (an editor's own details are kept).
OLD_PLACEHOLDER_NOTE = "Placeholder: replace with your council's own contact."
OLD_PLACEHOLDER_CONTACTS = {
    "counter-fraud-team": "01234 000 001",
    "safeguarding-front-door": "01234 000 002",
    "whistleblowing-line": "01234 000 003",
    "member-services": "member.services@example.gov.uk",
    "mlro": "mlro@example.gov.uk",
    "modern-slavery-lead": "modern.slavery@example.gov.uk",
}


class Command(BaseCommand):
    help = "Create the site's home page and standing pages if they are missing."

    @transaction.atomic
    def handle(self, *args, **options):
        home = self.ensure_home_page()
        created = 0
        for spec in yaml.safe_load((CONTENT_DIR / "standard_pages.yaml").read_text()):
            if home.get_children().filter(slug=spec["slug"]).exists():
                continue
            page = StandardPage(
                title=spec["title"],
                slug=spec["slug"],
                summary=spec["summary"],
                body=[("rich_text", RichText(spec["body"]))],
                last_reviewed=timezone.localdate(),
                show_in_menus=False,
            )
            home.add_child(instance=page)
            page.save_revision().publish()
            created += 1
        site = Site.objects.get(is_default_site=True)
        CouncilSettings.for_site(site)
        routes_added = self.ensure_reporting_routes(site)
        self.ensure_report_concern_page(home)
        self.ensure_privacy_notice(home)
        self.stdout.write(
            f"Site: home page ready, {created} standard page(s) and {routes_added} reporting "
            "route(s) created."
        )

    def ensure_reporting_routes(self, site: Site) -> int:
        """Add shipped routes whose slug is missing; never touch one an editor has changed.

        A council route still holding the placeholder an earlier release shipped (a made-up
        number stamped "verified") is reset to "not set up yet".
        """
        setting = ReportingRoutes.for_site(site)
        existing = {route.slug: route for route in setting.routes.all()}
        specs = yaml.safe_load((CONTENT_DIR / "reporting_routes.yaml").read_text())
        added = 0
        for order, spec in enumerate(specs):
            if spec["slug"] not in existing:
                existing[spec["slug"]] = ReportingRoute.objects.create(
                    setting=setting, sort_order=order, **spec
                )
                added += 1
        before = audit_snapshot(setting)
        for spec in specs:
            route = existing[spec["slug"]]
            if (
                route.verification_note == OLD_PLACEHOLDER_NOTE
                and route.contact == OLD_PLACEHOLDER_CONTACTS.get(route.slug)
            ):
                route.contact, route.other_contact = spec["contact"], spec["other_contact"]
                route.last_verified, route.verification_note = None, spec["verification_note"]
                route.save()
                self.stdout.write(
                    f"Reporting route “{route.name}”: the shipped placeholder contact was "
                    "removed; it shows as not set up until an editor enters the council's own."
                )
        changes = audit_changes(before=before, after=audit_snapshot(setting))
        if changes:
            audit_record(instance=setting, action="wagtail.edit", changes=changes)
        return added

    def ensure_report_concern_page(self, home: HomePage) -> None:
        if ReportConcernPage.objects.exists():
            return
        page = ReportConcernPage(
            title="Report a concern",
            slug="report-a-concern",
            intro="<p>You do not need proof. Write down what you saw, then report it through "
            "one of these routes. <b>Do not investigate or confront anyone yourself.</b></p>",
        )
        home.add_child(instance=page)
        page.save_revision().publish()

    def ensure_privacy_notice(self, home: HomePage) -> None:
        """The privacy notice page, at /privacy/. It replaces the plain page an earlier release
        shipped there if no editor has changed it (one revision); an edited one is kept, and
        the command says so."""
        if PrivacyNoticePage.objects.exists():
            return
        shipped = StandardPage.objects.child_of(home).filter(slug=PRIVACY_SLUG).first()
        if shipped is not None:
            if shipped.revisions.count() > 1:
                self.stdout.write(
                    "An edited privacy page is at /privacy/, so the privacy notice (which shows "
                    "the live retention periods) was not added: move its text into a new "
                    "“Privacy notice” page and delete the old one."
                )
                return
            shipped.delete()
        page = PrivacyNoticePage(
            title="Privacy notice", slug=PRIVACY_SLUG, last_reviewed=timezone.localdate()
        )
        home.add_child(instance=page)
        page.save_revision().publish()

    def ensure_home_page(self) -> HomePage:
        """Replace Wagtail's placeholder welcome page with Aware's home page, once."""
        home = HomePage.objects.first()
        if home is None:
            root = Page.get_first_root_node()
            placeholder = root.get_children().filter(slug="home").first()
            if placeholder is not None:
                placeholder.slug = "welcome-placeholder"
                placeholder.save(update_fields=["slug"])
            home = HomePage(
                title="Recognise organised crime and fraud. Report it the right way.",
                slug="home",
                intro=HOME_INTRO,
            )
            root.add_child(instance=home)
            home.save_revision().publish()
            site = Site.objects.filter(is_default_site=True).first()
            if site is None:
                Site.objects.create(
                    hostname="localhost",
                    port=80,
                    root_page=home,
                    is_default_site=True,
                    site_name="Aware",
                )
            else:
                site.root_page = home
                site.site_name = "Aware"
                site.save()
            if placeholder is not None:
                placeholder.delete()
        return home
