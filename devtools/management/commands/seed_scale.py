"""Build a synthetic council for benchmarks: people, assignments, progress and completions."""

from django.core.management import call_command
from django.core.management.base import BaseCommand

from accounts.services import people_import
from devtools.scale import SCALE_MODULES, activity_seed, people_csv, scale_modules
from training.models import ModulePage
from training.services.assignments import assignments_sync


class Command(BaseCommand):
    help = "Create N synthetic learners with assignments, progress and completions."

    def add_arguments(self, parser):
        parser.add_argument("--learners", type=int, default=1000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--modules",
            type=int,
            default=SCALE_MODULES,
            help="Copy the first module until the catalogue has this many.",
        )

    def handle(self, *args, learners: int, seed: int, modules: int, **options):
        if not ModulePage.objects.exists():
            call_command("load_initial_data", stdout=self.stdout)
        scale_modules(total=modules)
        result = people_import(text=people_csv(learners=learners, seed=seed))
        sync = assignments_sync()
        progress, records = activity_seed(seed=seed)
        self.stdout.write(
            f"Seeded {ModulePage.objects.count()} modules, {result.created} people, "
            f"{sync.created} assignments, {progress} lesson progress rows and {records} "
            "completion records."
        )
