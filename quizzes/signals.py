"""Connects quizzes' own models to the site cache: a quiz's rules are on its module's page."""

from django.db.models.signals import post_delete, post_save

from cms.site_cache import site_cache_clear
from quizzes.models import Quiz


def quiz_changed(**kwargs) -> None:
    """A quiz saved or deleted: the module pages' cached quizzes (quiz_for_module_shown) go."""
    site_cache_clear()


def connect() -> None:
    for signal in (post_save, post_delete):
        signal.connect(quiz_changed, sender=Quiz, dispatch_uid=f"aware-quiz-changed-{id(signal)}")
