"""Lift the evidence tables' append-only triggers, as someone with the database's DDL rights
could: tests of what verify_records catches, and the test suite's own flushes."""

from collections.abc import Iterator
from contextlib import contextmanager

import pgtrigger
from django.db import connection as default_connection

EVIDENCE_TABLES = (
    "training_modulecompletion",
    "training_quizpass",
    "training_sentmessage",
    "training_toolboxsession",
    "training_toolboxpresence",
    "training_toolboxattendance",
)
URIS = {
    "training_modulecompletion": ["training.ModuleCompletion:append_only"],
    "training_quizpass": ["training.QuizPass:append_only"],
    "training_sentmessage": [
        "training.SentMessage:no_delete",
        "training.SentMessage:what_was_sent_fixed",
    ],
    "training_toolboxsession": [
        "training.ToolboxSession:toolbox_session_no_delete",
        "training.ToolboxSession:toolbox_session_fixed",
        "training.ToolboxSession:toolbox_session_closed_stays",
    ],
    "training_toolboxpresence": ["training.ToolboxPresence:append_only"],
    "training_toolboxattendance": ["training.ToolboxAttendance:append_only"],
}


@contextmanager
def evidence_triggers_lifted(*tables: str, connection=default_connection) -> Iterator[None]:
    """Ignore (PostgreSQL) or drop (SQLite) the tables' triggers for the block, then put them
    back exactly as they were."""
    tables = tables or EVIDENCE_TABLES
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # pgtrigger's session switch, which any session can set: the triggers stop
            # mistakes and the application's own paths; the keyed chain and checkpoints catch
            # the rest.
            uris = [uri for table in tables for uri in URIS[table]]
            with pgtrigger.ignore(*uris, databases=[connection.alias]):
                yield
            return
        cursor.execute("SELECT name, sql, tbl_name FROM sqlite_master WHERE type = 'trigger'")
        saved = [(name, sql) for name, sql, table in cursor.fetchall() if table in tables]
        for name, _ in saved:
            cursor.execute(f"DROP TRIGGER {name}")
        try:
            yield
        finally:
            for _, sql in saved:
                cursor.execute(sql)
