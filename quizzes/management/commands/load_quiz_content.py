"""Create and update each starter module's quiz and question bank from quizzes/content/.

Idempotent. A starter question no editor has changed (it still matches the fingerprint taken
when it was loaded) is updated to the shipped text, or retired when the shipped bank no longer
has it; a question an editor has changed is left alone and named in the output.
"""

import json
from pathlib import Path

import yaml
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from cms.audit import audit_update
from quizzes.bank import CleanRow, row_clean, row_fingerprint
from quizzes.models import Question, Quiz, ShowAnswers
from quizzes.selectors import bank_lookups, question_bank_rows
from quizzes.services import question_write
from training.management.commands.load_training_content import slug_from_filename
from training.models import ModulePage

CONTENT_DIR = Path(__file__).resolve().parents[2] / "content"
# Fingerprints of the questions earlier releases shipped (keyed "<file stem>#<number>"), for
# questions loaded before fingerprints were recorded on them.
SUPERSEDED_FILE = "superseded.json"
PASS_MARK = 80
QUESTIONS_TO_DRAW = 10
# What a starter quiz was created with before December 2026: a quiz still set exactly so gets
# today's defaults (three attempts, a day's wait, the key only after a pass).
OLD_QUIZ_SETTINGS = {
    "attempts_allowed": None,
    "cooldown_minutes": 0,
    "show_answers": ShowAnswers.ALWAYS,
    "retry_after_hours": 24,
}
QUIZ_SETTINGS = {"attempts_allowed": 3, "show_answers": ShowAnswers.AFTER_PASS}

# Who may do what in the admin's Quizzes menu (groups come from load_accounts_data).
ROLE_PERMISSIONS = {
    "Content editors": ["question", "choice", "quiz", "extratime"],
    "Content approvers": ["question", "choice", "quiz", "extratime"],
    "HR": ["extratime"],
}


class Command(BaseCommand):
    help = (
        "Create missing starter quizzes and questions, update the ones no editor has changed, "
        "and retire starter questions the shipped banks no longer have."
    )

    @transaction.atomic
    def handle(self, *args, **options):
        self.grant_permissions()
        self.counts = dict.fromkeys(["quizzes", "created", "updated", "retired", "kept"], 0)
        superseded_path = CONTENT_DIR / SUPERSEDED_FILE
        self.superseded = (
            json.loads(superseded_path.read_text()) if superseded_path.exists() else {}
        )
        lookups = bank_lookups()
        for path in sorted(CONTENT_DIR.glob("*.yaml")):
            spec = yaml.safe_load(path.read_text())
            module = ModulePage.objects.filter(slug=slug_from_filename(spec["module"])).first()
            if module is None:
                self.stderr.write(f"{path.name}: no module “{spec['module']}” yet; skipped.")
                continue
            self.ensure_quiz(module, draw=spec.get("questions_to_draw", QUESTIONS_TO_DRAW))
            self.ensure_bank(path, spec, module, lookups)
        c = self.counts
        self.stdout.write(
            f"Quizzes: {c['quizzes']} quiz(zes) created; questions: {c['created']} created, "
            f"{c['updated']} updated, {c['retired']} retired, {c['kept']} kept as an editor "
            "changed them."
        )

    def ensure_quiz(self, module: ModulePage, *, draw: int) -> None:
        """A new starter quiz draws the bank's `questions_to_draw` (default 10); an existing
        quiz keeps the draw it has (an editor may have changed it)."""
        quiz, created = Quiz.objects.get_or_create(
            module=module, defaults={"pass_mark": PASS_MARK, "questions_to_draw": draw}
        )
        self.counts["quizzes"] += created
        if created or any(getattr(quiz, k) != v for k, v in OLD_QUIZ_SETTINGS.items()):
            return
        audit_update(quiz, QUIZ_SETTINGS)
        self.stdout.write(f"{quiz}: given today's attempt rules (it had the old defaults).")

    def ensure_bank(self, path: Path, spec: dict, module: ModulePage, lookups: dict) -> None:
        existing = {
            q.source_key: q
            for q in Question.objects.filter(
                module=module, source_key__startswith=f"{path.stem}#"
            ).select_related("lesson")
        }
        current = {row["id"]: row for row in question_bank_rows(module=module)}
        shipped_keys = set()
        for number, raw in enumerate(spec["questions"], start=1):
            # Banks before December 2026 had no keys: their questions were keyed by position.
            key = f"{path.stem}#{raw.get('key', number)}"
            if key in shipped_keys:
                raise CommandError(f"{path.name}: the key “{raw['key']}” is used twice.")
            shipped_keys.add(key)
            raw = {
                **raw,
                "module": module.slug,
                "lesson": slug_from_filename(raw.get("lesson") or ""),
            }
            row = row_clean(raw, label=key, **lookups)
            if not isinstance(row, CleanRow):
                raise CommandError(str(row))
            fingerprint = row_fingerprint(raw)
            question = existing.get(key)
            if question is None:
                question_write(question=None, row=row, source_key=key, source_hash=fingerprint)
                self.counts["created"] += 1
            elif question.source_hash == fingerprint:
                continue
            elif self.unedited(question, current):
                question_write(question=question, row=row, source_hash=fingerprint)
                self.counts["updated"] += 1
            else:
                self.kept(question)
        for key, question in existing.items():
            if key in shipped_keys or question.retired:
                continue
            if self.unedited(question, current):
                question.retired = True
                question.save(update_fields=["retired", "updated_at"])
                self.counts["retired"] += 1
            else:
                self.kept(question)

    def unedited(self, question: Question, current: dict[int, dict]) -> bool:
        """Whether the question still says what the loader wrote (no editor has changed it)."""
        fingerprint = row_fingerprint(current[question.pk])
        if question.source_hash:
            return fingerprint == question.source_hash
        return fingerprint == self.superseded.get(question.source_key)

    def kept(self, question: Question) -> None:
        self.counts["kept"] += 1
        self.stdout.write(
            f"Question {question.pk} (“{question}”) was changed by an editor: left as it is."
        )

    def grant_permissions(self) -> None:
        for group_name, models in ROLE_PERMISSIONS.items():
            group = Group.objects.filter(name=group_name).first()
            if group is not None:
                group.permissions.add(
                    *Permission.objects.filter(
                        content_type__app_label="quizzes", content_type__model__in=models
                    )
                )
