"""Scaled out, everything scheduled or queued happens once: two Celery workers and two beats
(real processes, on this machine's PostgreSQL and a redis-server of our own, stopped by their
pids) run the reminder sweep and the scheduled reports every second (beat's database schedule,
set to every second), and build a report export whose task is delivered twice."""

import pytest
import redis
from django.db import connection, transaction
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from accounts.models import User
from tests.training.test_scheduled_once import (  # noqa: F401
    hr_mailbox,
    overdue_people,
    pack_schedule,
)
from tests.workers import (
    CeleryBeat,
    CeleryWorker,
    HoldingInbox,
    RedisServer,
    SmtpServer,
    database_url,
    wait_for,
)
from training.models import ReportExport, ScheduledReport, SentMessage
from training.reports.queued import report_export_request
from training.tasks import report_export_build_task

# The beat entries (names as in settings.CELERY_BEAT_SCHEDULE), due every second.
SCHEDULE = {
    "reminder-sweep": "training.tasks.reminders_sweep_task",
    "reports-scheduled-daily": "training.tasks.scheduled_reports_send_task",
}
SWEEP = "Sending due task reminder-sweep"
PACK = "Sending due task reports-scheduled-daily"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_and_two_beats_send_each_email_once_and_build_each_export_once(
    overdue_people,  # noqa: F811
    hr_mailbox,  # noqa: F811
    pack_schedule,  # noqa: F811
    project_broker,
    tmp_path,
):
    officers = overdue_people(6)
    hr_lead = User.objects.get(email=pack_schedule)
    media = tmp_path / "media"
    every_second = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.SECONDS)
    for name, task in SCHEDULE.items():
        PeriodicTask.objects.update_or_create(
            name=name, defaults={"task": task, "interval": every_second, "crontab": None}
        )
    broker = RedisServer().start()
    inbox = HoldingInbox()
    processes = []
    try:
        with SmtpServer(inbox) as smtp:

            def process(kind, name):
                started = kind(
                    broker_url=broker.url,
                    database_url=database_url(),
                    smtp_port=smtp.port,
                    log=tmp_path / f"{name}.log",
                    settings="tests.scale_settings",
                    name=name,
                    env={"AWARE_TEST_MEDIA_ROOT": str(media)},
                ).start()
                processes.append(started)
                return started

            # A large export, and its task delivered a second time (as Redis redelivers a task
            # whose worker did not acknowledge it). The test holds the export's row until both
            # workers have reached it, so the two deliveries meet as on two busy workers.
            project_broker(broker.url)
            export = report_export_request(
                owner=hr_lead, report="overdue", export_format="csv", params={}
            )
            with transaction.atomic():
                ReportExport.objects.select_for_update().get(pk=export.pk)
                report_export_build_task.apply_async(kwargs={"export_id": export.pk})
                workers = [process(CeleryWorker, name) for name in ("worker1", "worker2")]
                beats = [process(CeleryBeat, name) for name in ("beat1", "beat2")]
                wait_for(
                    lambda: _waiting_on_the_export_row() == 2,
                    seconds=60,
                    what="both workers to reach the export",
                )

            def settled() -> bool:
                fired = all(
                    b.output().count(SWEEP) >= 2 and b.output().count(PACK) >= 2 for b in beats
                )
                logged = SentMessage.objects.count()
                return (
                    fired
                    and logged >= len(officers) + 1
                    and not SentMessage.objects.exclude(state=SentMessage.State.SENT).exists()
                    and len(inbox.messages) >= logged
                    and ReportExport.objects.get(pk=export.pk).state != ReportExport.State.QUEUED
                    and ReportExport.objects.get(pk=export.pk).state != ReportExport.State.RUNNING
                )

            wait_for(settled, seconds=90, what="both beats to fire twice and the sends to settle")
            for beat in beats:
                beat.stop()
            queue = redis.Redis.from_url(broker.url)
            wait_for(lambda: queue.llen("celery") == 0, seconds=30, what="the queue to empty")
            for worker in workers:
                worker.stop()  # a warm shutdown: each finishes the task in hand
            outputs = [p.output() for p in processes]
    finally:
        for started in processes:
            started.kill()
        broker.stop()

    logged = SentMessage.objects.all()
    assert sorted(r for envelope in inbox.messages for r in envelope.rcpt_tos) == sorted(
        message.recipient_email for message in logged
    )
    # The HR lead who gets the pack is in the "All" audience too, so overdue like the officers.
    assert sorted(m.recipient_email for m in logged if m.kind == SentMessage.Kind.LEARNER) == (
        sorted([*officers, pack_schedule])
    )
    schedule = ScheduledReport.objects.get()
    assert [m.period for m in logged if m.kind == SentMessage.Kind.SCHEDULED_REPORT] == [
        f"{schedule.pk}/{timezone.localdate():%Y-%m}"
    ]
    export.refresh_from_db()
    assert export.state == ReportExport.State.READY
    assert [path.name for path in (media / "exports").iterdir()] == [export.file_name]
    worker_outputs = outputs[:2]
    assert all("succeeded" in output for output in worker_outputs), "a worker did nothing"


def _waiting_on_the_export_row() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # a transaction keeps its first look
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND query ILIKE %s",
            ["%training_reportexport%"],
        )
        return cursor.fetchone()[0]
