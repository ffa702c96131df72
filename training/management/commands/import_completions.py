"""Import historic completions from a previous LMS (CSV); every bad row is reported by line,
completions already on record are not added again, and the import is recorded."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cms.uploads import CsvFileError, csv_text_decode
from training.importers import completions_csv_check
from training.services.historic import historic_completions_import


class Command(BaseCommand):
    help = (
        "Import completions: columns email, module (slug), module_version, completed_on, score, "
        "expires_on (optional). Nothing is written if any row is bad, unless --import-valid-rows. "
        "Completions already imported (same person, module, version and date) are not added "
        "again. Each import is recorded, as from the admin's Import completions page."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--import-valid-rows", action="store_true")

    def handle(self, *args, file: Path, import_valid_rows: bool, **options):
        try:
            text = csv_text_decode(data=file.read_bytes())
            completions_csv_check(text=text)
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from error
        except CsvFileError as error:
            raise CommandError(str(error)) from error
        result = historic_completions_import(
            text=text, import_valid_rows=import_valid_rows, filename=file.name
        )
        for line, reason in result.errors:
            self.stdout.write(f"line {line}: {reason}")
        if result.errors and not import_valid_rows:
            raise CommandError(f"{len(result.errors)} bad row(s): nothing was imported.")
        self.stdout.write(
            f"Imported {result.imported} completion(s); {result.already_recorded} already "
            f"recorded (not added again); skipped {result.refused} bad row(s)."
        )
