"""Add or update bank questions from a CSV or JSON file; any bad row means nothing is written."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from quizzes.bank import BankFileError, rows_from_file
from quizzes.services import question_bank_import


class Command(BaseCommand):
    help = (
        "Import questions from FILE (.csv or .json, as written by export_question_bank). Rows "
        "with an id update that question; rows without one add a question. If any row has a "
        "problem, nothing is imported and every bad row is listed."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="Check only; write nothing.")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"There is no file {path}.")
        try:
            rows = rows_from_file(content=path.read_bytes(), filename=path.name)
        except BankFileError as exc:
            raise CommandError(str(exc)) from exc
        report = question_bank_import(rows=rows, dry_run=options["dry_run"])
        for error in report.errors:
            self.stderr.write(str(error))
        if not report.ok:
            raise CommandError(report.summary())
        self.stdout.write(report.summary())
