"""HR report figures counted ahead: the same as counting live, refreshed safely, read by the pages.

The pages read ComplianceCount and ComplianceWeek (written by report_counts_refresh) so a council
of 100,000 people gets its overview from a few hundred rows; these tests hold the counts to the
live definitions in training.reports.live, which test_reports holds to plain SQL.
"""

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import PersonType
from tests.training.test_reports import NOW, TODAY, council_fixture  # noqa: F401
from training.models import Assignment, ComplianceCount, ComplianceWeek, Status
from training.reports.figures import CATEGORIES, ComplianceOverview, week_end_moment, week_endings
from training.reports.filters import ReportFilters
from training.reports.live import compliance_overview, compliance_trend
from training.reports.people import OVERDUE_VALUES, overdue_assignments
from training.reports.snapshot import (
    report_counts_refresh,
    snapshot_overview,
    snapshot_taken_at,
    snapshot_trend,
)

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


def figures(overview: ComplianceOverview) -> list[tuple]:
    """Every row of the overview as plain values, in page order."""
    sections = [("All", overview.modules), *overview.sections()]
    return [
        (section, row.module_title, row.group, row.depth, *(row.counts[c] for c in CATEGORIES))
        for section, rows in sections
        for row in rows
    ]


@pytest.fixture
def history(council):
    """The council's assignments spread over the last year, so past weeks differ."""
    people = council["people"]
    Assignment.objects.update(assigned_at=NOW - 300 * DAY)
    Assignment.objects.filter(user__in=[people["h1"], people["l1"]]).update(
        assigned_at=NOW - 100 * DAY
    )
    Assignment.objects.filter(completed_at__isnull=False).update(completed_at=NOW - 60 * DAY)
    return council


def filter_sets(council) -> list[ReportFilters]:
    departments, audiences = council["departments"], council["audiences"]
    neighbourhoods = departments["housing"].get_parent()
    return [
        ReportFilters(),
        ReportFilters(department=departments["housing"]),
        ReportFilters(department=neighbourhoods),
        ReportFilters(audience=audiences["housing"]),
        ReportFilters(audience=audiences["everyone"]),
        ReportFilters(module=council["modules"]["cuckooing"]),
        ReportFilters(person_type=PersonType.OTHER),
        ReportFilters(councillors_only=True),
        ReportFilters(department=neighbourhoods, module=council["modules"]["fraud"]),
    ]


def test_the_counted_overview_is_the_live_overview_for_every_filter(history):
    assert report_counts_refresh(now=NOW)

    assert snapshot_taken_at(now=NOW) == NOW
    for filters in filter_sets(history):
        live = compliance_overview(filters=filters, now=NOW)
        assert figures(snapshot_overview(filters=filters)) == figures(live), filters


def test_status_and_due_date_filters_are_counted_live(history):
    report_counts_refresh(now=NOW)

    assert snapshot_overview(filters=ReportFilters(status=Status.OVERDUE)) is None
    assert snapshot_overview(filters=ReportFilters(due_from=TODAY)) is None
    assert snapshot_overview(filters=ReportFilters(due_to=TODAY)) is None


def test_each_counted_week_is_the_live_trend_at_that_weeks_end(history):
    report_counts_refresh(now=NOW)

    ends = week_endings(now=NOW)
    assert len(ends) == 52
    assert all(day.weekday() == 6 for day in ends)
    assert ends[-1] < TODAY
    for filters in filter_sets(history):
        trend = snapshot_trend(filters=filters, now=NOW)
        assert [p.week_ending for p in trend] == [*ends, TODAY]
        for point in [trend[0], trend[-40], trend[-20], trend[-5]]:
            moment = week_end_moment(point.week_ending)
            [live] = compliance_trend(filters=filters, now=moment, weeks=0)
            assert (point.must_comply, point.compliant) == (live.must_comply, live.compliant), (
                filters
            )
        [today] = compliance_trend(filters=filters, now=NOW, weeks=0)
        assert (trend[-1].must_comply, trend[-1].compliant) == (
            today.must_comply,
            today.compliant,
        )
    rates = [p.rate for p in snapshot_trend(filters=ReportFilters(), now=NOW)]
    assert rates[0] is None  # nobody had been assigned anything a year ago
    assert len({r for r in rates if r is not None}) > 1  # the weeks differ


