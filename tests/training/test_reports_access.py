"""HR reports in the admin: who sees what (pages and exports), downloads, queued exports."""

import csv
import datetime as dt
import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import User
from tests.training.test_reports import council_fixture  # noqa: F401 - the small council
from training.models import Assignment, ReportExport

pytestmark = pytest.mark.django_db

PAGES = [
    "/cms/aware-reports/compliance/",
    "/cms/aware-reports/councillors/",
    "/cms/aware-reports/overdue/",
    "/cms/aware-reports/people/?q=Person",
]
EXPORTS = [
    "/cms/aware-reports/compliance/?export=csv&table=overview",
    "/cms/aware-reports/compliance/?export=xlsx&table=people",
    "/cms/aware-reports/councillors/?export=csv&table=people",
    "/cms/aware-reports/overdue/?export=csv",
    "/cms/aware-reports/overdue/?export=xlsx",
]


def assert_refused(response, url=""):
    """Wagtail turns a refusal into a redirect to the dashboard (or sign-in) with a message."""
    assert response.status_code in (302, 403), url
    assert not response.get("Location", "").startswith("/cms/aware-reports"), url
    assert not response.has_header("Content-Disposition"), url


def csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_hr_sees_every_report_and_export(client, council, signed_in):
    signed_in("HR")

    for url in PAGES:
        assert client.get(url).status_code == 200, url
    for url in EXPORTS:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "attachment" in response["Content-Disposition"], url
    person = council["people"]["h1"]
    page = client.get(f"/cms/aware-reports/people/{person.pk}/").content.decode()
    assert "Person h1" in page
    assert "Fraud basics" in page


def test_the_overview_page_shows_charts_with_tables_and_figures(client, council, signed_in):
    signed_in("HR")

    html = client.get("/cms/aware-reports/compliance/").content.decode()

    assert html.count('<svg role="img"') == 2
    assert "<polyline" in html
    assert "Compliance rate by module" in html
    assert "33.3%" in html  # Fraud basics: 3 of 9
    assert "Neighbourhoods &gt; Housing" in html
    assert "Housing staff" in html


def test_hr_reads_quiz_insights_without_opening_the_question_bank(client, council, signed_in):
    from quizzes.models import Question

    module = council["modules"]["fraud"]
    question = Question.objects.create(module=module, text="Which of these is a warning sign?")
    signed_in("HR")

    html = client.get("/cms/aware-reports/compliance/").content.decode()
    assert f"/cms/quizzes/statistics/?module={module.pk}" in html
    statistics = client.get(f"/cms/quizzes/statistics/?module={module.pk}")
    assert statistics.status_code == 200
    page = statistics.content.decode()
    assert "Which of these is a warning sign?" in page
    assert f"/cms/snippets/quizzes/question/edit/{question.pk}/" not in page  # no edit link
    assert "cdn" not in html.lower()
    for url in (
        "/cms/snippets/quizzes/question/",
        f"/cms/snippets/quizzes/question/edit/{question.pk}/",
        "/cms/quizzes/bank/",
        "/cms/quizzes/bank/export/",
    ):
        assert client.get(url).status_code in (302, 403), url


def test_quiz_insights_are_refused_to_member_services(client, council, signed_in):
    signed_in("Member Services", email="members.person@example.gov.uk")

    assert "/cms/quizzes/statistics/" not in client.get("/cms/").content.decode()
    assert client.get("/cms/quizzes/statistics/").status_code in (302, 403)


