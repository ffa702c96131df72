"""HR reports: figures against an independent computation, query counts, charts, person record."""

import datetime as dt
from dataclasses import replace

import pytest
from django.db import connection
from django.utils import timezone

from accounts.management.commands.load_accounts_data import department_from_path
from accounts.models import PersonType
from tests.factories import module_with_lessons
from training.models import Assignment, AssignmentRule, Audience, SentMessage
from training.reports.exports import csv_chunks
from training.reports.filters import NO_DEPARTMENT, ReportFilters
from training.reports.live import compliance_overview, compliance_trend
from training.reports.people import OVERDUE_VALUES, overdue_assignments
from training.reports.tables import OVERDUE_HEADINGS, overdue_table, overview_table, people_table
from training.services.assignments import assignments_sync

pytestmark = pytest.mark.django_db

NOW = timezone.now()
TODAY = timezone.localdate(NOW)


def set_state(user, module, state: str) -> Assignment:
    """Put a person's assignment in a state by its columns, as the services keep them."""
    assignment = Assignment.objects.get(user=user, module=module, closed_at=None)
    day = dt.timedelta(days=1)
    changes = {
        "not-started": {"due_on": TODAY + 30 * day},
        "in-progress": {"due_on": TODAY + 30 * day, "started_at": NOW - day},
        "due-soon-new": {"due_on": TODAY + 3 * day},
        "overdue": {"due_on": TODAY - 10 * day, "started_at": NOW - 20 * day},
        "overdue-unstarted": {"due_on": TODAY - 3 * day},
        "completed": {
            "started_at": NOW - 40 * day,
            "completed_at": NOW - 30 * day,
            "valid_until": NOW + 300 * day,
            "recertify_from": NOW + 240 * day,
        },
        "recertifying": {
            "started_at": NOW - 340 * day,
            "completed_at": NOW - 330 * day,
            "valid_until": NOW + 30 * day,
            "recertify_from": NOW - 30 * day,
        },
        "expired": {
            "due_on": TODAY - 400 * day,
            "started_at": NOW - 400 * day,
            "completed_at": NOW - 390 * day,
            "valid_until": NOW - 25 * day,
            "recertify_from": NOW - 85 * day,
        },
        "exempt": {"exempt_reason": "Long-term sick", "exempted_at": NOW - 5 * day},
    }[state]
    for name, value in changes.items():
        setattr(assignment, name, value)
    assignment.save()
    return assignment


@pytest.fixture(name="council")
def council_fixture(site, user_factory):
    """A small council: two directorates, three services, a councillor, two audiences, two
    modules, people in every state, a leaver and a person in both audiences."""
    housing = department_from_path("Neighbourhoods > Housing")
    licensing = department_from_path("Neighbourhoods > Licensing")
    finance = department_from_path("Resources > Finance")
    everyone = Audience.objects.create(name="Everyone", slug="everyone")
    housing_staff = Audience.objects.create(name="Housing staff", slug="housing-staff")
    housing_staff.departments.add(housing)
    fraud = module_with_lessons(1, slug="fraud", title="Fraud basics")
    cuckooing = module_with_lessons(1, slug="cuckooing", title="Cuckooing")
    for module in (fraud, cuckooing):
        AssignmentRule.objects.create(module=module, audience=everyone, valid_months=12)
    # Housing staff are in both audiences: still one assignment per module.
    AssignmentRule.objects.create(module=fraud, audience=housing_staff, valid_months=12)

    manager = user_factory(email="boss@example.gov.uk", full_name="Bo Boss", department=housing)
    people = {"manager": manager}
    specs = [
        ("h1", housing, PersonType.OFFICER),
        ("h2", housing, PersonType.OFFICER),
        ("h3", housing, PersonType.OFFICER),
        ("l1", licensing, PersonType.OFFICER),
        ("l2", licensing, PersonType.OFFICER),
        ("f1", finance, PersonType.OFFICER),
        ("f2", finance, PersonType.OTHER),
        ("c1", None, PersonType.COUNCILLOR),
        ("c2", None, PersonType.COUNCILLOR),
        ("gone", finance, PersonType.OFFICER),
    ]
    for key, department, kind in specs:
        people[key] = user_factory(
            email=f"{key}@example.gov.uk",
            full_name=f"Person {key}",
            department=department,
            person_type=kind,
            line_manager=manager,
        )
    assignments_sync(now=NOW)
    states = {
        "h1": ("completed", "overdue"),
        "h2": ("recertifying", "in-progress"),
        "h3": ("expired", "exempt"),
        "l1": ("overdue-unstarted", "completed"),
        "l2": ("due-soon-new", "not-started"),
        "f1": ("exempt", "completed"),
        "f2": ("in-progress", "expired"),
        "c1": ("completed", "overdue"),
        "c2": ("overdue", "not-started"),
        "gone": ("completed", "overdue"),
        "manager": ("not-started", "completed"),
    }
    for key, (fraud_state, cuckooing_state) in states.items():
        set_state(people[key], fraud, fraud_state)
        set_state(people[key], cuckooing, cuckooing_state)
    # A leaver: deactivated, their assignments not yet closed by the nightly sync.
    people["gone"].is_active = False
    people["gone"].save()
    return {
        "people": people,
        "modules": {"fraud": fraud, "cuckooing": cuckooing},
        "departments": {"housing": housing, "licensing": licensing, "finance": finance},
        "audiences": {"everyone": everyone, "housing": housing_staff},
    }


