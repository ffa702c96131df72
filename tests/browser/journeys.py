"""Steps shared by the learner journeys: a shorter module, quiz answers from the snapshot, an HR
import, and the 320 px check."""

import csv
import re

from playwright.sync_api import expect


def module_shorten(*, slug: str, keep: int, time_limit_minutes: int | None = None):
    """Unpublish all but the first `keep` lessons (a refresher lesson, which first-timers never
    see, stays as it is); the quiz may be retaken at once, unlimited, with the time limit given
    (none by default)."""
    from training.models import LessonPage, ModulePage

    module = ModulePage.objects.get(slug=slug)
    for lesson in LessonPage.objects.child_of(module).live().filter(refresher=False)[keep:]:
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


# The narrowest screen the learner pages must fit (WCAG 2.2 reflow).
WIDTH = 320

# Visible elements that reach past either edge of the viewport, widest first.
OVERFLOWING = """(width) => {
  const out = [];
  for (const el of document.body.querySelectorAll("*")) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (r.left < -0.5 || r.right > width + 0.5) {
      const id = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
        (el.className && typeof el.className === "string" ? "." + el.className.split(" ")[0] : "");
      out.push([Math.round(r.width), Math.round(r.left), id]);
    }
  }
  return out.sort((a, b) => b[0] - a[0]).slice(0, 5);
}"""


def check_fits(page, name: str, axe_check) -> None:
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= WIDTH, f"{name} scrolls sideways: {scroll_width} px"
    assert page.evaluate(OVERFLOWING, WIDTH) == [], f"{name} has elements wider than the screen"
    axe_check(page, f"{name}-320")


# Words the browser broke across two lines ("Ov/erd/ue"), in the page's main content.
BROKEN_WORDS = """() => {
  const broken = [];
  const walker = document.createTreeWalker(document.querySelector("main"), NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const match of node.textContent.matchAll(/\\S+/g)) {
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
      if (lines.size > 1) broken.push(match[0]);
    }
  }
  return broken;
}"""


def words_broken(page) -> list[str]:
    return page.evaluate(BROKEN_WORDS)
