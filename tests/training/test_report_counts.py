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
    # Each figure links to the people behind it (its screen-reader text names the column).
    title = fraud.module_title
    assert f'>{fraud.assigned}<span class="w-sr-only"> assigned: {title}</span>' in html
    compliant = fraud.counts["compliant"]
    assert f'>{compliant}<span class="w-sr-only"> completed and valid: {title}</span>' in html


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


# The trend rebuilt from historic completions: a council imports two years of its previous
# LMS's records for people assigned today.
HISTORY_HEADER = "email,module,module_version,completed_on,score,expires_on\n"


def days_ago(n: int) -> str:
    return (TODAY - n * DAY).isoformat()


def import_completions(tmp_path, rows: str) -> None:
    """Import historic completions as a council does: python manage.py import_completions."""
    from io import StringIO

    from django.core.management import call_command

    path = tmp_path / f"completions-{len(list(tmp_path.iterdir()))}.csv"
    path.write_text(HISTORY_HEADER + rows)
    out = StringIO()
    call_command("import_completions", str(path), stdout=out)
    assert "skipped 0 bad row" in out.getvalue()


@pytest.fixture
def imported_history(site, user_factory, tmp_path):
    """Fraud: Alex has completed it every year for two years, Sam since 200 days ago, Kim never.
    Cuckooing: only Kim, 100 days ago (never expires), so its older weeks have nobody to count."""
    from tests.factories import module_with_lessons
    from training.models import AssignmentRule, Audience
    from training.services.assignments import assignments_sync

    everyone = Audience.objects.create(name="Everyone", slug="everyone")
    fraud = module_with_lessons(1, slug="fraud-basics", title="Fraud basics")
    cuckooing = module_with_lessons(1, slug="cuckooing", title="Cuckooing")
    for module in (fraud, cuckooing):
        AssignmentRule.objects.create(module=module, audience=everyone, valid_months=12)
    for name in ("alex", "sam", "kim"):
        user_factory(email=f"{name}@example.gov.uk", full_name=name.title())
    assignments_sync(now=NOW)  # everyone is assigned today
    import_completions(
        tmp_path,
        f"alex@example.gov.uk,fraud-basics,1,{days_ago(700)},90,{days_ago(335)}\n"
        + f"alex@example.gov.uk,fraud-basics,1,{days_ago(340)},88,{days_ago(-25)}\n"
        + f"sam@example.gov.uk,fraud-basics,1,{days_ago(200)},75,{days_ago(-165)}\n"
        + f"kim@example.gov.uk,cuckooing,1,{days_ago(100)},80,\n",
    )
    return {"fraud": fraud, "cuckooing": cuckooing}


def at(filters: ReportFilters, moment: dt.datetime) -> tuple[int, int]:
    [point] = compliance_trend(filters=filters, now=moment, weeks=0)
    return point.must_comply, point.compliant


def test_imported_completions_count_in_the_weeks_they_cover(imported_history):
    fraud = ReportFilters(module=imported_history["fraud"])
    cuckooing = ReportFilters(module=imported_history["cuckooing"])

    assert at(fraud, NOW - 364 * DAY) == (1, 1)  # Alex, on the first of two completions
    assert at(fraud, NOW - 300 * DAY) == (1, 1)  # on the second
    assert at(fraud, NOW - 100 * DAY) == (2, 2)  # and Sam
    assert at(fraud, NOW) == (3, 2)  # Kim, assigned today, not done
    assert at(cuckooing, NOW - 150 * DAY) == (0, 0)
    assert at(cuckooing, NOW - 50 * DAY) == (1, 1)
    trend = compliance_trend(filters=fraud, now=NOW)
    assert all(p.rate == 100 for p in trend[:-1])  # not 51 weeks of nobody at 0%
    # The last point is still today's rate as the overview counts it (Assignment.with_status).
    [row] = compliance_overview(filters=fraud, now=NOW).modules
    assert (trend[-1].must_comply, trend[-1].compliant) == (row.denominator, row.compliant)


def test_counted_weeks_hold_the_imported_history_as_the_live_trend_does(imported_history):
    assert report_counts_refresh(now=NOW)

    for filters in [
        ReportFilters(),
        ReportFilters(module=imported_history["fraud"]),
        ReportFilters(module=imported_history["cuckooing"]),
    ]:
        trend = snapshot_trend(filters=filters, now=NOW)
        counted = [(p.must_comply, p.compliant) for p in trend[:-1]]
        assert counted == [at(filters, week_end_moment(p.week_ending)) for p in trend[:-1]]
        assert (trend[-1].must_comply, trend[-1].compliant) == at(filters, NOW)
    fraud = snapshot_trend(filters=ReportFilters(module=imported_history["fraud"]), now=NOW)
    assert [p.rate for p in fraud[:-1]] == [100] * 52
    cuckooing = snapshot_trend(filters=ReportFilters(module=imported_history["cuckooing"]), now=NOW)
    no_data = [p for p in cuckooing if p.rate is None]
    assert no_data == cuckooing[: len(no_data)]  # the weeks before Kim's completion
    assert {p.must_comply for p in no_data} == {0}
    assert 10 < len(no_data) < 40
    assert {p.rate for p in cuckooing[len(no_data) : -1]} == {100}


def trend_svg(html: str) -> str:
    start = html.index('aria-labelledby="trend-caption"')
    return html[start : html.index("</svg>", start)]


