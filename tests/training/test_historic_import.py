"""Historic completions from a previous LMS: checked whole, appended to the evidence chain once
however often a file is imported, and every import recorded, from the command line or the admin."""

import threading
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from wagtail.models import ModelLogEntry

from tests.factories import module_with_lessons
from training.import_admin import CompletionImportUploadForm
from training.models import CompletionImport, ModuleCompletion
from training.services.historic import historic_completions_import

pytestmark = pytest.mark.django_db
HEADER = "email,module,module_version,completed_on,score,expires_on\n"
UPLOAD_URL = "/cms/completions/import/"


def row(day: int, email: str = "alex@example.gov.uk") -> str:
    return f"{email},fraud-basics,1,2024-01-{day:02d},90,\n"


@pytest.fixture
def people(site, user_factory):
    module_with_lessons(1, slug="fraud-basics")
    return user_factory(email="alex@example.gov.uk")


def run(tmp_path, body, *flags, name="completions.csv"):
    path = tmp_path / name
    path.write_text(HEADER + body)
    out = StringIO()
    call_command("import_completions", str(path), *flags, stdout=out)
    return out.getvalue()


def verified_intact() -> bool:
    verify = StringIO()
    call_command("verify_records", stdout=verify)
    return "intact" in verify.getvalue()


def test_good_rows_become_records_in_the_chain(tmp_path, people):
    output = run(tmp_path, "alex@example.gov.uk,fraud-basics,1,2024-03-31,85,2026-03-31\n")

    record = ModuleCompletion.objects.get()
    assert (record.source, record.score, record.module_version) == ("import", 85, 1)
    assert record.expires_at.date().isoformat() == "2026-03-31"
    assert "Imported 1 completion" in output
    assert verified_intact()


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("nobody@example.gov.uk,fraud-basics,1,2024-03-31,85,", "nobody with email"),
        ("not-an-email,fraud-basics,1,2024-03-31,85,", "not a valid address"),
        ("alex@example.gov.uk,no-such-module,1,2024-03-31,85,", "no module"),
        ("alex@example.gov.uk,fraud-basics,7,2024-03-31,85,", "module version must be"),
        ("alex@example.gov.uk,fraud-basics,1,31/03/2024,85,", "is not a date"),
        ("alex@example.gov.uk,fraud-basics,1,2999-01-01,85,", "in the future"),
        ("alex@example.gov.uk,fraud-basics,1,2024-03-31,185,", "score must be"),
        ("alex@example.gov.uk,fraud-basics,1,2024-03-31,eighty,", "not a whole number"),
        ("alex@example.gov.uk,fraud-basics,1,2024-03-31,85,2023-01-01", "must be after"),
        ("alex@example.gov.uk,fraud-basics,1", "is not a date"),  # a short row
    ],
)
def test_each_bad_row_is_reported_by_line_and_nothing_is_written(tmp_path, people, row, reason):
    good = "alex@example.gov.uk,fraud-basics,1,2024-01-31,90,\n"
    path = tmp_path / "completions.csv"
    path.write_text(HEADER + good + row + "\n")
    out = StringIO()

    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_completions", str(path), stdout=out)

    assert "line 3: " in out.getvalue()
    assert reason in out.getvalue()
    assert not ModuleCompletion.objects.exists()
    assert not CompletionImport.objects.exists()


def test_duplicates_are_caught_and_valid_rows_can_be_imported(tmp_path, people):
    output = run(tmp_path, row(31) + row(31), "--import-valid-rows")

    assert "line 3: the same completion appears twice" in output
    assert ModuleCompletion.objects.count() == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"name,course\nAlex,Fraud\n", "missing column(s): email, module"),
        (HEADER.encode(), "no completions"),
        (
            (HEADER + "zo\u00eb@example.gov.uk,fraud-basics,1,2024-01-01,90,\n").encode("cp1252"),
            "UTF-8",
        ),
    ],
)
def test_an_unreadable_file_is_refused_whole(tmp_path, people, content, message):
    path = tmp_path / "completions.csv"
    path.write_bytes(content)

    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call_command("import_completions", str(path), stdout=StringIO())
    assert not ModuleCompletion.objects.exists()


# IDEMPOTENT: a completion already imported is never added again.


def test_the_same_file_imported_twice_adds_nothing_the_second_time(tmp_path, people):
    body = row(1) + row(2) + row(3)
    first = run(tmp_path, body)
    codes = set(ModuleCompletion.objects.values_list("verification_code", flat=True))

    second = run(tmp_path, body)

    assert "Imported 3 completion(s); 0 already recorded" in first
    assert "Imported 0 completion(s); 3 already recorded (not added again)" in second
    assert set(ModuleCompletion.objects.values_list("verification_code", flat=True)) == codes
    assert verified_intact()