def test_counting_again_replaces_the_overview_and_keeps_the_weeks(history):
    report_counts_refresh(now=NOW)
    groups = ComplianceCount.objects.count()
    weeks = list(ComplianceWeek.objects.values_list("pk", "must_comply", "compliant"))

    later = NOW + dt.timedelta(minutes=10)
    person = history["people"]["l2"]
    Assignment.objects.filter(user=person, closed_at=None).update(
        completed_at=later, valid_until=later + 365 * DAY
    )
    report_counts_refresh(now=later)

    assert ComplianceCount.objects.count() == groups
    assert set(ComplianceCount.objects.values_list("counted_at", flat=True)) == {later}
    assert list(ComplianceWeek.objects.values_list("pk", "must_comply", "compliant")) == weeks
    assert figures(snapshot_overview(filters=ReportFilters())) == figures(
        compliance_overview(filters=ReportFilters(), now=later)
    )


def test_a_new_week_is_counted_once_it_has_ended(history):
    report_counts_refresh(now=NOW)
    before = set(ComplianceWeek.objects.values_list("week_ending", flat=True))

    next_week = NOW + 7 * DAY
    report_counts_refresh(now=next_week)

    after = set(ComplianceWeek.objects.values_list("week_ending", flat=True))
    assert after - before == {week_endings(now=next_week)[-1]}


def test_counts_from_yesterday_or_long_ago_are_not_used(history):
    noon = timezone.make_aware(dt.datetime.combine(TODAY, dt.time(12, 0)))
    report_counts_refresh(now=noon - dt.timedelta(minutes=10))

    assert snapshot_taken_at(now=noon) == noon - dt.timedelta(minutes=10)
    assert snapshot_taken_at(now=noon + dt.timedelta(minutes=40)) is None  # the worker has stopped?
    report_counts_refresh(now=noon.replace(hour=23, minute=55))
    assert snapshot_taken_at(now=noon.replace(hour=23, minute=59)) is not None
    assert snapshot_taken_at(now=noon + dt.timedelta(hours=12, minutes=5)) is None  # after midnight


@pytest.fixture
def hr_client(client, signed_in_with_mfa):
    signed_in_with_mfa("hr.reader@example.gov.uk", groups=["HR"])
    return client


def test_the_overview_page_reads_the_counts_and_says_when_they_were_made(history, hr_client):
    now = timezone.now()
    report_counts_refresh(now=now)
    # Change a count by hand: the page shows it, so it read the counts, not the assignments.
    row = ComplianceCount.objects.filter(module=history["modules"]["fraud"]).first()
    row.compliant += 1000
    row.save()

    html = hr_client.get("/cms/aware-reports/compliance/").content.decode()

    assert f"Figures as counted at {timezone.localtime(now):%H:%M}" in html
    fraud = next(
        r
        for r in snapshot_overview(filters=ReportFilters()).modules
        if r.group == "All" and r.module_title == "Fraud basics"
    )
    assert fraud.counts["compliant"] > 1000
    assert f"<td>{fraud.assigned}</td>\n      <td>{fraud.counts['compliant']}</td>" in html


def test_a_status_filter_is_counted_live_on_the_page(history, hr_client):
    report_counts_refresh(now=timezone.now())
    ComplianceCount.objects.update(overdue=999)

    html = hr_client.get("/cms/aware-reports/compliance/?status=overdue").content.decode()

    assert "999" not in html


def test_count_again_now_recounts_and_keeps_the_filters(history, hr_client):
    report_counts_refresh(now=timezone.now() - dt.timedelta(minutes=5))
    ComplianceCount.objects.update(overdue=999)
    url = f"/cms/aware-reports/compliance/?module={history['modules']['fraud'].pk}"

    response = hr_client.post(url)

    assert response.status_code == 302
    assert response["Location"] == url
    assert not ComplianceCount.objects.filter(overdue=999).exists()
    assert "counted again" in hr_client.get(url).content.decode()


def test_count_again_now_is_refused_to_learners(history, client, user_factory):
    client.force_login(user_factory(email="learner@example.gov.uk"))

    response = client.post("/cms/aware-reports/compliance/")

    assert response.status_code in (302, 403)
    assert not ComplianceCount.objects.exists()


def test_the_overdue_conditions_are_the_overdue_status(history):
    for now in [NOW, NOW - 20 * DAY, NOW + 40 * DAY, NOW + 400 * DAY]:
        by_status = set(
            Assignment.objects.open()
            .with_status(now)
            .filter(status=Status.OVERDUE)
            .values_list("pk", flat=True)
        )
        assert set(Assignment.objects.overdue(now).values_list("pk", flat=True)) == by_status
        assert by_status or now < NOW