def independent_counts(*, where: str = "", params=()) -> dict[str, dict[str, int]]:
    """Per module title: the overview's figures, in one plain SQL query written from the
    definitions (not from the status expression)."""
    sql = """
        SELECT p.title,
          COUNT(*),
          COUNT(*) FILTER (WHERE a.exempt_reason = ''
            AND a.completed_at IS NOT NULL AND (a.valid_until IS NULL OR a.valid_until > %s)),
          COUNT(*) FILTER (WHERE a.exempt_reason = '' AND a.completed_at IS NULL
            AND a.due_on >= %s AND a.started_at IS NOT NULL),
          COUNT(*) FILTER (WHERE a.exempt_reason = '' AND a.completed_at IS NULL
            AND a.due_on >= %s AND a.started_at IS NULL),
          COUNT(*) FILTER (WHERE a.exempt_reason = '' AND a.completed_at IS NULL
            AND a.due_on < %s),
          COUNT(*) FILTER (WHERE a.exempt_reason = '' AND a.valid_until <= %s),
          COUNT(*) FILTER (WHERE a.exempt_reason <> '')
        FROM training_assignment a
        JOIN accounts_user u ON u.id = a.user_id
        LEFT JOIN accounts_department d ON d.id = u.department_id
        JOIN wagtailcore_page p ON p.id = a.module_id
        WHERE a.closed_at IS NULL AND u.is_active AND_WHERE
        GROUP BY p.title
    """.replace("AND_WHERE", where)  # a fixed fragment from these tests, never user input
    keys = ["assigned", "compliant", "in_progress", "not_started", "overdue", "expired", "exempt"]
    with connection.cursor() as cursor:
        cursor.execute(sql, [NOW, TODAY, TODAY, TODAY, NOW, *params])
        return {row[0]: dict(zip(keys, row[1:], strict=True)) for row in cursor.fetchall()}


def figures(row) -> dict[str, int]:
    return {"assigned": row.assigned, **row.counts}


def test_module_figures_match_an_independent_computation(council):
    overview = compliance_overview(filters=ReportFilters(), now=NOW)

    expected = independent_counts()
    assert {row.module_title: figures(row) for row in overview.modules} == expected
    fraud = next(row for row in overview.modules if row.module_title == "Fraud basics")
    # 10 active people (the leaver is out); f1 exempt; compliant: h1, h2 (renewing, still
    # valid) and c1; h3's completion has expired.
    assert fraud.assigned == 10
    assert fraud.counts["exempt"] == 1
    assert fraud.counts["compliant"] == 3
    assert fraud.counts["expired"] == 1
    assert fraud.rate == pytest.approx(100 * 3 / 9)


