"""One course holding one lesson (Aware's rendered lesson body, from a JSON file) and one enrolled
learner with a password; prints the lesson's path. For a fresh, migrated database."""

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from wagtail.models import Site
from wagtail.rich_text import RichText
from wagtail_lms.models import CourseEnrollment, CoursePage, H5PLessonPage


class Command(BaseCommand):
    help = "Seed the peer with one course, one lesson and one enrolled learner."

    def add_arguments(self, parser):
        parser.add_argument("--lesson", type=Path, required=True)
        parser.add_argument("--username", required=True)
        parser.add_argument("--password", required=True)

    def handle(self, *args, lesson: Path, username: str, password: str, **options):
        content = json.loads(lesson.read_text())
        home = Site.objects.get(is_default_site=True).root_page
        course = CoursePage(title=content["module_title"], slug="course")
        home.add_child(instance=course)
        course.save_revision().publish()
        page = H5PLessonPage(
            title=content["title"],
            slug=content["slug"],
            intro=f"<p>{content['summary']}</p>",
            body=[("paragraph", RichText(content["body_html"]))],
        )
        course.add_child(instance=page)
        page.save_revision().publish()
        learner = get_user_model().objects.create_user(username=username, password=password)
        CourseEnrollment.objects.create(user=learner, course=course)
        self.stdout.write(page.url)