def test_the_overdue_list_is_longest_overdue_first_with_a_persons_modules_together(history):
    rows = [
        dict(zip(OVERDUE_VALUES, row, strict=True))
        for row in overdue_assignments(filters=ReportFilters(), now=NOW + 60 * DAY)
    ]

    keys = [(row["due_on"], row["user_id"], row["pk"]) for row in rows]
    assert keys == sorted(keys)
    assert len(rows) > 4
    assert overdue_assignments(filters=ReportFilters(status=Status.COMPLETED), now=NOW).count() == 0


def test_a_long_overdue_list_counts_no_further_than_its_cap(history, hr_client, monkeypatch):
    from training.reports.views import CappedPaginator

    monkeypatch.setattr(CappedPaginator, "CAP", 2)
    monkeypatch.setattr("training.reports.views.OverdueListView.paginate_by", 1)

    html = hr_client.get("/cms/aware-reports/overdue/").content.decode()

    assert "More than 2 overdue" in html
    assert "Next" in html


def test_a_change_queues_one_count_a_minute_later(
    history, monkeypatch, django_capture_on_commit_callbacks
):
    from django.core.cache import cache

    from training.services.exemptions import assignment_exempt
    from training.tasks import report_counts_refresh_task

    cache.delete("aware-report-counts-queued")
    queued = []
    monkeypatch.setattr(report_counts_refresh_task, "apply_async", lambda **kw: queued.append(kw))
    people = history["people"]
    first, second = Assignment.objects.open().filter(user=people["l2"], exempt_reason="")[:2]

    with django_capture_on_commit_callbacks(execute=True):
        assignment_exempt(assignment=first, reason="Long-term sick", by=people["manager"])
    with django_capture_on_commit_callbacks(execute=True):
        assignment_exempt(assignment=second, reason="Long-term sick", by=people["manager"])

    assert queued == [{"args": (), "kwargs": {}, "countdown": 60}]  # the second shares the first


def test_the_beat_task_counts(history):
    from training.tasks import report_counts_refresh_task

    assert report_counts_refresh_task() is True
    assert ComplianceCount.objects.exists()
    assert ComplianceWeek.objects.count() == 52 * ComplianceCount.objects.count()


def test_the_overview_page_costs_the_same_queries_however_many_departments(history, hr_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.management.commands.load_accounts_data import department_from_path

    report_counts_refresh(now=timezone.now())
    hr_client.get("/cms/aware-reports/compliance/")
    with CaptureQueriesContext(connection) as before:
        hr_client.get("/cms/aware-reports/compliance/")
    for n in range(6):
        department_from_path(f"Place > Service {n}")
    with CaptureQueriesContext(connection) as after:
        html = hr_client.get("/cms/aware-reports/compliance/").content.decode()

    assert "Place &gt; Service 5" in html
    assert len(after) == len(before)


def test_exports_show_the_figures_the_page_shows(history, hr_client):
    import csv
    import io

    report_counts_refresh(now=timezone.now())
    ComplianceCount.objects.filter(module=history["modules"]["fraud"]).update(exempt=700)

    response = hr_client.get("/cms/aware-reports/compliance/?export=csv&table=overview")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    fraud = next(r for r in rows if r[0] == "Fraud basics" and r[1] == "All")
    exempt = rows[0].index("Exempt")
    groups = ComplianceCount.objects.filter(module=history["modules"]["fraud"]).count()

    assert int(fraud[exempt]) == 700 * groups  # read from the counts, as the page shows them
    trend = hr_client.get("/cms/aware-reports/compliance/?export=csv&table=trend")
    lines = b"".join(trend.streaming_content).decode("utf-8-sig").splitlines()
    assert len(lines) == 1 + 52 + 1  # headings, the counted weeks, today


@pytest.mark.postgres  # advisory locks
def test_count_again_now_while_a_count_is_running_says_so_and_waits(history, hr_client):
    import psycopg
    from django.db import connection

    from training.locks import Lock

    params = connection.get_connection_params()
    keys = ("dbname", "user", "password", "host", "port")
    with psycopg.connect(**{k: params[k] for k in keys if params.get(k)}) as other:
        # Another count is running:
        other.execute("SELECT pg_advisory_lock(%s)", [int(Lock.REPORT_COUNTS)])

        page = hr_client.post("/cms/aware-reports/compliance/", follow=True).content.decode()

        assert "The figures are being counted already: reload in a moment." in page
        assert not ComplianceCount.objects.exists()
        other.execute("SELECT pg_advisory_unlock(%s)", [int(Lock.REPORT_COUNTS)])
    hr_client.post("/cms/aware-reports/compliance/")
    assert ComplianceCount.objects.exists()
