"""Every figure of the compliance overview leads to the people behind it (issue 18), for those
allowed to see them; and the report reads well (whole chart labels, its name as the heading)."""

import html as html_lib
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import module_with_lessons
from tests.training.test_reports import council_fixture  # noqa: F401 - the small council
from training.reports.charts import LABEL_CHARS, LABEL_WIDTH, bar_chart
from training.reports.figures import ComplianceRow

pytestmark = pytest.mark.django_db

FIGURE_LINK = re.compile(r'<a href="(/cms/aware-reports/figure/\?[^"]+)">(\d+)<span')
PERSON_ROW = '<th scope="row"><a href="/cms/aware-reports/people/'


def figure_links(page: str) -> list[tuple[str, int]]:
    return [(html_lib.unescape(url), int(n)) for url, n in FIGURE_LINK.findall(page)]


def people_behind(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def test_every_figure_lists_as_many_people_as_it_counts(client, council, signed_in):
    signed_in("HR")
    page = client.get("/cms/aware-reports/compliance/").content.decode()

    links = figure_links(page)

    # Two modules, each in every section (all, 6 departments rows, 2 audiences, 3 types).
    assert len(links) > 40
    for url, n in links:
        assert people_behind(client, url).count(PERSON_ROW) == n, url


def test_a_figure_names_what_it_counted_and_the_people(client, council, signed_in):
    signed_in("HR")
    fraud = council["modules"]["fraud"]
    housing = council["departments"]["housing"]
    url = f"/cms/aware-reports/figure/?module={fraud.pk}&department={housing.pk}&category=exempt"

    page = people_behind(client, url)

    assert "Exempt, Fraud basics, Neighbourhoods &gt; Housing." in page
    assert "Person h3" not in page  # exempt from cuckooing, not from fraud basics
    cuckooing = council["modules"]["cuckooing"]
    page = people_behind(client, url.replace(f"module={fraud.pk}", f"module={cuckooing.pk}"))
    assert "Person h3" in page
    assert "h3@example.gov.uk" in page


def test_the_overview_filters_carry_into_the_figures(client, council, signed_in):
    signed_in("HR")
    page = client.get("/cms/aware-reports/compliance/?person_type=councillor").content.decode()

    for url, n in figure_links(page):
        assert "person_type=councillor" in url
        listed = people_behind(client, url)
        assert listed.count(PERSON_ROW) == n
        assert "Person h1" not in listed


def test_a_zero_is_not_a_link(client, council, signed_in):
    signed_in("HR")
    page = client.get("/cms/aware-reports/compliance/").content.decode()
    assert "<td>0</td>" in page
    assert all(n > 0 for _url, n in figure_links(page))


def test_member_services_follows_councillor_figures_to_councillors_only(client, council, signed_in):
    signed_in("Member Services", email="members.person@example.gov.uk")
    page = client.get("/cms/aware-reports/councillors/").content.decode()

    links = figure_links(page)

    assert links
    for url, n in links:
        assert "councillors=1" in url
        listed = people_behind(client, url)
        assert listed.count(PERSON_ROW) == n
        assert "Person h1" not in listed
    # Without the councillors flag (or with any other filter) it stays councillors only.
    listed = people_behind(client, "/cms/aware-reports/figure/?person_type=officer")
    assert "Person c1" in listed
    assert "Person h1" not in listed
    assert "Person l1" not in listed


def test_people_who_may_not_see_people_are_refused(client, council, signed_in):
    signed_in("Content editors", email="editor.person@example.gov.uk")
    response = client.get("/cms/aware-reports/figure/?category=overdue")
    assert response.status_code in (302, 403)
    assert b"Person" not in response.content


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("category=everyone", "a column the report does not have"),
        ("department=999999", "a department that no longer exists"),
        ("module=999999", "no longer match the report"),
        ("due_from=2026-13-40", "no longer match the report"),
    ],
)
def test_a_broken_figure_link_says_so_and_lists_nobody(client, council, signed_in, query, message):
    signed_in("HR")
    page = people_behind(client, f"/cms/aware-reports/figure/?{query}")
    assert message in page
    assert PERSON_ROW not in page


def test_people_with_no_department_have_their_own_figure(client, council, signed_in):
    signed_in("HR")
    page = people_behind(client, "/cms/aware-reports/figure/?department=none")
    assert "Person c1" in page
    assert "Person h1" not in page


def test_a_figure_page_takes_the_same_queries_however_many_people(
    client, council, signed_in, user_factory
):
    from training.services.assignments import assignments_sync

    signed_in("HR")
    url = "/cms/aware-reports/figure/?category=not_started"

    def count() -> int:
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    before = count()
    for n in range(30):
        user_factory(email=f"new{n}@example.gov.uk", full_name=f"New {n}")
    assignments_sync()
    assert count() == before


def test_the_report_heading_is_its_name_not_home(client, council, signed_in):
    signed_in("HR")
    page = client.get("/cms/aware-reports/compliance/").content.decode()
    crumbs = page.split('data-controller="w-breadcrumbs"')[1].split("</nav>")[0]
    assert "Compliance overview" in crumbs
    assert re.search(r"<h1[^>]*>\s*Compliance overview\s*</h1>", page)


def test_chart_labels_are_whole_and_fit_their_column(site):
    long_title = "Modern slavery and human trafficking: spotting and reporting the signs"
    rows = [ComplianceRow(1, long_title), ComplianceRow(2, "Fraud")]

    bars = bar_chart(rows)

    lines = [line["text"] for line in bars["bars"][0]["lines"]]
    assert " ".join(lines) == long_title
    assert max(len(line) for line in lines) <= LABEL_CHARS
    # 13 px text is at most ~7.5 px a character: the longest line ends right of the left edge.
    assert bars["label_x"] - LABEL_CHARS * 7.5 >= 0
    assert bars["label_x"] < LABEL_WIDTH
    # The second bar starts below the first's wrapped label.
    assert bars["bars"][1]["lines"][0]["y"] > bars["bars"][0]["lines"][-1]["y"]


def test_the_overview_chart_shows_a_long_module_title_whole(client, council, signed_in):
    module = module_with_lessons(1, slug="slavery", title="Modern slavery and human trafficking")
    council["modules"]["fraud"].assignments.update(module=module)
    signed_in("HR")
    page = client.get("/cms/aware-reports/compliance/").content.decode()
    svg = page.split('<svg role="img"')[1].split("</svg>")[0]
    assert "human traf…" not in svg
    assert ">Modern slavery and human<" in svg
    assert ">trafficking<" in svg
