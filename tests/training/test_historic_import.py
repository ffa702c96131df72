"""Historic completions from a previous LMS: checked whole, appended to the evidence chain."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.factories import module_with_lessons
from training.models import ModuleCompletion

pytestmark = pytest.mark.django_db
HEADER = "email,module,module_version,completed_on,score,expires_on\n"


@pytest.fixture
def people(site, user_factory):
    module_with_lessons(1, slug="fraud-basics")
    return user_factory(email="alex@example.gov.uk")


def run(tmp_path, body, *flags):
    path = tmp_path / "completions.csv"
    path.write_text(HEADER + body)
    out = StringIO()
    call_command("import_completions", str(path), *flags, stdout=out)
    return out.getvalue()


def test_good_rows_become_records_in_the_chain(tmp_path, people):
    output = run(tmp_path, "alex@example.gov.uk,fraud-basics,1,2024-03-31,85,2026-03-31\n")

    record = ModuleCompletion.objects.get()
    assert (record.source, record.score, record.module_version) == ("import", 85, 1)
    assert record.expires_at.date().isoformat() == "2026-03-31"
    assert "Imported 1 completion" in output
    verify = StringIO()
    call_command("verify_records", stdout=verify)
    assert "intact" in verify.getvalue()


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


def test_duplicates_are_caught_and_valid_rows_can_be_imported(tmp_path, people):
    row = "alex@example.gov.uk,fraud-basics,1,2024-01-31,90,\n"

    output = run(tmp_path, row + row, "--import-valid-rows")

    assert "line 3: the same completion appears twice" in output
    assert ModuleCompletion.objects.count() == 1


def test_a_file_without_the_columns_is_refused(tmp_path, people):
    path = tmp_path / "completions.csv"
    path.write_text("name,course\nAlex,Fraud\n")

    with pytest.raises(CommandError):
        call_command("import_completions", str(path), stdout=StringIO())
    assert not ModuleCompletion.objects.exists()
