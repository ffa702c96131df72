"""`make bench`: time the people import and assignment sync at scale, count My training queries.

Runs in a throwaway database (like the test suite's), so it never touches real data.
"""

import time

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, setup_test_environment

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
