"""The site shell: home page, standard pages, the footer and error pages."""

import datetime
import io

import pytest
from wagtail.models import Page
from wagtail.test.utils import WagtailPageTestCase

from cms.models import HomePage, StandardPage


@pytest.mark.django_db
def test_home_page_is_public_and_links_to_sign_in(client, site):
    response = client.get("/")

    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="en-GB"' in html
    assert 'href="#main-content"' in html
    assert "/accounts/login/" in html


@pytest.mark.django_db
def test_every_footer_links_to_the_accessibility_statement(client, site):
    for path in ["/", "/privacy/", "/accounts/login/"]:
        html = client.get(path).content.decode()
        assert 'href="/accessibility-statement/"' in html, path


@pytest.mark.django_db
def test_accessibility_statement_follows_the_govuk_format(client, site):
    html = client.get("/accessibility-statement/").content.decode()

    for heading in [
        "How accessible this website is",
        "Feedback and contact information",
        "Reporting accessibility problems with this website",
        "Enforcement procedure",
        "Technical information about this website",
        "Compliance status",
        "Preparation of this accessibility statement",
    ]:
        assert heading in html, heading


@pytest.mark.django_db
def test_load_cms_data_replaces_wagtails_welcome_page_once(site):
    from django.core.management import call_command

    call_command("load_cms_data", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert HomePage.objects.count() == 1
    assert site.root_page.specific_class is HomePage
    assert not Page.objects.filter(slug="welcome-placeholder").exists()
    assert StandardPage.objects.filter(slug="accessibility-statement").count() == 1


@pytest.mark.django_db
def test_unknown_page_gets_the_sites_404(client, site):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


class TestPageTree(WagtailPageTestCase):
    def test_home_page_sits_only_at_the_root(self):
        self.assertAllowedParentPageTypes(HomePage, {Page})

    def test_standard_pages_sit_under_home_or_each_other(self):
        self.assertAllowedParentPageTypes(StandardPage, {HomePage, StandardPage})
        self.assertAllowedSubpageTypes(StandardPage, {StandardPage})


@pytest.mark.django_db
def test_report_a_concern_lists_every_route_with_its_verification_date(client, site, user_factory):
    from django.utils.html import escape

    from cms.models import ReportingRoute

    client.force_login(user_factory(email="sam.officer@example.gov.uk"))
    html = client.get("/report-a-concern/").content.decode()

    routes = ReportingRoute.objects.all()
    assert routes.count() >= 17
    for route in routes:
        assert escape(route.name) in html, route.slug
        assert escape(route.contact) in html, route.slug
    assert "08000 121 700" in html
    assert 'href="tel:999"' in html
    assert "Details last verified 1 November 2026" in html


def test_the_councils_own_routes_ship_unset_and_say_so(client, site, user_factory):
    from cms.models import ReportingRoute

    internal = ReportingRoute.objects.filter(is_internal=True)
    assert internal.count() == 6
    assert set(internal.values_list("contact", "last_verified")) == {("", None)}

    client.force_login(user_factory(email="sam.officer@example.gov.uk"))
    html = client.get("/report-a-concern/").content.decode()

    assert html.count("Your council has not added this contact yet.") == 6
    assert "01234 000" not in html
    assert "example.gov.uk" not in html


def test_visitors_see_only_the_council_routes_meant_for_residents(client, site, user_factory):
    """A resident or partner agency reading the public module is pointed to the counter-fraud
    team and safeguarding, not to staff routes such as the MLRO or the whistleblowing line."""
    from django.utils.html import escape

    from cms.models import ReportingRoute

    for_residents = ReportingRoute.objects.filter(is_internal=True, for_residents=True)
    staff_only = ReportingRoute.objects.filter(is_internal=True, for_residents=False)
    assert set(for_residents.values_list("slug", flat=True)) == {
        "counter-fraud-team",
        "safeguarding-front-door",
    }

    html = client.get("/report-a-concern/").content.decode()
    for route in for_residents:
        assert escape(route.name) in html
    for route in staff_only:
        assert escape(route.name) not in html, route.slug
    assert "Report Fraud" in html  # the national routes stay for everyone
    assert 'href="/accounts/login/?next=/report-a-concern/"' in html

    client.force_login(user_factory(email="sam.officer@example.gov.uk"))
    html = client.get("/report-a-concern/").content.decode()
    for route in staff_only:
        assert escape(route.name) in html, route.slug
    assert "?next=/report-a-concern/" not in html


def test_a_route_cannot_be_marked_verified_without_a_contact(site):
    from django.core.exceptions import ValidationError

    from cms.models import ReportingRoute

    route = ReportingRoute.objects.get(slug="mlro")
    route.last_verified = datetime.date(2026, 12, 1)
    with pytest.raises(ValidationError, match="Enter the contact"):
        route.full_clean()
    route.contact = "mlro@ourcouncil.gov.uk"
    route.full_clean()


def test_loading_again_removes_the_placeholders_an_earlier_release_shipped(site):
    from django.core.management import call_command
    from wagtail.models import ModelLogEntry

    from cms.management.commands.load_cms_data import OLD_PLACEHOLDER_NOTE
    from cms.models import ReportingRoute

    placeholder = dict(
        contact="01234 000 001",
        other_contact="counter.fraud@example.gov.uk",
        last_verified=datetime.date(2026, 11, 1),
        verification_note=OLD_PLACEHOLDER_NOTE,
    )
    ReportingRoute.objects.filter(slug="counter-fraud-team").update(**placeholder)
    ReportingRoute.objects.filter(slug="mlro").update(
        **{**placeholder, "contact": "mlro@ourcouncil.gov.uk"}  # an editor's own contact
    )

    out = io.StringIO()
    call_command("load_cms_data", stdout=out)

    fraud = ReportingRoute.objects.get(slug="counter-fraud-team")
    assert (fraud.contact, fraud.other_contact, fraud.last_verified) == ("", "", None)
    assert ReportingRoute.objects.get(slug="mlro").contact == "mlro@ourcouncil.gov.uk"
    assert "shipped placeholder contact was removed" in out.getvalue()
    entry = ModelLogEntry.objects.filter(action="wagtail.edit").latest("timestamp")
    assert "01234 000 001" in str(entry.data["changes"])


@pytest.mark.django_db
def test_an_edited_route_shows_everywhere_at_once(client, site):
    from cms.models import ReportingRoute

    ReportingRoute.objects.filter(slug="counter-fraud-team").update(contact="01234 999 999")

    assert "01234 999 999" in client.get("/report-a-concern/").content.decode()


@pytest.mark.django_db
def test_every_page_header_links_to_report_a_concern(client, site):
    for path in ["/", "/privacy/", "/accounts/login/", "/report-a-concern/"]:
        html = client.get(path).content.decode()
        assert 'class="govuk-header__link" href="/report-a-concern/"' in html, path


@pytest.mark.django_db
def test_search_finds_published_pages_and_handles_no_query(client, site):
    response = client.get("/search/", {"q": "accessibility"})

    assert response.status_code == 200
    assert "Accessibility statement" in response.content.decode()
    assert client.get("/search/").status_code == 200
    assert "0 results" in client.get("/search/", {"q": "zzzqqq"}).content.decode()


@pytest.mark.parametrize(
    "database",
    [pytest.param("any", id="any-database"), pytest.param("pg", marks=pytest.mark.postgres)],
)
def test_search_with_a_nul_character_searches_the_rest(client, site, database):
    response = client.get("/search/", {"q": "accessi\x00bility"})

    assert response.status_code == 200
    assert "Accessibility statement" in response.content.decode()