def test_a_file_overlapping_an_earlier_one_adds_only_the_new_rows(tmp_path, people, user_factory):
    user_factory(email="sam@example.gov.uk")
    run(tmp_path, row(1) + row(2))

    output = run(tmp_path, row(2) + row(3) + row(2, email="sam@example.gov.uk"))

    assert "Imported 2 completion(s); 1 already recorded" in output
    dates = ModuleCompletion.objects.filter(user=people).values_list("completed_at", flat=True)
    assert sorted(d.day for d in dates) == [1, 2, 3]
    assert ModuleCompletion.objects.filter(user__email="sam@example.gov.uk").count() == 1


def test_a_record_made_in_aware_the_same_day_is_not_taken_for_the_import(tmp_path, people):
    from training.models import ModulePage
    from training.services.completion import completion_record_create

    alex = people
    module = ModulePage.objects.get(slug="fraud-basics")
    run(tmp_path, row(1))
    # The same day, completed in Aware itself: a separate piece of evidence.
    completion_record_create(
        user=alex,
        module=module,
        module_version=1,
        score=80,
        completed_at=ModuleCompletion.objects.get().completed_at + timedelta(hours=1),
    )

    output = run(tmp_path, row(1) + row(2))

    assert "Imported 1 completion(s); 1 already recorded" in output
    assert ModuleCompletion.objects.filter(source="import").count() == 2


def test_a_command_line_import_is_recorded_like_an_admin_one(tmp_path, people):
    run(tmp_path, row(1) + row(2), name="old-lms-2024.csv")
    run(
        tmp_path,
        row(2) + row(3) + "not-an-email,fraud-basics,1,2024-01-04,90,\n",
        "--import-valid-rows",
    )

    older, newer = CompletionImport.objects.order_by("pk")
    assert (older.filename, older.imported_by, older.imported_by_label) == (
        "old-lms-2024.csv",
        None,
        "command line",
    )
    assert (older.imported, older.already_recorded, older.refused) == (2, 0, 0)
    assert (newer.imported, newer.already_recorded, newer.refused) == (1, 1, 1)
    assert older.imported_at is not None
    assert newer.csv_text == ""
    logged = ModelLogEntry.objects.filter(action="aware.import").order_by("pk")
    assert [(e.user, e.data["run_by"], e.data["filename"]) for e in logged] == [
        (None, "command line", "old-lms-2024.csv"),
        (None, "command line", "completions.csv"),
    ]


# ADMIN: upload, preview, confirm once (HR only).


@pytest.fixture
def hr_client(client, people, signed_in_with_mfa):
    signed_in_with_mfa("hr.person@example.gov.uk", groups=["HR"])
    return client


def upload(client, content: str | bytes, name: str = "completions.csv"):
    data = content.encode() if isinstance(content, str) else content
    return client.post(
        UPLOAD_URL, {"file": SimpleUploadedFile(name, data, content_type="text/csv")}
    )


