"""Build a synthetic council for benchmarks: people, assignments, progress and completions."""

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from accounts.invitations import INVITATION
from accounts.models import QueuedEmail
from accounts.services import people_import
from devtools.scale import (
    SCALE_MODULES,
    SYNTHETIC_DOMAIN,
    activity_seed,
    people_csv,
    real_people_count,
    scale_modules,
)
from training.models import ModulePage
from training.services.assignments import assignments_sync


class Command(BaseCommand):
    help = (
        "Create N synthetic learners with assignments, progress and completions, in a database "
        f"that holds no real people (everyone's email on {SYNTHETIC_DOMAIN})."
    )

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
        # Synthetic people, assignments and evidence cannot be taken out again (completion
        # records are append-only), so a database with real people in it is never seeded.
        real = real_people_count()
        if real:
            people = "1 real person" if real == 1 else f"{real:,} real people"
            raise CommandError(
                f"This database holds {people} (emails not on {SYNTHETIC_DOMAIN}), so "
                "seed_scale writes nothing: the synthetic people, their assignments and their "
                "completion records (which can never be deleted) would sit beside real "
                "evidence. Run it on a fresh database of its own, e.g. createdb aware_scale, "
                "then DATABASE_URL=postgres:///aware_scale python manage.py migrate and "
                "DATABASE_URL=postgres:///aware_scale python manage.py seed_scale."
            )
        if not ModulePage.objects.exists():
            call_command("load_initial_data", stdout=self.stdout)
        scale_modules(total=modules)
        result = people_import(text=people_csv(learners=learners, seed=seed))
        # The import keeps their invitations in the outbox: synthetic people are never emailed.
        QueuedEmail.objects.filter(template=INVITATION).delete()
        sync = assignments_sync()
        spread = activity_seed(seed=seed)
        self.stdout.write(
            f"Seeded {ModulePage.objects.count()} modules, {result.created} people, "
            f"{sync.created} assignments, {spread.progress} lesson progress rows, "
            f"{spread.records} completion records and {spread.exemptions} exemptions."
        )
        self.stdout.write("The spread of open assignments it made (devtools.scale.SPREAD):")
        for line in spread.lines():
            self.stdout.write(f"  {line}")
