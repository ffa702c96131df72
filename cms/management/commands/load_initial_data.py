"""Build everything a new Aware site needs, by calling each app's own loader. Safe to re-run."""

from django.core.management import call_command
from django.core.management.base import BaseCommand

# Each app owns its loader; cms names them here so that it imports no domain app.
LOADERS = ["load_cms_data", "load_accounts_data", "load_training_content", "load_quiz_content"]


class Command(BaseCommand):
    help = (
        "Create the site tree, roles, starter modules and quizzes (demo users outside production)."
    )

    def handle(self, *args, **options):
        for loader in LOADERS:
            call_command(loader, stdout=self.stdout, stderr=self.stderr)
