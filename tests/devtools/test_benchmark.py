"""`make bench` on anything but PostgreSQL says what it needs and stops, before it writes."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from devtools.management.commands.benchmark import Command


def test_the_benchmark_refuses_a_database_that_is_not_postgresql(monkeypatch):
    # Whatever the suite runs on, the command must see a database that is not PostgreSQL.
    monkeypatch.setattr(connection, "vendor", "sqlite")

    with pytest.raises(
        CommandError, match=r"make bench needs PostgreSQL.*DATABASE_URL=postgres://"
    ):
        call_command("benchmark", "--learners", "10")


def test_each_figure_is_printed_beside_its_goal_and_the_short_ones_are_named():
    command = Command(stdout=StringIO())
    command.learners, command.goals = 2000, []
    command.goal("overdue list first page", "1.80x hand SQL", "<= 1.5x", 1.8 <= 1.5)
    command.goal("full overdue export peak RSS", "120 MB", "< 200 MB", 120 < 200)
    note = command.at_size(20_000)
    command.goal("people import", "3.0 s", "< 60 s at 20,000", None if note else True, note)

    command.goals_report()

    lines = command.stdout.getvalue().splitlines()
    assert "  overdue list first page: 1.80x hand SQL (goal <= 1.5x) SHORT" in lines
    assert "  full overdue export peak RSS: 120 MB (goal < 200 MB) OK" in lines
    assert (
        "  people import: 3.0 s (goal < 60 s at 20,000; not judged in a 2,000-learner run) "
        "NOT JUDGED"
    ) in lines
    # The figures that need gunicorn and wrk are listed, as not measured, not as met.
    assert sum(line.endswith("NOT MEASURED") for line in lines) == 3
    assert lines[-1] == (
        "1 of 6 figures meet their goal, 1 falls short (overdue list first page), "
        "4 not measured or not judged at this size."
    )
