"""The whole site, as load_initial_data builds it, for browser tests: built once per test process
and copied back after each flush (PostgreSQL). And the shipped content for the tests that read it
(`built`), copied back the same way inside each test's transaction.

A browser test starts on a database its predecessor flushed. Building the site again (pages,
revisions, the reference and search indexes, every question) takes tens of seconds of CPU, and
the suite has dozens of such tests. So the first test that finds a freshly flushed database
builds it and keeps a binary COPY of every table, and the next ones put that copy back, with the
sequences where they were, in well under a second. The copy is used only when it is exactly what
the loader would make: the database holds nothing but what a flush leaves (content types and
permissions, which the copy replaces), and the settings the loaders read are the same. Otherwise,
and on SQLite, the loaders run as before."""

import hashlib
import os
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

# What a flush leaves behind: post_migrate makes these again at once. The copy replaces them.
REMADE_AFTER_FLUSH = {"django_content_type", "auth_permission"}

_copies: dict[tuple, "SiteCopy"] = {}


class SiteCopy:
    def __init__(self, tables: dict[str, bytes], sequences: list[tuple[str, int | None]]):
        self.tables = tables
        self.sequences = sequences


def site_tree_build() -> None:
    """The site tree load_initial_data builds: home page, standard pages, council settings."""
    from django.contrib.contenttypes.models import ContentType
    from wagtail.models import Collection, Locale, Page

    ContentType.objects.clear_cache()
    # A transactional test (live server, real worker) flushes the database afterwards, taking
    # the rows Wagtail's migrations made with it; put them back.
    Locale.objects.get_or_create(language_code=settings.LANGUAGE_CODE)
    if Page.get_first_root_node() is None:
        Page.add_root(instance=Page(title="Root", slug="root"))
    if Collection.get_first_root_node() is None:
        Collection.add_root(name="Root")
    call_command("load_cms_data", stdout=open(os.devnull, "w"))  # noqa: SIM115


def site_whole_build() -> None:
    """The site tree and everything load_initial_data adds, or the copy of them (see above)."""

    def build():
        site_tree_build()
        call_command("load_initial_data", stdout=open(os.devnull, "w"))  # noqa: SIM115

    if connection.vendor != "postgresql" or not _freshly_flushed():
        build()
        return
    key = (settings.MEDIA_ROOT, getattr(settings, "AWARE_DEMO_DATA", None))
    if key in _copies:
        _restore(_copies[key])
    else:
        build()
        _copies[key] = _take()


def built(name: str, build: Callable[[], None]) -> None:
    """Run `build` (a loader of the shipped content), or, on PostgreSQL, put back the copy of
    what it made the last time it started from exactly this database: the same rows in every
    table (a digest of their binary COPY), the same day and settings. Inside a test's
    transaction, so the test's rollback takes the copy away again."""
    if connection.vendor != "postgresql":
        build()
        return
    # The loaders stamp today's date (a page's last review): a test with the clock moved builds.
    key = (
        name,
        _digest(),
        timezone.localdate(),
        settings.MEDIA_ROOT,
        getattr(settings, "AWARE_DEMO_DATA", None),
    )
    if key in _copies:
        _restore(_copies[key])
    else:
        build()
        _copies[key] = _take()


def _digest() -> str:
    digest = hashlib.sha256()
    with connection.cursor() as cursor:
        raw = cursor.cursor
        for table in _tables():
            digest.update(table.encode())
            with raw.copy(f"COPY {_quote(table)} TO STDOUT (FORMAT binary)") as copy:
                for chunk in copy:
                    digest.update(bytes(chunk))
    return digest.hexdigest()


def _tables() -> list[str]:
    return sorted(connection.introspection.django_table_names(only_existing=True))


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _freshly_flushed() -> bool:
    tables = [t for t in _tables() if t not in REMADE_AFTER_FLUSH]
    # Table names from the schema, quoted: nothing here comes from input.
    probes = " OR ".join(f"EXISTS (SELECT 1 FROM {_quote(t)})" for t in tables)  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {probes}")
        return not cursor.fetchone()[0]


def _take() -> SiteCopy:
    tables = {}
    with connection.cursor() as cursor:
        raw = cursor.cursor
        for table in _tables():
            with raw.copy(f"COPY {_quote(table)} TO STDOUT (FORMAT binary)") as copy:
                tables[table] = b"".join(bytes(chunk) for chunk in copy)
        cursor.execute(
            "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename), last_value "
            "FROM pg_sequences WHERE schemaname = current_schema()"
        )
        sequences = cursor.fetchall()
    return SiteCopy(tables, sequences)


def _restore(copy: SiteCopy) -> None:
    from django.contrib.contenttypes.models import ContentType

    with transaction.atomic(), connection.cursor() as cursor:
        # Row triggers (the evidence tables' and the foreign keys') do not fire for a copy made
        # from rows that passed them once; a test database's owner is a superuser.
        cursor.execute("SET LOCAL session_replication_role = replica")
        # Foreign key checks still pending from rows this transaction made would refuse the
        # TRUNCATE: make them now (the rows passed them), and defer them again afterwards.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"TRUNCATE {', '.join(_quote(t) for t in copy.tables)}")
        raw = cursor.cursor
        for table, data in copy.tables.items():
            if data:
                with raw.copy(f"COPY {_quote(table)} FROM STDIN (FORMAT binary)") as stream:
                    stream.write(data)
        for sequence, last_value in copy.sequences:
            if last_value is None:
                cursor.execute("SELECT setval(%s, 1, false)", [sequence])
            else:
                cursor.execute("SELECT setval(%s, %s, true)", [sequence, last_value])
        # Inside a test's transaction, the rest of the test runs with every trigger working.
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute("SET LOCAL session_replication_role = DEFAULT")
    ContentType.objects.clear_cache()
    cache.clear()