def test_member_services_sees_councillors_only(client, council, signed_in):
    signed_in("Member Services", email="members.person@example.gov.uk")

    assert_refused(client.get("/cms/aware-reports/compliance/"))
    assert_refused(client.get("/cms/aware-reports/compliance/?export=csv"))
    councillors = client.get("/cms/aware-reports/councillors/")
    assert councillors.status_code == 200
    assert "Councillor" in councillors.content.decode()
    overdue = client.get("/cms/aware-reports/overdue/").content.decode()
    assert "Person c2" in overdue
    assert "Person l1" not in overdue
    rows = csv_rows(client.get("/cms/aware-reports/overdue/?export=csv"))
    assert sorted(r[0] for r in rows[1:]) == ["Person c1", "Person c2"]
    people = csv_rows(client.get("/cms/aware-reports/councillors/?export=csv&table=people"))
    assert {r[3] for r in people[1:]} == {"Councillor"}
    officer = council["people"]["h1"]
    councillor = council["people"]["c1"]
    assert client.get(f"/cms/aware-reports/people/{officer.pk}/").status_code == 404
    assert client.get(f"/cms/aware-reports/people/{officer.pk}/?export=csv").status_code == 404
    assert client.get(f"/cms/aware-reports/people/{councillor.pk}/").status_code == 200


@pytest.mark.parametrize("groups", [("Content editors",), ("Content approvers",)])
def test_editors_see_no_report(client, council, signed_in, groups):
    signed_in(*groups, email="editor.person@example.gov.uk")

    for url in [*PAGES, *EXPORTS, f"/cms/aware-reports/people/{council['people']['h1'].pk}/"]:
        assert_refused(client.get(url), url)


def test_learners_and_line_managers_see_no_report(client, council):
    for person in (council["people"]["h1"], council["people"]["manager"]):
        client.force_login(person)
        for url in [*PAGES, *EXPORTS]:
            response = client.get(url)
            assert_refused(response, url)
            assert b"Person" not in response.content
        assert client.get("/my-team/").status_code == (
            200 if person == council["people"]["manager"] else 403
        )


def test_report_menu_items_follow_permissions(client, council, signed_in):
    signed_in("Member Services", email="members.person@example.gov.uk")
    html = client.get("/cms/").content.decode()
    assert "/cms/aware-reports/councillors/" in html
    assert "/cms/aware-reports/compliance/" not in html


def test_overdue_list_page_shows_the_columns(client, council, signed_in):
    signed_in("HR")

    html = client.get("/cms/aware-reports/overdue/").content.decode()

    for text in ["Person l1", "Neighbourhoods &gt; Licensing", "Bo Boss", "Fraud basics", "—"]:
        assert text in html, text
    assert "Person gone" not in html


def test_overdue_csv_matches_the_list(client, council, signed_in):
    signed_in("HR")

    rows = csv_rows(client.get("/cms/aware-reports/overdue/?export=csv"))

    assert rows[0][:3] == ["Name", "Email", "Employee number"]
    assert rows[0][-2:] == ["Days overdue", "Last reminder sent"]
    by_name = {(r[0], r[5]): r for r in rows[1:]}
    assert set(by_name) == {
        ("Person c1", "Cuckooing"),
        ("Person c2", "Fraud basics"),
        ("Person h1", "Cuckooing"),
        ("Person l1", "Fraud basics"),
    }
    assert by_name[("Person l1", "Fraud basics")][7] == "3"
    assert by_name[("Person l1", "Fraud basics")][8] == "—"


def test_last_reminder_sent_comes_from_the_reminder_log(client, council, signed_in):
    from training.models import Assignment, SentMessage

    target = Assignment.objects.get(user=council["people"]["l1"], module__slug="fraud")
    sent = timezone.now().replace(year=2026, month=11, day=2)
    SentMessage.objects.create(
        recipient=target.user,
        recipient_email=target.user.email,
        kind="learner",
        period="2026-11-02",
        items=[{"assignment": target.pk, "reason": "overdue", "days": 3}],
        state="sent",
        created_at=sent,
        sent_at=sent,
    )

    signed_in("HR")
    rows = csv_rows(client.get("/cms/aware-reports/overdue/?export=csv"))
    assert {r[0]: r[8] for r in rows[1:]}["Person l1"] == "02 Nov 2026"


def test_share_outside_hr_export_has_no_small_numbers(client, council, signed_in):
    signed_in("HR")

    response = client.get("/cms/aware-reports/compliance/?export=xlsx&table=overview&share=1")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = [cell for row in sheet.iter_rows(min_row=2, values_only=True) for cell in row[3:10]]

    assert "<5" in values
    assert not [v for v in values if isinstance(v, int) and 0 < v < 5]


