"""Writes for the site shell."""

import logging
from collections.abc import Sequence
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from cms.models import Heartbeat, OperationalAlert

logger = logging.getLogger(__name__)


def heartbeat_record(*, name: str) -> Heartbeat:
    """Record that a background process is alive now (one row per name, updated in place)."""
    heartbeat, _ = Heartbeat.objects.update_or_create(
        name=name, defaults={"seen_at": timezone.now()}
    )
    return heartbeat


def operational_alert_open(*, kind: str, detail: str, now: datetime | None = None) -> bool:
    """Open an alert of this kind unless one is open already (race-safe: one open alert a kind,
    in the database), updating what it says. True when this call opened it. Sends nothing."""
    now, detail = now or timezone.now(), detail[:250]
    if OperationalAlert.objects.filter(kind=kind, cleared_at__isnull=True).update(detail=detail):
        return False
    try:
        with transaction.atomic():
            OperationalAlert.objects.create(kind=kind, detail=detail, opened_at=now)
    except IntegrityError:  # another check opened it a moment ago
        return False
    return True


def operational_alert_clear(*, kind: str, now: datetime | None = None) -> bool:
    """Close the open alert of this kind, if any (its row is kept). True when one was open."""
    return bool(
        OperationalAlert.objects.filter(kind=kind, cleared_at__isnull=True).update(
            cleared_at=now or timezone.now()
        )
    )


def task_enqueue_on_commit(task, *args, countdown: int | None = None, **kwargs) -> None:
    """Queue a Celery task once the current transaction commits (to run `countdown` seconds
    later, if given).

    A dead broker must never cost the user their request: the failure is logged (task name
    only, no arguments, which may hold personal data) and the state-based sweeps catch up.
    """

    def send():
        try:
            options = {"countdown": countdown} if countdown else {}
            task.apply_async(args=args, kwargs=kwargs, **options)
        except Exception:
            logger.exception("Could not queue task %s; the broker is unreachable", task.name)

    transaction.on_commit(send)


def task_enqueue_each_on_commit(task, args_list: list[tuple]) -> None:
    """Queue `task` once for each tuple of arguments once the current transaction commits, all
    over one broker connection.

    A dead broker is found at the first message and logged once; the rest are not tried (each
    would wait out the connection timeout). What they were for waits in its state-based log for
    a retry (for messages, training.tasks.messages_retry_task; for the outbox,
    accounts.tasks.queued_emails_retry_task)."""
    if not args_list:
        return

    def send():
        try:
            with task.app.producer_or_acquire() as producer:
                for args in args_list:
                    task.apply_async(args=args, producer=producer)
        except Exception:
            logger.exception(
                "Could not queue task %s (%d of them); the broker is unreachable",
                task.name,
                len(args_list),
            )

    transaction.on_commit(send)


def rows_update(model, objs: Sequence, fields: list[str], *, chunk: int = 1000) -> None:
    """Save `fields` of `objs` (instances of `model`, each with its pk). On PostgreSQL one
    UPDATE ... FROM (VALUES ...) per `chunk` rows: Django's bulk_update builds a CASE per field
    and row, whose cost grows with the batch squared, and at a million rows it was most of the
    seeding's time. Elsewhere bulk_update."""
    objs = list(objs)
    if connection.vendor != "postgresql":
        model.objects.bulk_update(objs, fields, batch_size=chunk)
        return
    columns = [model._meta.get_field(name) for name in fields]
    table = connection.ops.quote_name(model._meta.db_table)
    pk = connection.ops.quote_name(model._meta.pk.column)
    names = [connection.ops.quote_name(f.column) for f in columns]
    row = "(%s, " + ", ".join(f"%s::{f.db_type(connection)}" for f in columns) + ")"
    assign = ", ".join(f"{name} = v.{name}" for name in names)
    for start in range(0, len(objs), chunk):
        rows = objs[start : start + chunk]
        params = [
            v
            for obj in rows
            for v in (
                obj.pk,
                *(f.get_db_prep_save(getattr(obj, f.attname), connection) for f in columns),
            )
        ]
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} t SET {assign} FROM (VALUES {', '.join([row] * len(rows))}) "  # noqa: S608 - names from the model, values as parameters
                f"v(id, {', '.join(names)}) WHERE t.{pk} = v.id",
                params,
            )
