"""PostgreSQL advisory locks for training: every lock id in one enum, one helper to take them."""

from enum import IntEnum

from django.db import connection


class Lock(IntEnum):
    """Ids of the advisory locks (unique across the database: another app must not reuse them)."""

    COMPLETION_CHAIN = 7_242_001  # one writer appends to the completion chain at a time
    REMINDER_SWEEP = 7_242_002  # one reminder sweep at a time
    REPORT_COUNTS = 7_242_003  # one count of the report snapshot at a time


def advisory_lock(lock: Lock, *, wait: bool = True) -> bool:
    """Hold `lock` until the current transaction ends (call it inside `atomic()`).

    With `wait=False`, returns False at once when another transaction holds it. SQLite (the
    embedded default) lets one transaction write at a time anyway, so there it returns True."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int(lock)])
            return True
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [int(lock)])
        return cursor.fetchone()[0]
