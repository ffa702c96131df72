"""Reads of the reminder log that other parts of training need (reports' last reminder sent)."""

from datetime import datetime

from training.models import SentMessage
from training.reminders.planning import Kind


def reminders_last_sent(*, assignment_users: dict[int, int]) -> dict[int, datetime]:
    """When a reminder last went to the learner about each assignment, given as
    {assignment id: the person's id}: one query."""
    wanted = set(assignment_users)
    users = set(assignment_users.values())
    last: dict[int, datetime] = {}
    for sent_at, items in SentMessage.objects.filter(
        kind=Kind.LEARNER, state=SentMessage.State.SENT, recipient_id__in=users
    ).values_list("sent_at", "items"):
        for item in items:
            assignment_id = item.get("assignment")
            if assignment_id in wanted and (
                assignment_id not in last or last[assignment_id] < sent_at
            ):
                last[assignment_id] = sent_at
    return last
