"""Import historic completions from a previous LMS (CSV); every bad row is reported by line."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from training.services.completion import historic_completions_import


class Command(BaseCommand):
    help = (
        "Import completions: columns email, module (slug), module_version, completed_on, score, "
        "expires_on (optional). Nothing is written if any row is bad, unless --import-valid-rows."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--import-valid-rows", action="store_true")

    def handle(self, *args, file: Path, import_valid_rows: bool, **options):
        imported, errors = historic_completions_import(
            text=file.read_text(encoding="utf-8-sig"), import_valid_rows=import_valid_rows
        )
        for line, reason in errors:
            self.stdout.write(f"line {line}: {reason}")
        if errors and not import_valid_rows:
            raise CommandError(f"{len(errors)} bad row(s): nothing was imported.")
        self.stdout.write(f"Imported {imported} completion(s); skipped {len(errors)} bad row(s).")