def flash(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def mixed_file() -> str:
    """Two new rows, one already on record and two with errors."""
    historic_completions_import(text=HEADER + row(1))
    bad = "alex@example.gov.uk,fraud-basics,1,2024-01-05,185,\n"
    return (
        HEADER
        + row(1)
        + row(2)
        + row(3)
        + bad
        + "nobody@example.gov.uk,fraud-basics,1,2024-01-06,90,\n"
    )


def confirm_data(client, location) -> dict:
    return dict(client.get(location).context["confirm_form"].initial)


def test_hr_sees_the_menu_item_the_upload_page_and_past_imports(hr_client, tmp_path):
    run(tmp_path, row(1), name="from-the-old-lms.csv")

    dashboard = hr_client.get("/cms/").content.decode()
    page = hr_client.get(UPLOAD_URL).content.decode()

    assert "Import completions" in dashboard
    assert 'type="file"' in page
    assert "completed_on" in page
    assert (
        "<td>command line</td><td>from-the-old-lms.csv</td><td>1</td><td>0</td><td>0</td>" in page
    )


def test_the_preview_shows_counts_and_every_bad_row_and_writes_nothing(hr_client):
    uploaded = upload(hr_client, mixed_file())

    html = hr_client.get(uploaded["Location"]).content.decode()

    assert uploaded["Location"].startswith(UPLOAD_URL)
    for label, count in [
        ("Rows to import", 2),
        ("Rows already recorded (not added again)", 1),
        ("Rows with errors (not imported)", 2),
    ]:
        assert f'<th scope="row">{label}</th><td>{count}</td>' in html
    assert "<td>5</td><td>score must be 0 to 100</td>" in html
    assert "<td>6</td><td>nobody with email nobody@example.gov.uk: import people first</td>" in html
    assert "Import 2 completions" in html
    assert ModuleCompletion.objects.count() == 1


def test_confirming_imports_the_new_rows_once(hr_client):
    uploaded = upload(hr_client, mixed_file())
    confirm = confirm_data(hr_client, uploaded["Location"])

    done = hr_client.post(uploaded["Location"], confirm)
    again = hr_client.post(uploaded["Location"], confirm)

    assert done.status_code == 302
    assert flash(done) == [
        "Completions imported: 2 added to the records, 1 already recorded (not added again). "
        "2 row(s) with errors were skipped."
    ]
    assert "already imported" in flash(again)[-1]
    assert ModuleCompletion.objects.count() == 3
    kept = CompletionImport.objects.get(token__isnull=False)
    assert (kept.csv_text, kept.imported, kept.already_recorded, kept.refused) == ("", 2, 1, 2)
    assert kept.imported_by.email == "hr.person@example.gov.uk"
    assert verified_intact()
    # The file's first row came in from the command line; HR's confirmation is logged once.
    [entry] = ModelLogEntry.objects.filter(action="aware.import", user__isnull=False)
    assert (entry.user.email, entry.data["what"]) == (
        "hr.person@example.gov.uk",
        "historic completions",
    )
    assert entry.data["counts"] == {"imported": 2, "already_recorded": 1, "refused": 2}
    history = hr_client.get("/cms/reports/site-history/").content.decode()
    assert "completions.csv" in history


def test_a_file_already_imported_offers_nothing_to_import(hr_client):
    historic_completions_import(text=HEADER + row(1) + row(2))

    html = hr_client.get(upload(hr_client, HEADER + row(1) + row(2))["Location"]).content.decode()

    assert '<th scope="row">Rows already recorded (not added again)</th><td>2</td>' in html
    assert "Nothing to import" in html
    assert "Import 0" not in html


def test_an_expired_preview_is_refused_and_imports_nothing(hr_client):
    uploaded = upload(hr_client, HEADER + row(1))
    confirm = confirm_data(hr_client, uploaded["Location"])
    CompletionImport.objects.update(
        created_at=CompletionImport.objects.get().created_at - timedelta(hours=2)
    )

    stale_get = hr_client.get(uploaded["Location"])
    stale_post = hr_client.post(uploaded["Location"], confirm)

    assert stale_get["Location"] == UPLOAD_URL
    assert "has expired" in flash(stale_get)[0]
    assert "has expired or is not yours" in flash(stale_post)[-1]
    assert not ModuleCompletion.objects.exists()


def test_a_preview_overtaken_by_another_import_is_refused(hr_client):
    uploaded = upload(hr_client, HEADER + row(1) + row(2))
    confirm = confirm_data(hr_client, uploaded["Location"])
    historic_completions_import(text=HEADER + row(2))  # someone imports line 3 meanwhile

    response = hr_client.post(uploaded["Location"], confirm)

    assert "changed since the preview" in flash(response)[0]
    assert ModuleCompletion.objects.count() == 1
    assert CompletionImport.objects.get(token__isnull=False).imported_at is None


def test_someone_elses_preview_or_a_forged_confirmation_is_refused(hr_client, signed_in_with_mfa):
    uploaded = upload(hr_client, HEADER + row(1))
    confirm = confirm_data(hr_client, uploaded["Location"])
    forged = hr_client.post(uploaded["Location"], {"to_import": "lots"})
    signed_in_with_mfa("second.hr@example.gov.uk", groups=["HR"])

    other = hr_client.post(uploaded["Location"], confirm)

    assert "nothing was imported" in flash(forged)[0]
    assert "not yours" in flash(other)[-1]
    assert not ModuleCompletion.objects.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The submitted file is empty"),
        (b"name,course\nAlex,Fraud\n", "missing column(s): email, module"),
        (HEADER.encode(), "no completions"),
        (
            (HEADER + "zo\u00eb@example.gov.uk,fraud-basics,1,2024-01-01,90,\n").encode("cp1252"),
            "CSV UTF-8",
        ),
        (HEADER.encode() + b"\x00\x00\x01\x02", "not a CSV file"),
        (HEADER.encode() + b'"' + b"x" * 200_000 + b'"\n', "not a readable CSV file"),
    ],
)
def test_a_malformed_file_is_refused_on_the_upload_page(hr_client, content, message):
    response = upload(hr_client, content)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not CompletionImport.objects.exists()