def test_a_large_export_is_queued_and_only_its_owner_may_download_it(
    client, council, signed_in, settings, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = str(tmp_path)
    monkeypatch.setattr("training.reports.views.ASYNC_EXPORT_ROWS", 3)
    queued = []
    monkeypatch.setattr(
        "training.tasks.report_export_build_task.apply_async",
        lambda args=(), kwargs=None: queued.append(kwargs),
    )
    owner = signed_in("HR")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.get("/cms/aware-reports/overdue/?export=csv&module=")
    export = ReportExport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/cms/aware-reports/exports/{export.pk}/"
    assert queued == [{"export_id": export.pk}]
    assert "Queued" in client.get(response["Location"]).content.decode()
    assert client.get(f"/cms/aware-reports/exports/{export.pk}/download/").status_code == 410

    from training.tasks import report_export_build_task

    report_export_build_task(export_id=export.pk)  # what the worker runs
    export.refresh_from_db()
    assert export.state == "ready"
    assert export.rows_total == 4 == export.rows_done
    assert export.owner == owner
    files = list((tmp_path / "exports").iterdir())
    assert [f.name for f in files] == [export.file_name]
    assert len(export.file_name) > 30
    download = client.get(f"/cms/aware-reports/exports/{export.pk}/download/")
    assert download.status_code == 200
    assert b"Person l1" in b"".join(download.streaming_content)

    client.logout()
    signed_in("HR", email="other.hr@example.gov.uk")
    assert_refused(client.get(f"/cms/aware-reports/exports/{export.pk}/download/"))
    assert_refused(client.get(f"/cms/aware-reports/exports/{export.pk}/"))


def test_an_expired_export_link_says_so(client, council, signed_in, settings, tmp_path):
    from training.reports.exports import report_export_build
    from training.reports.queued import report_export_request

    settings.MEDIA_ROOT = str(tmp_path)
    owner = signed_in("HR")
    export = report_export_request(
        owner=owner, report="people", export_format="xlsx", params={"_councillors_only": False}
    )
    export = report_export_build(export_id=export.pk)
    assert (tmp_path / "exports" / export.file_name).is_file()
    ReportExport.objects.filter(pk=export.pk).update(expires_at=timezone.now())

    response = client.get(f"/cms/aware-reports/exports/{export.pk}/download/")
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    assert "expired" in client.get(f"/cms/aware-reports/exports/{export.pk}/").content.decode()

    report_export_request(owner=owner, report="trend", export_format="csv", params={})
    assert not ReportExport.objects.filter(pk=export.pk).exists()
    assert not (tmp_path / "exports" / export.file_name).exists()


def test_a_queued_member_services_export_stays_councillors_only(
    client, council, signed_in, settings, tmp_path
):
    from training.reports.exports import report_export_build
    from training.reports.queued import report_export_request

    settings.MEDIA_ROOT = str(tmp_path)
    owner = signed_in("Member Services", email="members.person@example.gov.uk")
    export = report_export_request(
        owner=owner,
        report="people",
        export_format="csv",
        params={"_councillors_only": True, "person_type": "officer"},
    )
    report_export_build(export_id=export.pk)

    text = (tmp_path / "exports" / ReportExport.objects.get().file_name).read_text("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))[1:]
    assert rows
    assert {r[3] for r in rows} == {"Councillor"}


def test_scheduled_reports_run_daily_from_beat():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["reports-scheduled-daily"]
    assert entry["task"] == "training.tasks.scheduled_reports_send_task"
    assert "reports-hr-pack-monthly" not in settings.CELERY_BEAT_SCHEDULE


def test_filters_from_the_query_string_narrow_the_page_and_its_export(client, council, signed_in):
    signed_in("HR")
    finance = council["departments"]["finance"]

    page = client.get(f"/cms/aware-reports/compliance/?department={finance.pk}").content.decode()
    html = page.split('aria-label="Filter the report"')[1].split("</form>", 1)[1]
    rows = csv_rows(
        client.get(
            f"/cms/aware-reports/compliance/?department={finance.pk}&export=csv&table=people"
        )
    )

    assert "Resources &gt; Finance" in html
    assert "Neighbourhoods &gt; Housing" not in html
    assert {r[4] for r in rows[1:]} == {"Resources > Finance"}
    assert {r[0] for r in rows[1:]} == {"Person f1", "Person f2"}


def test_report_pages_take_the_same_queries_however_many_people(
    client, council, signed_in, user_factory
):
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from training.services.assignments import assignments_sync

    # The trend is cached for 15 minutes in the shared cache (Redis in CI): start this test
    # with none, so an entry an earlier test left cannot expire between the two counts.
    cache.clear()
    signed_in("HR")
    urls = ["/cms/aware-reports/compliance/", "/cms/aware-reports/overdue/"]

    def counts() -> list[int]:
        found = []
        for url in urls:
            client.get(url)  # warm per-process caches (content types, menus, the trend)
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            found.append(len(queries))
        return found

    before = counts()
    for n in range(12):
        user_factory(
            email=f"late{n}@example.gov.uk",
            full_name=f"Late {n}",
            department=council["departments"]["licensing"],
            line_manager=council["people"]["manager"],
        )
    assignments_sync()
    Assignment.objects.filter(user__email__startswith="late").update(
        due_on=timezone.localdate() - dt.timedelta(days=5)
    )

    assert counts() == before
    assert "Late 11" in client.get("/cms/aware-reports/overdue/").content.decode()


def test_hr_finds_quiz_insights_in_the_reports_menu(client, council, signed_in):
    signed_in("HR")

    html = client.get("/cms/").content.decode()

    assert "Quiz insights" in html
    assert "/cms/quizzes/statistics/" in html


@pytest.mark.parametrize(
    "database",
    [pytest.param("any", id="any-database"), pytest.param("pg", marks=pytest.mark.postgres)],
)
def test_the_person_search_with_a_nul_character_searches_the_rest(
    client, council, signed_in, database
):
    signed_in("HR")
    person = User.objects.exclude(full_name="Report Reader").first()

    response = client.get("/cms/aware-reports/people/", {"q": f"\x00{person.full_name}"})

    assert response.status_code == 200
    assert person.full_name in response.content.decode()


@pytest.mark.postgres
def test_last_reminders_for_a_batch_bind_the_people_as_one_array(council):
    """An export asks for 2,000 people at a time: one array parameter, not 2,000 placeholders,
    and the same answer as for a few."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from training.models import SentMessage
    from training.reminders.selectors import reminders_last_sent

    target = Assignment.objects.get(user=council["people"]["l1"], module__slug="fraud")
    latest = dt.datetime(2026, 11, 9, 10, tzinfo=dt.UTC)
    for day in (2, 9):
        sent = latest.replace(day=day)
        SentMessage.objects.create(
            recipient=target.user,
            recipient_email=target.user.email,
            kind="learner",
            period=f"2026-11-{day:02}",
            items=[{"assignment": target.pk, "reason": "overdue", "days": day}],
            state="sent",
            created_at=sent,
            sent_at=sent,
        )
    batch = {target.pk: target.user_id, **{-n: 10_000_000 + n for n in range(1, 2000)}}

    with CaptureQueriesContext(connection) as ctx:
        last = reminders_last_sent(assignment_users=batch)

    assert last == {target.pk: latest}
    [query] = ctx.captured_queries
    assert "= ANY(" in query["sql"]
    assert " IN (" not in query["sql"]


@pytest.mark.postgres
def test_the_people_export_is_planned_for_every_row_not_the_first(client, council, signed_in):
    """A cursor is planned for its first tenth unless told; an export reads it all. (On
    PostgreSQL the overdue export is one COPY, with no cursor.)"""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    signed_in("HR")
    with CaptureQueriesContext(connection) as ctx:
        rows = csv_rows(client.get("/cms/aware-reports/compliance/?export=csv&table=people"))

    assert len(rows) > 1
    sql = [q["sql"] for q in ctx.captured_queries]
    told = sql.index("SET LOCAL cursor_tuple_fraction = 1")
    read = next(i for i, s in enumerate(sql) if "training_assignment" in s and "ORDER BY" in s)
    assert told < read
