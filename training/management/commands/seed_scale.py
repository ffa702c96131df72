"""Build a synthetic council for benchmarks: people, assignments, progress and completions."""

from django.core.management import call_command
from django.core.management.base import BaseCommand

from accounts.services import people_import
from training.models import ModulePage
from training.scale import activity_seed, people_csv
from training.services import assignments_sync


class Command(BaseCommand):
    help = "Create N synthetic learners with assignments, progress and completions."

    def add_arguments(self, parser):
        parser.add_argument("--learners", type=int, default=1000)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, learners: int, seed: int, **options):
        if not ModulePage.objects.exists():
            call_command("load_initial_data", stdout=self.stdout)
        result = people_import(text=people_csv(learners=learners, seed=seed))
        sync = assignments_sync()
        progress, records = activity_seed(seed=seed)
        self.stdout.write(
            f"Seeded {result.created} people, {sync.created} assignments, {progress} lesson "
            f"progress rows and {records} completion records."
        )
