"""Write the question bank (or one module's part) as CSV or JSON, ready to edit and import."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from quizzes.bank import rows_to_csv, rows_to_json
from quizzes.selectors import question_bank_rows
from training.models import ModulePage


class Command(BaseCommand):
    help = "Export the question bank as CSV or JSON (to a file, or to standard output)."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["csv", "json"], default="csv")
        parser.add_argument("--module", help="Only this module's questions (its page slug).")
        parser.add_argument("--output", "-o", help="File to write; standard output if omitted.")

    def handle(self, *args, **options):
        module = None
        if options["module"]:
            module = ModulePage.objects.filter(slug=options["module"]).first()
            if module is None:
                raise CommandError(f"There is no module “{options['module']}”.")
        rows = question_bank_rows(module=module)
        text = rows_to_json(rows) if options["format"] == "json" else rows_to_csv(rows)
        if options["output"]:
            Path(options["output"]).write_text(text, encoding="utf-8")
            self.stderr.write(f"{len(rows)} question(s) written to {options['output']}.")
        else:
            self.stdout.write(text, ending="")