def test_department_rows_include_their_services_and_match_sql(council):
    overview = compliance_overview(filters=ReportFilters(), now=NOW)
    rows = {(r.module_title, r.group): figures(r) for r in overview.departments}

    directorate = council["departments"]["housing"].get_parent()
    neighbourhoods = independent_counts(where="AND d.path LIKE %s", params=[directorate.path + "%"])
    housing = independent_counts(
        where="AND d.path = %s", params=[council["departments"]["housing"].path]
    )
    assert rows[("Fraud basics", "Neighbourhoods")] == neighbourhoods["Fraud basics"]
    assert rows[("Fraud basics", "Neighbourhoods > Housing")] == housing["Fraud basics"]
    # Directorate = Housing (manager, h1-h3) + Licensing (l1, l2).
    assert rows[("Cuckooing", "Neighbourhoods")]["assigned"] == 6
    assert rows[("Fraud basics", NO_DEPARTMENT)]["assigned"] == 2  # the councillors


def test_a_person_in_two_audiences_counts_once_per_module(council):
    overview = compliance_overview(filters=ReportFilters(), now=NOW)

    fraud_total = next(r for r in overview.modules if r.module_title == "Fraud basics")
    audiences = {(r.module_title, r.group): r.assigned for r in overview.audiences}
    assert audiences[("Fraud basics", "Everyone")] == fraud_total.assigned == 10
    assert audiences[("Fraud basics", "Housing staff")] == 4  # manager, h1, h2, h3
    filtered = compliance_overview(
        filters=ReportFilters(audience=council["audiences"]["housing"]), now=NOW
    )
    assert [r.assigned for r in filtered.modules] == [4, 4]  # Cuckooing, Fraud basics


def test_person_type_rows_add_up_to_the_module_total(council):
    overview = compliance_overview(filters=ReportFilters(), now=NOW)

    by_type = {(r.module_title, r.group): r.assigned for r in overview.person_types}
    assert by_type[("Fraud basics", "Officer")] == 7
    assert by_type[("Fraud basics", "Councillor")] == 2
    assert by_type[("Fraud basics", "Other (contractor, volunteer, agency)")] == 1


def test_a_person_who_moves_department_is_counted_where_they_are_now(council):
    mover = council["people"]["h1"]
    mover.department = council["departments"]["finance"]
    mover.save()

    overview = compliance_overview(filters=ReportFilters(), now=NOW)
    rows = {(r.module_title, r.group): r for r in overview.departments}

    assert rows[("Fraud basics", "Neighbourhoods > Housing")].assigned == 3
    assert rows[("Fraud basics", "Resources")].assigned == 3  # f1, f2, the mover; not the leaver
    assert rows[("Fraud basics", "Resources")].counts["compliant"] == 1
    filtered = compliance_overview(
        filters=ReportFilters(department=council["departments"]["finance"]), now=NOW
    )
    expected = independent_counts(
        where="AND d.path LIKE %s", params=[council["departments"]["finance"].path + "%"]
    )
    assert {r.module_title: figures(r) for r in filtered.modules} == expected


def test_councillors_only_counts_members(council):
    overview = compliance_overview(filters=ReportFilters(councillors_only=True), now=NOW)

    expected = independent_counts(where="AND u.person_type = %s", params=["councillor"])
    assert {r.module_title: figures(r) for r in overview.modules} == expected
    assert {r.group for r in overview.person_types} == {"Councillor"}


def test_status_and_due_date_filters(council):
    overdue = compliance_overview(filters=ReportFilters(status="overdue"), now=NOW)
    by_module = {r.module_title: r.assigned for r in overdue.modules}
    assert by_module == {"Fraud basics": 2, "Cuckooing": 2}

    due_later = compliance_overview(
        filters=ReportFilters(due_from=TODAY + dt.timedelta(days=20)), now=NOW
    )
    assert sum(r.counts["not_started"] + r.counts["in_progress"] for r in due_later.modules) > 0
    assert all(r.counts["overdue"] == 0 for r in due_later.modules)


