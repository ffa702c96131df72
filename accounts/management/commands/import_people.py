"""python manage.py import_people FILE.csv [--import-valid-rows]"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError

from accounts.services import PeopleImportRefused, people_import
from cms.uploads import CsvFileError, csv_text_decode


class Command(BaseCommand):
    help = (
        "Create, update and deactivate people from HR's CSV (see README, \u201cImporting "
        "people\u201d). The whole file is checked first; with any bad row nothing is written "
        "unless --import-valid-rows is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="the CSV file")
        parser.add_argument(
            "--import-valid-rows",
            action="store_true",
            help="import the valid rows even when some rows have errors",
        )

    def handle(self, *args, file: Path, import_valid_rows: bool, **options):
        try:
            text = csv_text_decode(data=file.read_bytes())
            result = people_import(
                text=text, import_valid_rows=import_valid_rows, filename=file.name
            )
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from error
        except CsvFileError as error:
            raise CommandError(f"{error} Nothing was imported.") from error
        except PeopleImportRefused as error:
            raise CommandError(str(error)) from error
        except IntegrityError as error:
            raise CommandError(
                "People's records changed while the file was being imported, so nothing was "
                "imported. Run the command again."
            ) from error

        for error in result.errors:
            self.stderr.write(f"line {error.line}: {error.reason}")
        self.stdout.write(
            f"created: {result.created}, updated: {result.updated}, "
            f"deactivated: {result.deactivated}, unchanged: {result.unchanged}, "
            f"invited: {result.invited}, errors: {result.bad_lines}"
        )
        if result.errors and not result.imported:
            raise CommandError(
                f"{result.bad_lines} row(s) have errors, so nothing was imported. Fix them, or "
                "run again with --import-valid-rows to import the valid rows."
            )
        if result.imported:
            self.stdout.write(self.style.SUCCESS("Import complete."))
        else:
            self.stdout.write("Nothing to import.")
