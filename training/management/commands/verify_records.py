"""Check the completion-record chain: report any record altered or removed since it was written."""

from django.core.management.base import BaseCommand, CommandError

from training.selectors import completion_chain_problems


class Command(BaseCommand):
    help = "Verify every completion record's hash and its link to the record before it."

    def handle(self, *args, **options):
        checked, problems = completion_chain_problems()
        for problem in problems:
            self.stdout.write(f"PROBLEM {problem}")
        if problems:
            raise CommandError(f"{len(problems)} problem(s) in {checked} completion records.")
        self.stdout.write(f"All {checked} completion records are intact.")
