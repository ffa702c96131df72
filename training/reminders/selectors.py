"""Reads of the reminder log that other parts of training need (reports' last reminder sent)."""

from datetime import datetime

from django.db import connection
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL

from training.models import SentMessage
from training.reminders.planning import Kind


def reminders_last_sent(*, assignment_users: dict[int, int]) -> dict[int, datetime]:
    """When a reminder last went to the learner about each assignment, given as
    {assignment id: the person's id}: one query."""
    wanted = set(assignment_users)
    users = set(assignment_users.values())
    last: dict[int, datetime] = {}
    for sent_at, items in SentMessage.objects.filter(
        _sent_to_any_of(users), kind=Kind.LEARNER, state=SentMessage.State.SENT
    ).values_list("sent_at", "items"):
        for item in items:
            assignment_id = item.get("assignment")
            if assignment_id in wanted and (
                assignment_id not in last or last[assignment_id] < sent_at
            ):
                last[assignment_id] = sent_at
    return last


def _sent_to_any_of(users: set[int]) -> Q | RawSQL:
    """Messages to any of these people. On PostgreSQL the ids go as one array parameter: an
    export asks for 2,000 people at a time, and 2,000 placeholders cost more to build and bind
    than the query takes to run."""
    if connection.vendor != "postgresql":
        return Q(recipient_id__in=users)
    column = f'"{SentMessage._meta.db_table}"."recipient_id"'
    # The ids go as a parameter; the SQL is a fixed column name.
    return RawSQL(f"{column} = ANY(%s)", (list(users),), output_field=BooleanField())  # noqa: S611
