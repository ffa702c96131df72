"""Build the catalogue, audiences and starter modules from training/content/. Idempotent."""

import json
from pathlib import Path

import yaml
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from wagtail.models import GroupApprovalTask, Workflow, WorkflowPage, WorkflowTask

from cms.models import HomePage
from training.blocks import LessonBlocks
from training.models import AssignmentRule, Audience, LessonPage, ModuleIndexPage, ModulePage
from training.reminders.schedule import reminder_schedule_apply
from training.services.assignments import assignments_sync

CONTENT_DIR = Path(__file__).resolve().parents[2] / "content"
WORKFLOW_NAME = "Author → approver"


def slug_from_filename(name: str) -> str:
    """ "03-county-lines" → "county-lines": the number only sets the order."""
    return name.split("-", 1)[1] if name[:2].isdigit() else name


def lesson_body(raw_blocks: list[dict], *, source: Path) -> str:
    """Check the lesson's blocks as the editor would be checked, and return StreamField JSON."""
    stream = LessonBlocks()
    try:
        stream.clean(stream.to_python(raw_blocks))
    except ValidationError as exc:
        detail = exc.as_json_data() if hasattr(exc, "as_json_data") else exc.messages
        raise CommandError(f"{source}: {detail}") from exc
    return json.dumps(raw_blocks)


class Command(BaseCommand):
    help = "Create the catalogue, audiences, moderation workflow and any missing starter module."

    @transaction.atomic
    def handle(self, *args, **options):
        self.ensure_audiences()
        index = self.ensure_catalogue()
        self.ensure_workflow(index)
        created = [
            folder.name
            for folder in sorted((CONTENT_DIR / "modules").iterdir())
            if folder.is_dir() and self.ensure_module(index, folder)
        ]
        sync = assignments_sync()
        reminder_schedule_apply()
        modules = ModulePage.objects.child_of(index).count()
        lessons = LessonPage.objects.descendant_of(index).count()
        self.stdout.write(
            f"Training: {len(created)} module(s) created; the catalogue has {modules} modules "
            f"and {lessons} lessons; {sync.created} assignment(s) created."
        )

    def ensure_audiences(self) -> None:
        for spec in yaml.safe_load((CONTENT_DIR / "audiences.yaml").read_text()):
            Audience.objects.get_or_create(
                slug=spec["slug"],
                defaults={
                    "name": spec["name"],
                    "description": spec["description"],
                    "person_types": spec["person_types"],
                    "service_areas": spec["service_areas"],
                },
            )

    def ensure_catalogue(self) -> ModuleIndexPage:
        index = ModuleIndexPage.objects.first()
        if index is None:
            home = HomePage.objects.get()
            index = ModuleIndexPage(
                title="Training modules",
                slug="training",
                intro="<p>Short modules on recognising organised crime and fraud and reporting "
                "it. The ones meant for your role come first.</p>",
                show_in_menus=True,
            )
            home.add_child(instance=index)
            index.save_revision().publish()
        return index

    def ensure_workflow(self, index: ModuleIndexPage) -> None:
        """Editors submit; content approvers publish. Applies to every page in the catalogue."""
        workflow, created = Workflow.objects.get_or_create(name=WORKFLOW_NAME)
        if created:
            task = GroupApprovalTask.objects.create(name="Approval by a content approver")
            task.groups.set(Group.objects.filter(name="Content approvers"))
            WorkflowTask.objects.create(workflow=workflow, task=task, sort_order=0)
        WorkflowPage.objects.get_or_create(page=index, defaults={"workflow": workflow})

    def ensure_module(self, index: ModuleIndexPage, folder: Path) -> bool:
        slug = slug_from_filename(folder.name)
        if index.get_children().filter(slug=slug).exists():
            return False
        spec = yaml.safe_load((folder / "module.yaml").read_text())
        module = ModulePage(
            title=spec["title"],
            slug=slug,
            summary=spec["summary"],
            learning_outcomes=json.dumps(
                [{"type": "outcome", "value": text} for text in spec["learning_outcomes"]]
            ),
            estimated_minutes=spec["estimated_minutes"],
            owning_team=spec["owner"],
            mandatory=spec["mandatory"],
            change_note="First version.",
        )
        audiences = Audience.objects.filter(slug__in=spec["audiences"])
        module.audiences.set(audiences)
        module.topics.add(*spec.get("topics", []))
        index.add_child(instance=module)
        module.save_revision().publish()
        for lesson_file in sorted((folder / "lessons").glob("*.yaml")):
            lesson_spec = yaml.safe_load(lesson_file.read_text())
            lesson = LessonPage(
                title=lesson_spec["title"],
                slug=slug_from_filename(lesson_file.stem),
                summary=lesson_spec["summary"],
                estimated_minutes=lesson_spec["estimated_minutes"],
                body=lesson_body(lesson_spec["body"], source=lesson_file),
            )
            module.add_child(instance=lesson)
            lesson.save_revision().publish()
        for audience in audiences:
            AssignmentRule.objects.create(
                module=module,
                audience=audience,
                mandatory=spec["mandatory"],
                valid_months=spec.get("refresh_months", 24),
            )
        return True
