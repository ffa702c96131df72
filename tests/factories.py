"""Builders for test data: a catalogue with modules of any number of lessons."""

import json

from training.models import LessonPage, ModuleIndexPage, ModulePage

LESSON_BODY = json.dumps(
    [
        {"type": "rich_text", "value": "<p>Recognise, record, report.</p>"},
        {
            "type": "warning_signs",
            "value": {"heading": "Signs", "intro": "", "signs": ["Many visitors", "Fear"]},
        },
        {
            "type": "statistic",
            "value": {
                "value": "£1bn",
                "description": "yearly cost",
                "source": "A published source",
                "source_url": "",
                "year": 2021,
            },
        },
        {"type": "how_to_report", "value": {"heading": "How to report it", "routes": []}},
    ]
)


def catalogue() -> ModuleIndexPage:
    from cms.models import HomePage

    index = ModuleIndexPage.objects.first()
    if index is None:
        index = ModuleIndexPage(title="Training modules", slug="training")
        HomePage.objects.get().add_child(instance=index)
        index.save_revision().publish()
    return index


def module_with_lessons(lessons: int = 3, *, slug: str = "test-module", **fields) -> ModulePage:
    """A published module with `lessons` published lessons, each with a few blocks."""
    fields.setdefault("title", "Test module")
    fields.setdefault(
        "learning_outcomes", json.dumps([{"type": "outcome", "value": "Spot the signs."}])
    )
    module = ModulePage(
        slug=slug, summary="A module for tests.", owning_team="Counter-fraud team", **fields
    )
    catalogue().add_child(instance=module)
    module.save_revision().publish()
    for number in range(1, lessons + 1):
        lesson = LessonPage(
            title=f"Lesson {number}",
            slug=f"lesson-{number}",
            summary=f"Lesson {number} summary",
            estimated_minutes=5,
            body=LESSON_BODY,
        )
        module.add_child(instance=lesson)
        lesson.save_revision().publish()
    module.refresh_from_db()
    return module


def lessons_of(module: ModulePage) -> list[LessonPage]:
    return list(LessonPage.objects.child_of(module).order_by("path"))