def test_a_file_over_the_size_limit_is_refused_and_says_the_limit(hr_client, monkeypatch):
    monkeypatch.setattr(CompletionImportUploadForm, "MAX_BYTES", 100)

    response = upload(hr_client, HEADER + row(1) + row(2))

    assert response.status_code == 200
    assert "larger than 10 MB" in response.content.decode()
    assert not CompletionImport.objects.exists()


@pytest.mark.parametrize("group", ["Content editors", "Member Services"])
def test_admin_users_outside_hr_get_403_at_every_url_and_no_menu_item(
    client, people, signed_in_with_mfa, group
):
    hr = signed_in_with_mfa("hr.owner@example.gov.uk", groups=["HR"])
    preview = CompletionImport.objects.create(
        token="t" * 43, imported_by=hr, filename="c.csv", csv_text=HEADER + row(1)
    )
    signed_in_with_mfa("not.hr@example.gov.uk", groups=[group])
    confirm = {"to_import": 1, "already_recorded": 0, "errors": 0}

    assert client.get(UPLOAD_URL).status_code == 403
    assert upload(client, HEADER + row(1)).status_code == 403
    assert client.get(f"{UPLOAD_URL}{preview.token}/").status_code == 403
    assert client.post(f"{UPLOAD_URL}{preview.token}/", confirm).status_code == 403
    assert "Import completions" not in client.get("/cms/").content.decode()
    assert not ModuleCompletion.objects.exists()
    assert CompletionImport.objects.count() == 1


def test_a_learner_is_turned_away_at_every_url(client, people, roles):
    client.force_login(people)
    preview = CompletionImport.objects.create(
        token="t" * 43, imported_by=people, filename="c.csv", csv_text=HEADER + row(1)
    )
    confirm = {"to_import": 1, "already_recorded": 0, "errors": 0}

    responses = [
        client.get(UPLOAD_URL),
        upload(client, HEADER + row(1)),
        client.get(f"{UPLOAD_URL}{preview.token}/"),
        client.post(f"{UPLOAD_URL}{preview.token}/", confirm),
    ]

    # Wagtail's own guard answers before the view: to the admin's sign-in (a 403 for someone
    # signed in), and nothing is recorded.
    assert all(r.status_code == 302 for r in responses)
    assert all(r["Location"].startswith("/cms/login/") for r in responses)
    assert not ModuleCompletion.objects.exists()
    assert CompletionImport.objects.get().imported_at is None


# TWO AT ONCE: overlapping imports, each on its own database connection.


@pytest.mark.postgres  # advisory locks
@pytest.mark.django_db(transaction=True)
def test_two_overlapping_imports_at_once_add_each_completion_once(people):
    import psycopg

    from training.locks import Lock

    files = [HEADER + row(1) + row(2) + row(3), HEADER + row(2) + row(3) + row(4)]
    results, failures = [], []

    def import_file(text: str) -> None:
        try:
            results.append(historic_completions_import(text=text, filename="overlap.csv"))
        except Exception as error:  # reported below, in the test's thread
            failures.append(error)
        finally:
            connection.close()

    params = connection.get_connection_params()
    keys = ("dbname", "user", "password", "host", "port")
    with psycopg.connect(**{k: params[k] for k in keys if params.get(k)}, autocommit=True) as other:
        # Someone else is appending to the chain, so both imports must wait for its lock...
        other.execute("SELECT pg_advisory_lock(%s)", [int(Lock.COMPLETION_CHAIN)])
        threads = [threading.Thread(target=import_file, args=(text,)) for text in files]
        for thread in threads:
            thread.start()
        waiting = 0
        for _ in range(200):  # ... and both have read their files and are queued for it
            (waiting,) = other.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s "
                "AND NOT granted",
                [int(Lock.COMPLETION_CHAIN)],
            ).fetchone()
            if waiting == 2:
                break
            time.sleep(0.05)
        other.execute("SELECT pg_advisory_unlock(%s)", [int(Lock.COMPLETION_CHAIN)])
        for thread in threads:
            thread.join(timeout=60)

    assert waiting == 2
    assert not failures
    assert ModuleCompletion.objects.count() == 4
    assert sorted(r.imported for r in results) == [1, 3]
    assert sorted(r.already_recorded for r in results) == [0, 2]
    assert CompletionImport.objects.count() == 2
    assert verified_intact()
