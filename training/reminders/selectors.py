"""Reads of the reminder log that other parts of training need (reports' last reminder sent)."""

from datetime import datetime

from django.db import connection
from django.db.models import BooleanField, Count, Q
from django.db.models.expressions import RawSQL

from training.models import SentMessage
from training.reminders.planning import Kind


def reminders_last_sent(*, assignment_users: dict[int, int]) -> dict[int, datetime]:
    """When a reminder last went to the learner about each assignment, given as
    {assignment id: the person's id}: one query."""
    users = set(assignment_users.values())
    last: dict[int, datetime] = {}
    for recipient_id, sent_at, items in SentMessage.objects.filter(
        _sent_to_any_of(users), kind=Kind.LEARNER, state=SentMessage.State.SENT
    ).values_list("recipient_id", "sent_at", "items"):
        for item in items:
            assignment_id = item.get("assignment")
            # Only the assignment's own learner's digests: another person's digest naming it
            # (which never happens) is no reminder to them.
            if assignment_users.get(assignment_id) == recipient_id and (
                assignment_id not in last or last[assignment_id] < sent_at
            ):
                last[assignment_id] = sent_at
    return last


def messages_sent_by_kind(*, since: datetime, until: datetime) -> list[tuple[str, int]]:
    """How many emails of each kind were sent between two moments, as (label, count) in the
    order kinds are listed; kinds with none are listed with 0. One query."""
    counts = dict(
        SentMessage.objects.filter(
            state=SentMessage.State.SENT, sent_at__gte=since, sent_at__lt=until
        )
        .order_by()
        .values_list("kind")
        .annotate(n=Count("pk"))
    )
    return [
        (label, counts.get(kind, 0))
        for kind, label in Kind.choices
        if kind != Kind.HR_PACK or counts.get(kind)
    ]


def _sent_to_any_of(users: set[int]) -> Q | RawSQL:
    """Messages to any of these people. On PostgreSQL the ids go as one array parameter: an
    export asks for 2,000 people at a time, and 2,000 placeholders cost more to build and bind
    than the query takes to run."""
    if connection.vendor != "postgresql":
        return Q(recipient_id__in=users)
    column = f'"{SentMessage._meta.db_table}"."recipient_id"'
    # The ids go as a parameter; the SQL is a fixed column name.
    return RawSQL(f"{column} = ANY(%s)", (list(users),), output_field=BooleanField())  # noqa: S611
