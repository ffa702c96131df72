"""`make bench-peer`: Aware's learner pages beside wagtail-lms 0.11's and beside bare views
(devtools/peer_bench.py), one line per figure in `make bench`'s format."""

from django.core.management.base import BaseCommand, CommandError

from devtools.peer_bench import bench_peer


class Command(BaseCommand):
    help = "Requests per second of Aware's learner pages beside wagtail-lms 0.11 (needs wrk)."

    def add_arguments(self, parser):
        parser.add_argument("--rounds", type=int, default=5)
        parser.add_argument("--seconds", type=int, default=10, help="each wrk run's length")

    def handle(self, *args, rounds: int, seconds: int, **options):
        try:
            goals = bench_peer(self.stdout, rounds=rounds, seconds=seconds)
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write("Goals (issue 17), requests per second, one line per figure:")
        for goal in goals:
            self.stdout.write(f"  {goal.line()}")
        short = [goal.figure for goal in goals if goal.ok is False]
        self.stdout.write(f"Short of their goal: {', '.join(short) if short else 'none'}")