def test_the_overview_takes_the_same_queries_however_big_the_council(
    council, user_factory, django_assert_max_num_queries
):
    filters = ReportFilters(department=council["departments"]["housing"])
    with django_assert_max_num_queries(6):
        compliance_overview(filters=ReportFilters(), now=NOW)
    with django_assert_max_num_queries(6):
        compliance_overview(filters=filters, now=NOW)
    for n in range(15):
        user_factory(email=f"more{n}@example.gov.uk", department=council["departments"]["housing"])
    assignments_sync(now=NOW)
    with django_assert_max_num_queries(6):
        overview = compliance_overview(filters=filters, now=NOW)
    assert overview.modules[0].assigned == 19


def test_the_overdue_list_matches_the_definition(council):
    rows = [
        dict(zip(OVERDUE_VALUES, row, strict=True))
        for row in overdue_assignments(filters=ReportFilters(), now=NOW)
    ]

    names = sorted((row["user__full_name"], row["module_title"]) for row in rows)
    # Not the leaver, not h3's expired completion, not l2 (due in three days).
    assert names == [
        ("Person c1", "Cuckooing"),
        ("Person c2", "Fraud basics"),
        ("Person h1", "Cuckooing"),
        ("Person l1", "Fraud basics"),
    ]
    assert [row["due_on"] for row in rows] == sorted(row["due_on"] for row in rows)


def test_share_outside_hr_suppresses_cells_under_five(council):
    shared = overview_table(filters=ReportFilters(), now=NOW, share_outside_hr=True)
    internal = overview_table(filters=ReportFilters(), now=NOW)

    shared_rows, internal_rows = list(shared.rows()), list(internal.rows())
    assert len(shared_rows) == len(internal_rows)
    for shared_row, internal_row in zip(shared_rows, internal_rows, strict=True):
        for shared_cell, cell in zip(shared_row[3:10], internal_row[3:10], strict=True):
            if isinstance(cell, int) and 0 < cell < 5:
                assert shared_cell == "<5"
            else:
                assert shared_cell == cell
    assert any("<5" in row for row in shared_rows)
    # A group under five people shows no rate either (it would reveal the counts).
    councillors = next(r for r in shared_rows if r[1] == "Person type" and r[2] == "Councillor")
    assert councillors[-1] == ""


def test_the_people_export_includes_those_who_have_not_started(council):
    table = people_table(filters=ReportFilters(), now=NOW)
    rows = list(table.rows())

    assert table.count() == len(rows) == 20  # 10 active people x 2 modules (leaver excluded)
    manager_rows = [r for r in rows if r[0] == "Bo Boss"]
    assert {r[7] for r in manager_rows} == {"Not started", "Completed"}
    assert not [r for r in rows if r[0] == "Person gone"]


def test_the_trend_ends_at_todays_rate(council):
    trend = compliance_trend(filters=ReportFilters(), now=NOW)
    overview = compliance_overview(filters=ReportFilters(), now=NOW)

    assert len(trend) == 53
    compliant = sum(r.counts["compliant"] for r in overview.modules)
    must = sum(r.denominator for r in overview.modules)
    assert (trend[-1].compliant, trend[-1].must_comply) == (compliant, must)
    # A year ago nobody had been assigned anything in this new council.
    assert trend[0].must_comply == 0
    assert trend[0].rate is None


