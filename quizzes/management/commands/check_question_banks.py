"""Hold question banks to the writing standard: the shipped starter banks, or the site's own."""

from dataclasses import dataclass, replace
from pathlib import Path

import yaml
from django.core.management.base import BaseCommand, CommandError

from quizzes.bank_check import CheckChoice, CheckQuestion, Finding, bank_findings, bank_statistics
from quizzes.management.commands.load_quiz_content import CONTENT_DIR, QUESTIONS_TO_DRAW
from quizzes.selectors import bank_check_all

MODULES_DIR = Path(__file__).resolve().parents[3] / "training" / "content" / "modules"


@dataclass
class ShippedBank:
    name: str  # the file stem, e.g. "03-county-lines-exploitation-and-cuckooing"
    questions: list[CheckQuestion]
    outcomes: int
    lessons: list[str]
    draw: int = QUESTIONS_TO_DRAW

    def findings(self) -> list[Finding]:
        return bank_findings(
            self.questions, outcomes=self.outcomes, lessons=self.lessons, draw=self.draw
        )


def shipped_banks(prefixes: list[str] | None = None) -> list[ShippedBank]:
    """The starter banks in quizzes/content/, each with its module's outcomes and lessons."""
    banks = []
    for path in sorted(CONTENT_DIR.glob("*.yaml")):
        if prefixes and not any(path.stem.startswith(p) for p in prefixes):
            continue
        spec = yaml.safe_load(path.read_text())
        folder = MODULES_DIR / spec["module"]
        module = yaml.safe_load((folder / "module.yaml").read_text())
        questions = [
            CheckQuestion(
                label=f"{path.stem}#{raw.get('key', number)}",
                kind=raw["kind"],
                scenario=raw.get("scenario") or "",
                text=raw["text"],
                outcome=raw.get("outcome"),
                lesson=raw.get("lesson") or "",
                choices=tuple(
                    CheckChoice(text=str(c["text"]), correct=bool(c["correct"]))
                    for c in raw["choices"]
                ),
                feedback_missing=any(
                    not str(c.get("feedback") or "").strip() for c in raw["choices"]
                ),
            )
            for number, raw in enumerate(spec["questions"], start=1)
            if not raw.get("retired")
        ]
        banks.append(
            ShippedBank(
                name=path.stem,
                questions=questions,
                outcomes=len(module["learning_outcomes"]),
                # A refresher lesson is only for renewers: no question sends anyone back to it.
                lessons=sorted(
                    p.stem
                    for p in (folder / "lessons").glob("*.yaml")
                    if not yaml.safe_load(p.read_text()).get("refresher")
                ),
                draw=spec.get("questions_to_draw", QUESTIONS_TO_DRAW),
            )
        )
    return banks


class Command(BaseCommand):
    help = (
        "Check question banks for surface cues and coverage (README, Writing questions). "
        "Without options, every module's bank on this site; with --shipped, the starter files."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--shipped",
            nargs="*",
            metavar="PREFIX",
            help="Check the starter YAML banks (optionally only those whose file name starts "
            "with a prefix, e.g. 03) instead of this site's banks.",
        )

    def handle(self, *args, shipped=None, **options):
        if shipped is not None:
            reports = [
                (
                    bank.name,
                    bank.findings(),
                    bank_statistics(bank.questions, outcomes=bank.outcomes),
                )
                for bank in shipped_banks(shipped)
            ]
        else:
            reports = [(r.module.title, r.findings, r.statistics) for r in bank_check_all()]
            for _, findings, _ in reports:
                findings[:] = [
                    replace(f, question=f"Question {f.question}") if f.question else f
                    for f in findings
                ]
        total = 0
        for name, findings, figures in reports:
            self.stdout.write(
                f"{name}: {figures['questions']} questions; per outcome {figures['per_outcome']}; "
                f"right answer longest in {figures['right_is_longest']} of "
                f"{figures['single_answer']} single-answer questions; "
                f"{len(findings)} finding(s)."
            )
            for finding in findings:
                self.stdout.write(f"  [{finding.rule}] {finding}")
            total += len(findings)
        if total:
            raise CommandError(f"{total} finding(s) to fix.")
