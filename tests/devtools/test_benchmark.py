"""`make bench` on anything but PostgreSQL says what it needs and stops, before it writes."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection


def test_the_benchmark_refuses_a_database_that_is_not_postgresql(monkeypatch):
    # Whatever the suite runs on, the command must see a database that is not PostgreSQL.
    monkeypatch.setattr(connection, "vendor", "sqlite")

    with pytest.raises(
        CommandError, match=r"make bench needs PostgreSQL.*DATABASE_URL=postgres://"
    ):
        call_command("benchmark", "--learners", "10")