def test_the_trend_line_leaves_weeks_with_nobody_to_count_out():
    from training.reports.charts import line_chart
    from training.reports.figures import TrendPoint

    weeks = [TODAY - dt.timedelta(weeks=w) for w in range(5, -1, -1)]
    counts = [(0, 0), (4, 2), (0, 0), (0, 0), (4, 4), (8, 6)]
    points = [TrendPoint(day, must, done) for day, (must, done) in zip(weeks, counts, strict=True)]

    chart = line_chart(points)

    step = (chart["right"] - chart["left"]) / 5
    x = [f"{chart['left'] + i * step:.1f}" for i in range(6)]
    y = {
        rate: f"{next(t['y'] for t in chart['ticks'] if t['label'] == f'{rate}%'):.1f}"
        for rate in (50, 100)
    }
    # A lone week is a segment to itself (drawn as a dot); the weeks with nobody are gaps.
    assert chart["segments"] == [
        f"{x[1]},{y[50]} {x[1]},{y[50]}",
        f"{x[4]},{y[100]} {x[5]},50.0",  # 100%, then 75%
    ]


def overdue_csv(*, filters: ReportFilters, python: bool) -> bytes:
    table = overdue_table(filters=filters, now=NOW)
    if python:
        table = replace(table, copy_query=None)
    return b"".join(chunk for chunk, _rows in csv_chunks(table))


@pytest.mark.postgres
def test_postgresqls_overdue_csv_is_the_python_paths_byte_for_byte(council, user_factory):
    """On PostgreSQL the overdue CSV comes from COPY: the same headings, cells, quoting, formula
    escaping, line ends and order as the Python path (which SQLite uses), for awkward data."""
    fraud = council["modules"]["fraud"]
    odd = department_from_path('Neighbourhoods > =Estates, "North"')
    awkward = {
        "=HYPERLINK(1)": {"department": odd, "employee_number": "-42"},
        'O\'Neil, "Jo"\nsecond line': {"department": council["departments"]["housing"]},
        "@admin\r": {"employee_number": "+7"},
        "Zoë Ångström": {"department": odd, "employee_number": ""},
        "": {},
    }
    assignments = []
    for n, (name, fields) in enumerate(awkward.items()):
        person = user_factory(email=f"odd{n}@example.gov.uk", full_name=name, **fields)
        assignments_sync(now=NOW)
        assignments.append(set_state(person, fraud, "overdue"))
    first, second = assignments[0], assignments[1]
    day = dt.timedelta(days=1)
    # Reminders: the latest sent one counts; a pending one, another kind, another person's
    # digest naming the assignment, and items without one do not. Late on a summer
    # evening in UTC is the next day in London.
    summer_night = dt.datetime(2026, 6, 30, 23, 30, tzinfo=dt.UTC)
    for n, (recipient, items, kind, state, sent_at) in enumerate(
        [
            (first.user, [{"assignment": first.pk}], "learner", "sent", summer_night),
            (first.user, [{"assignment": first.pk}], "learner", "sent", summer_night - 9 * day),
            (first.user, [{"assignment": first.pk}], "learner", "pending", None),
            (first.user, [{"assignment": first.pk}], "manager", "sent", NOW),
            (second.user, [{"assignment": first.pk}, {"why": "x"}], "learner", "sent", NOW),
        ]
    ):
        SentMessage.objects.create(
            recipient=recipient,
            recipient_email=recipient.email,
            kind=kind,
            period=f"2026-06-{n + 1:02d}",
            items=items,
            state=state,
            created_at=NOW,
            sent_at=sent_at,
        )

    unfiltered = overdue_csv(filters=ReportFilters(), python=True)
    lines = unfiltered.decode("utf-8-sig").split("\r\n")
    assert lines[0] == ",".join(OVERDUE_HEADINGS)
    assert (
        "'=HYPERLINK(1),odd0@example.gov.uk,'-42,\"Neighbourhoods > =Estates" in unfiltered.decode()
    )
    assert "01 Jul 2026" in unfiltered.decode()
    assert overdue_csv(filters=ReportFilters(), python=False) == unfiltered
    for filters in (
        ReportFilters(department=odd),
        ReportFilters(module=fraud, person_type=PersonType.COUNCILLOR),
        ReportFilters(status="completed"),
        ReportFilters(due_from=TODAY - 5 * day),
    ):
        assert overdue_csv(filters=filters, python=False) == overdue_csv(
            filters=filters, python=True
        ), filters
