"""Create each starter module's quiz and question bank from quizzes/content/. Idempotent."""

from pathlib import Path

import yaml
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from quizzes.bank import CleanRow, row_clean
from quizzes.models import Question, Quiz
from quizzes.selectors import bank_lookups
from quizzes.services import question_write
from training.models import ModulePage

CONTENT_DIR = Path(__file__).resolve().parents[2] / "content"
PASS_MARK = 80
QUESTIONS_TO_DRAW = 10

# Who may do what in the admin's Quizzes menu (groups come from load_accounts_data).
ROLE_PERMISSIONS = {
    "Content editors": ["question", "choice", "quiz", "extratime"],
    "Content approvers": ["question", "choice", "quiz", "extratime"],
    "HR": ["extratime"],
}


def slug_from_filename(name: str) -> str:
    """ "03-county-lines" → "county-lines": the number only sets the order."""
    return name.split("-", 1)[1] if name[:2].isdigit() else name


class Command(BaseCommand):
    help = "Create any missing starter quiz and question; never changes ones that exist."

    @transaction.atomic
    def handle(self, *args, **options):
        self.grant_permissions()
        lookups = bank_lookups()
        quizzes = questions = 0
        for path in sorted(CONTENT_DIR.glob("*.yaml")):
            spec = yaml.safe_load(path.read_text())
            module = ModulePage.objects.filter(slug=slug_from_filename(spec["module"])).first()
            if module is None:
                self.stderr.write(f"{path.name}: no module “{spec['module']}” yet; skipped.")
                continue
            _, created = Quiz.objects.get_or_create(
                module=module,
                defaults={"pass_mark": PASS_MARK, "questions_to_draw": QUESTIONS_TO_DRAW},
            )
            quizzes += created
            for number, raw in enumerate(spec["questions"], start=1):
                key = f"{path.stem}#{number}"
                if Question.objects.filter(source_key=key).exists():
                    continue  # loaded before: an editor may have changed it since
                row = row_clean(
                    {
                        **raw,
                        "module": module.slug,
                        "lesson": slug_from_filename(raw.get("lesson") or ""),
                    },
                    label=key,
                    **lookups,
                )
                if not isinstance(row, CleanRow):
                    raise CommandError(str(row))
                question_write(question=None, row=row, source_key=key)
                questions += 1
        self.stdout.write(f"Quizzes: {quizzes} quiz(zes) and {questions} question(s) created.")

    def grant_permissions(self) -> None:
        for group_name, models in ROLE_PERMISSIONS.items():
            group = Group.objects.filter(name=group_name).first()
            if group is not None:
                group.permissions.add(
                    *Permission.objects.filter(
                        content_type__app_label="quizzes", content_type__model__in=models
                    )
                )
