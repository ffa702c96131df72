"""Steps shared by the learner journeys: a shorter module, and quiz answers from the snapshot."""

import csv
import re

from playwright.sync_api import expect


def module_shorten(*, slug: str, keep: int, time_limit_minutes: int | None = None):
    """Unpublish all but the first `keep` lessons; the quiz may be retaken at once, unlimited,
    with the time limit given (none by default)."""
    from training.models import ModulePage

    module = ModulePage.objects.get(slug=slug)
    for lesson in module.get_children().live().specific()[keep:]:
        lesson.unpublish()
    quiz = module.quiz
    quiz.cooldown_minutes = 0
    quiz.attempts_allowed = None
    quiz.questions_to_draw = 3
    quiz.time_limit_minutes = time_limit_minutes
    quiz.save()
    return module


def quiz_answer(page, *, right: bool) -> None:
    """Tick the right (or only wrong) choices, looked up from the attempt's snapshot.

    The page never reveals the right answer, so the test reads it from the database.
    """
    from quizzes.models import Attempt

    attempt_id = int(re.search(r"/attempts/(\d+)/", page.url).group(1))
    items = Attempt.objects.get(pk=attempt_id).items.order_by("position")
    fieldsets = page.locator("form[data-testid=attempt-form] fieldset")
    expect(fieldsets).to_have_count(items.count())
    for fieldset, item in zip(fieldsets.all(), items, strict=True):
        wanted = [c for c in item.snapshot["choices"] if c["correct"] == right]
        if not right:
            wanted = wanted[:1]  # one wrong choice is wrong for every kind of question
        for choice in wanted:
            fieldset.get_by_label(choice["text"], exact=True).check()


def hr_imports_an_officer(tmp_path, **fields) -> None:
    """HR's people import (`import_people`, the command) of one housing officer with `fields`."""
    from django.core.management import call_command

    from accounts.importers import COLUMNS

    path = tmp_path / "people.csv"
    with path.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=COLUMNS)
        writer.writeheader()
        row = dict.fromkeys(COLUMNS, "")
        row.update(
            person_type="officer",
            department="Neighbourhoods > Housing",
            service_area="housing",
            job_title="Tenancy Officer",
            active="yes",
        )
        writer.writerow({**row, **fields})
    call_command("import_people", str(path), stdout=(tmp_path / "out.txt").open("w"))