def test_the_page_says_no_data_and_leaves_a_gap_in_the_line(imported_history, hr_client):
    import re

    from training.reports.charts import line_chart

    now = timezone.now()
    report_counts_refresh(now=now)
    module = imported_history["cuckooing"]
    trend = snapshot_trend(filters=ReportFilters(module=module), now=now)
    empty = sum(p.rate is None for p in trend)

    html = hr_client.get(f"/cms/aware-reports/compliance/?module={module.pk}").content.decode()

    for p in trend:
        rate = "No data" if p.rate is None else f"{p.rate:.1f}%"
        row = f"<td>{p.must_comply}</td><td>{p.compliant}</td><td>{rate}</td></tr>"
        assert f'<th scope="row">{p.week_ending:%-d %b %Y}</th>{row}' in html
    assert html.count("<td>No data</td>") == empty > 0
    svg = trend_svg(html)
    [points] = re.findall(r'<polyline points="([^"]+)"', svg)
    xs = [float(pair.split(",")[0]) for pair in points.split()]
    chart = line_chart(trend)
    step = (chart["right"] - chart["left"]) / (len(trend) - 1)
    assert len(xs) == len(trend) - empty  # one point per week with data, none for the others
    assert xs[0] == pytest.approx(chart["left"] + empty * step, abs=0.1)  # starts after the gap
    zero_percent = next(t["y"] for t in chart["ticks"] if t["label"] == "0%")
    assert f",{zero_percent:.1f}" not in points  # no week drawn at 0%
    assert "a gap is a week with nobody to count" in html


def test_the_trend_export_says_no_data_for_the_weeks_the_page_does(imported_history, hr_client):
    import csv
    import io

    report_counts_refresh(now=timezone.now())
    module = imported_history["cuckooing"]
    trend = snapshot_trend(filters=ReportFilters(module=module), now=timezone.now())

    response = hr_client.get(
        f"/cms/aware-reports/compliance/?export=csv&table=trend&module={module.pk}"
    )
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))

    assert rows[0] == ["Week ending", "Must comply", "Compliant", "Compliance rate (%)"]
    assert rows[1:] == [
        [
            p.week_ending.isoformat(),
            str(p.must_comply),
            str(p.compliant),
            "No data" if p.rate is None else str(round(p.rate, 1)),
        ]
        for p in trend
    ]
    assert any(r[3] == "No data" for r in rows[1:])


def test_a_completion_from_an_earlier_assignment_does_not_count_the_person_twice(
    site, user_factory
):
    """Kim took the module, left its audience 200 days ago and was assigned it again 50 days ago:
    one person to count while either assignment was open, nobody in between."""
    from tests.factories import module_with_lessons
    from training.services.completion import completion_record_create

    module = module_with_lessons(1, slug="fraud-basics")
    kim = user_factory(email="kim@example.gov.uk")
    first = Assignment.objects.create(
        user=kim, module=module, assigned_at=NOW - 300 * DAY, due_on=TODAY - 270 * DAY
    )
    completion_record_create(
        user=kim,
        module=module,
        module_version=1,
        score=90,
        completed_at=NOW - 250 * DAY,
        expires_at=NOW + 115 * DAY,
    )
    first.refresh_from_db()
    Assignment.objects.filter(pk=first.pk).update(
        closed_at=NOW - 200 * DAY, closed_reason=Assignment.Closed.LEFT_AUDIENCE
    )
    Assignment.objects.create(
        user=kim,
        module=module,
        assigned_at=NOW - 50 * DAY,
        due_on=TODAY - 20 * DAY,
        completed_at=first.completed_at,
        valid_until=first.valid_until,
    )
    everyone = ReportFilters()

    assert at(everyone, NOW - 280 * DAY) == (1, 0)
    assert at(everyone, NOW - 220 * DAY) == (1, 1)
    assert at(everyone, NOW - 100 * DAY) == (0, 0)  # out of the audience: no data
    assert at(everyone, NOW - 10 * DAY) == (1, 1)
    report_counts_refresh(now=NOW)
    trend = snapshot_trend(filters=everyone, now=NOW)
    assert max(p.must_comply for p in trend) == 1
    assert [(p.must_comply, p.compliant) for p in trend[:-1]] == [
        at(everyone, week_end_moment(p.week_ending)) for p in trend[:-1]
    ]


def test_weeks_dropped_after_a_historic_import_are_counted_again(imported_history, tmp_path):
    report_counts_refresh(now=NOW)
    cuckooing = ReportFilters(module=imported_history["cuckooing"])
    before = snapshot_trend(filters=cuckooing, now=NOW)
    # Weeks are counted once and kept, so the import drops those its records fall in.
    import_completions(tmp_path, f"sam@example.gov.uk,cuckooing,1,{days_ago(300)},70,\n")
    assert snapshot_trend(filters=cuckooing, now=NOW) is None  # the page counts live meanwhile
    report_counts_refresh(now=NOW)

    after = snapshot_trend(filters=cuckooing, now=NOW)
    assert [(p.must_comply, p.compliant) for p in after[:-1]] == [
        at(cuckooing, week_end_moment(p.week_ending)) for p in after[:-1]
    ]
    assert after[-40].must_comply == 1  # Sam, 280 days ago
    assert sum(p.rate is None for p in after) < sum(p.rate is None for p in before)
