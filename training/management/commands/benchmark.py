"""`make bench`: people import, assignment sync, My training and HR reports on a synthetic council.

Runs in a throwaway database (like the test suite's), so it never touches real data.
"""

import os
import subprocess
import sys
import time
from datetime import timedelta

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, setup_test_environment
from django.utils import timezone

from accounts.services import people_import
from training.scale import activity_seed, busiest_learner, people_csv
from training.services import assignments_sync


class Command(BaseCommand):
    help = "Benchmarks on a synthetic council in a throwaway database; one line per figure."

    def add_arguments(self, parser):
        parser.add_argument("--learners", type=int, default=20000)

    def handle(self, *args, learners: int, **options):
        setup_test_environment()
        # Its own throwaway database, never the test suite's or the real one.
        connection.settings_dict["TEST"]["NAME"] = "aware_benchmark"
        old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
        try:
            self.run(learners)
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0)

    def run(self, learners: int) -> None:
        from django.conf import settings

        from config.celery_app import app as celery_app

        # Tasks the import queues (invitations, the follow-up sync) go to an in-memory broker
        # that nothing reads: the figures time the import itself, and no email goes out.
        settings.EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
        celery_app.conf.broker_url = "memory://"
        celery_app.conf.task_always_eager = False
        out = self.stdout
        call_command("load_initial_data", stdout=open("/dev/null", "w"))  # noqa: SIM115
        text = people_csv(learners=learners)

        started = time.perf_counter()
        result = people_import(text=text)
        out.write(
            f"import_people {learners} rows: {time.perf_counter() - started:.1f} s "
            f"({result.created} created, {len(result.errors)} bad rows)"
        )

        started = time.perf_counter()
        sync = assignments_sync()
        out.write(
            f"sync_assignments {learners} learners: {time.perf_counter() - started:.1f} s "
            f"({sync.created} assignments created)"
        )

        started = time.perf_counter()
        progress, records = activity_seed()
        out.write(
            f"seed activity: {progress} progress rows, {records} completion records in "
            f"{time.perf_counter() - started:.1f} s"
        )

        started = time.perf_counter()
        again = assignments_sync()
        out.write(
            f"sync_assignments again (nothing to change): "
            f"{time.perf_counter() - started:.1f} s ({again.created} created, "
            f"{again.closed} closed)"
        )

        learner = busiest_learner()
        client = Client()
        client.force_login(learner)
        client.get("/my-training/")
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get("/my-training/")
            elapsed = time.perf_counter() - started
        assignments = learner.assignments.filter(closed_at__isnull=True).count()
        out.write(
            f"my_training queries: {len(queries)} for {assignments} assignments "
            f"(HTTP {response.status_code}, {elapsed * 1000:.0f} ms)"
        )
        self.report_benchmarks()
        self.reminder_benchmark()

    def reminder_benchmark(self) -> None:
        """The reminder sweep with about a fifth of open assignments overdue: wall time, queries
        and messages produced (sending is queued to the dead-end broker, so not timed)."""
        from django.utils import timezone

        from training.models import Assignment, SentMessage
        from training.reminders import reminders_sweep

        today = timezone.localdate()
        open_ids = list(
            Assignment.objects.open().filter(completed_at__isnull=True).values_list("pk", flat=True)
        )
        overdue = open_ids[::3][: len(open_ids) // 5 + 1]
        Assignment.objects.filter(pk__in=overdue).update(due_on=today - timedelta(days=20))
        total = Assignment.objects.open().count()
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            result = reminders_sweep()
            elapsed = time.perf_counter() - started
        self.stdout.write(
            f"reminder sweep: {elapsed:.1f} s, {len(queries)} queries, "
            f"{result.created} emails logged and queued ({len(overdue)} of {total} open "
            f"assignments overdue)"
        )
        started = time.perf_counter()
        again = reminders_sweep()
        self.stdout.write(
            f"reminder sweep again the same day: {time.perf_counter() - started:.1f} s, "
            f"{again.created} new emails (total logged {SentMessage.objects.count()})"
        )

    def report_benchmarks(self) -> None:
        """HR reports: the overview (unfiltered and for one directorate), the overdue list's first
        page and its full CSV export, each beside one hand-written SQL query doing the same."""
        import statistics

        from accounts.models import Department
        from training.reports import ReportFilters, compliance_overview, overdue_assignments

        out = self.stdout
        # As of 60 days on, every unfinished assignment is overdue: the overdue list at its
        # longest. Fresh planner statistics, as autovacuum would have gathered after the seed.
        now = timezone.now() + timedelta(days=60)
        today = timezone.localdate(now)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

        def median_time(run) -> tuple[float, int]:
            times, queries = [], 0
            for _ in range(5):
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    run()
                    times.append(time.perf_counter() - started)
                queries = len(captured)
            return statistics.median(times), queries

        def sql(query: str, params: list) -> None:
            with connection.cursor() as cursor:
                cursor.execute(query, params)
                cursor.fetchall()

        directorate = Department.get_root_nodes().first()
        for label, filters, where, params in [
            ("unfiltered", ReportFilters(), "", []),
            (
                f"department {directorate.name}",
                ReportFilters(department=directorate),
                "AND d.path LIKE %s",
                [directorate.path + "%"],
            ),
        ]:
            elapsed, queries = median_time(
                lambda f=filters: compliance_overview(filters=f, now=now)
            )
            hand, _ = median_time(
                lambda w=where, p=params: sql(
                    OVERVIEW_SQL.replace("AND_WHERE", w), [now, now, today, today, *p]
                )
            )
            out.write(
                f"report overview {label}: median {elapsed * 1000:.0f} ms, {queries} queries; "
                f"one hand-written SQL {hand * 1000:.0f} ms (ratio {elapsed / hand:.1f}x)"
            )

        def first_page():
            page = overdue_assignments(filters=ReportFilters(), now=now)
            page.count()
            list(page[:50])

        elapsed, queries = median_time(first_page)
        hand, _ = median_time(lambda: sql(OVERDUE_PAGE_SQL, [today, today]))
        out.write(
            f"report overdue first page: median {elapsed * 1000:.0f} ms, {queries} queries; "
            f"hand-written SQL {hand * 1000:.0f} ms (ratio {elapsed / hand:.1f}x)"
        )

        # In a fresh process, so its peak memory is the export's and not the seeding's.
        probe = subprocess.run(  # noqa: S603 - our own interpreter and code
            [sys.executable, "manage.py", "shell", "-c", EXPORT_PROBE % now.isoformat()],
            env={**os.environ, "DATABASE_URL": _database_url(connection.settings_dict)},
            capture_output=True,
            text=True,
            check=True,
        )
        rows, elapsed, rss_before, rss_after = probe.stdout.split()[-4:]
        rows, elapsed = int(rows), float(elapsed)
        started = time.perf_counter()
        with connection.cursor() as cursor, open("/dev/null", "w") as sink:
            cursor.execute(OVERDUE_EXPORT_SQL, [today, today])
            while batch := cursor.fetchmany(2000):
                for row in batch:
                    sink.write(",".join(str(v) for v in row) + "\n")
        hand = time.perf_counter() - started
        out.write(
            f"report overdue CSV export: {rows - 1} rows in {elapsed:.1f} s, peak RSS "
            f"{rss_after} MB (the process had {rss_before} MB before it); hand-written SQL "
            f"{hand:.1f} s (ratio {elapsed / hand:.1f}x)"
        )


def _database_url(settings_dict: dict) -> str:
    user, password = settings_dict["USER"], settings_dict["PASSWORD"]
    credentials = f"{user}:{password}@" if password else f"{user}@" if user else ""
    host = settings_dict["HOST"] or "127.0.0.1"
    port = settings_dict["PORT"] or 5432
    return f"postgres://{credentials}{host}:{port}/{settings_dict['NAME']}"


# Peak memory is the process's VmHWM: getrusage's ru_maxrss would carry over the benchmark's own
# peak into the child (Linux keeps it across fork and exec).
EXPORT_PROBE = """
import resource, time
from datetime import datetime
from pathlib import Path
from training.report_services import csv_lines
from training.reports import ReportFilters, overdue_table

def peak_mb():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024

before = peak_mb()
started = time.perf_counter()
rows = 0
with open("/dev/null", "w") as sink:
    for line in csv_lines(overdue_table(filters=ReportFilters(), now=datetime.fromisoformat("%s"))):
        sink.write(line)
        rows += 1
elapsed = time.perf_counter() - started
print(rows, round(elapsed, 2), before, peak_mb())
"""

# The same aggregates written by hand, from the definitions in training/reports.py.
OVERVIEW_SQL = """
    SELECT a.module_id, u.person_type, u.department_id,
      COUNT(*),
      COUNT(*) FILTER (WHERE a.exempt_reason = '' AND a.completed_at IS NOT NULL
        AND (a.valid_until IS NULL OR a.valid_until > %s)),
      COUNT(*) FILTER (WHERE a.exempt_reason = '' AND a.valid_until <= %s),
      COUNT(*) FILTER (WHERE a.exempt_reason = '' AND a.completed_at IS NULL AND a.due_on < %s),
      COUNT(*) FILTER (WHERE a.exempt_reason = '' AND a.completed_at IS NULL AND a.due_on >= %s
        AND a.started_at IS NOT NULL),
      COUNT(*) FILTER (WHERE a.exempt_reason <> '')
    FROM training_assignment a
    JOIN accounts_user u ON u.id = a.user_id
    LEFT JOIN accounts_department d ON d.id = u.department_id
    WHERE a.closed_at IS NULL AND u.is_active AND_WHERE
    GROUP BY a.module_id, u.person_type, u.department_id
"""
_OVERDUE_FROM = """
    FROM training_assignment a
    JOIN accounts_user u ON u.id = a.user_id
    LEFT JOIN accounts_department d ON d.id = u.department_id
    LEFT JOIN accounts_user m ON m.id = u.line_manager_id
    JOIN wagtailcore_page p ON p.id = a.module_id
    WHERE a.closed_at IS NULL AND u.is_active AND a.exempt_reason = ''
      AND a.completed_at IS NULL AND a.due_on < %s
"""
OVERDUE_COLUMNS = "u.full_name, u.email, d.path, m.full_name, p.title, a.due_on, %s - a.due_on"
OVERDUE_PAGE_SQL = (
    f"SELECT COUNT(*), NULL {_OVERDUE_FROM} UNION ALL "
    f"(SELECT a.id, a.due_on {_OVERDUE_FROM} ORDER BY a.due_on, u.full_name, a.id LIMIT 50)"
)
OVERDUE_EXPORT_SQL = (
    f"SELECT {OVERDUE_COLUMNS} {_OVERDUE_FROM} ORDER BY a.due_on, u.full_name, a.id"
)
