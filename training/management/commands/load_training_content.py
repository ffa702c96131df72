"""Build the catalogue, audiences and starter modules from training/content/. Idempotent.

Starter pages no editor has touched are brought up to date with the shipped files (so a site that
loaded an earlier release gets its corrections); pages an editor has changed are left alone and
named in the output. Diagrams in content/diagrams/ go into the image library.
"""

import json
from pathlib import Path

import yaml
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from wagtail.fields import StreamField
from wagtail.images import get_image_model
from wagtail.models import (
    Collection,
    GroupApprovalTask,
    ModelLogEntry,
    Revision,
    Workflow,
    WorkflowPage,
    WorkflowTask,
)

from cms.audit import audit_update
from cms.models import HomePage
from training.blocks import LessonBlocks
from training.models import AssignmentRule, Audience, LessonPage, ModuleIndexPage, ModulePage
from training.reminders.schedule import reminder_schedule_apply
from training.services.assignments import assignments_sync

CONTENT_DIR = Path(__file__).resolve().parents[2] / "content"
WORKFLOW_NAME = "Author → approver"
DIAGRAM_COLLECTION = "Starter diagrams"


def slug_from_filename(name: str) -> str:
    """ "03-county-lines" → "county-lines": the number only sets the order."""
    return name.split("-", 1)[1] if name[:2].isdigit() else name


def lesson_body(raw_blocks: list[dict], *, source: Path, images: dict[str, int]) -> str:
    """Check the lesson's blocks as the editor would be checked, and return StreamField JSON.

    An image block names a diagram by its file in content/diagrams/; it becomes that image's id.
    """
    raw_blocks = [_with_image(block, images=images, source=source) for block in raw_blocks]
    stream = LessonBlocks()
    try:
        stream.clean(stream.to_python(raw_blocks))
    except ValidationError as exc:
        detail = exc.as_json_data() if hasattr(exc, "as_json_data") else exc.messages
        raise CommandError(f"{source}: {detail}") from exc
    return json.dumps(raw_blocks)


def _with_image(block: dict, *, images: dict[str, int], source: Path) -> dict:
    if block["type"] != "image" or isinstance(block["value"]["image"], int):
        return block
    name = block["value"]["image"]
    if name not in images:
        raise CommandError(f"{source}: there is no diagram {name} in content/diagrams/.")
    return {**block, "value": {**block["value"], "image": images[name]}}


def lesson_sources(raw: list[dict]) -> str:
    return json.dumps([{"type": "source", "value": source} for source in raw])


def _shown(page, name: str) -> str:
    """A field's content for comparing with the shipped file (StreamField block ids left out)."""
    field = page._meta.get_field(name)
    if not isinstance(field, StreamField):
        return field.value_to_string(page)
    return json.dumps(
        [
            {"type": child.block_type, "value": child.block.get_api_representation(child.value)}
            for child in getattr(page, name)
        ],
        sort_keys=True,
        default=str,
    )


def edited_by_someone(page) -> bool:
    """Whether anyone other than this loader has saved the page (the loader saves as nobody),
    or it has a draft waiting: then the loader leaves it alone."""
    return (
        page.has_unpublished_changes
        or Revision.page_revisions.filter(object_id=str(page.pk), user__isnull=False).exists()
    )


def shipped_rule(spec: dict, audience_slug: str) -> dict:
    """What module.yaml says a starter rule for this audience is."""
    return {
        "mandatory": audience_slug in spec["mandatory_for"],
        "due_days": spec.get("due_days", 28),
        "valid_months": spec.get("refresh_months", 24),
    }


def edited_in_admin(instance) -> bool:
    """Whether a person (not this loader, which records as nobody) has created or edited it."""
    return ModelLogEntry.objects.for_instance(instance).filter(user__isnull=False).exists()


class Command(BaseCommand):
    help = "Create the catalogue, audiences, moderation workflow and any missing starter module."

    @transaction.atomic
    def handle(self, *args, **options):
        counted = ["modules", "pages_updated", "pages_kept", "rules_updated", "rules_kept"]
        self.counts = dict.fromkeys([*counted, "audiences_updated", "audiences_kept"], 0)
        self.ensure_audiences()
        index = self.ensure_catalogue()
        self.ensure_workflow(index)
        self.images = self.ensure_diagrams()
        for folder in sorted((CONTENT_DIR / "modules").iterdir()):
            if folder.is_dir():
                self.ensure_module(index, folder)
        sync = assignments_sync()
        reminder_schedule_apply()
        modules = ModulePage.objects.child_of(index).count()
        lessons = LessonPage.objects.descendant_of(index).count()
        c = self.counts
        self.stdout.write(
            f"Training: {c['modules']} module(s) created, {c['pages_updated']} starter page(s) "
            f"brought up to date, {c['pages_kept']} left as an editor changed them; the "
            f"catalogue has {modules} modules and {lessons} lessons; {c['rules_updated']} "
            f"starter rule(s) and {c['audiences_updated']} audience(s) brought up to date, "
            f"{c['rules_kept']} rule(s) and {c['audiences_kept']} audience(s) left as HR "
            "changed them; "
            f"{sync.created} assignment(s) created, {sync.changed} made mandatory or "
            "recommended as their rules now say."
        )

    def ensure_audiences(self) -> None:
        """Create the shipped audiences, and bring those nobody has edited to what ships now."""
        for spec in yaml.safe_load((CONTENT_DIR / "audiences.yaml").read_text()):
            shipped = {
                "name": spec["name"],
                "description": spec["description"],
                "person_types": spec["person_types"],
                "service_areas": spec["service_areas"],
                "job_title_keywords": spec.get("job_title_keywords", ""),
                "with_organisation": spec.get("with_organisation", False),
            }
            audience, created = Audience.objects.get_or_create(slug=spec["slug"], defaults=shipped)
            if not created:
                self.starter_update(audience, shipped, kind="audiences")

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

    def ensure_diagrams(self) -> dict[str, int]:
        """Each shipped diagram as an image in the library (added once; editors may reuse it)."""
        Image = get_image_model()
        folder = CONTENT_DIR / "diagrams"
        files = sorted(folder.glob("*.svg")) if folder.is_dir() else []
        if not files:
            return {}
        collection = Collection.objects.filter(name=DIAGRAM_COLLECTION).first()
        if collection is None:
            collection = Collection.get_first_root_node().add_child(name=DIAGRAM_COLLECTION)
        images = {}
        for path in files:
            image = Image.objects.filter(collection=collection, title=path.name).first()
            if image is None:
                image = Image(title=path.name, collection=collection)
                image.file.save(path.name, File(path.open("rb")), save=False)
                image.save()
            images[path.name] = image.pk
        return images

    def ensure_module(self, index: ModuleIndexPage, folder: Path) -> None:
        slug = slug_from_filename(folder.name)
        spec = yaml.safe_load((folder / "module.yaml").read_text())
        public = bool(spec.get("public", False))
        if public and (spec["audiences"] or spec["mandatory_for"]):
            raise CommandError(
                f"{folder.name}/module.yaml: a public module is assigned to nobody, so its "
                "audiences and mandatory_for must be empty lists."
            )
        fields = {
            "title": spec["title"],
            "summary": spec["summary"],
            "learning_outcomes": json.dumps(
                [{"type": "outcome", "value": text} for text in spec["learning_outcomes"]]
            ),
            "estimated_minutes": spec["estimated_minutes"],
            "owning_team": spec["owner"],
            "public": public,
        }
        module = ModulePage.objects.child_of(index).filter(slug=slug).first()
        if module is None:
            mandatory_for = set(spec["mandatory_for"])
            module = ModulePage(
                slug=slug, mandatory=bool(mandatory_for), change_note="First version."
            )
            self.page_fill(module, fields)
            module.topics.add(*spec.get("topics", []))
            audiences = Audience.objects.filter(slug__in=spec["audiences"])
            module.audiences.set(audiences)
            index.add_child(instance=module)
            module.save_revision().publish()
            for audience in audiences:
                AssignmentRule.objects.create(
                    module=module, audience=audience, **shipped_rule(spec, audience.slug)
                )
            self.counts["modules"] += 1
        else:
            self.page_update(module, fields)
            self.rules_update(module, spec)
        for lesson_file in sorted((folder / "lessons").glob("*.yaml")):
            lesson_spec = yaml.safe_load(lesson_file.read_text())
            lesson_fields = {
                "title": lesson_spec["title"],
                "summary": lesson_spec["summary"],
                "estimated_minutes": lesson_spec["estimated_minutes"],
                "body": lesson_body(lesson_spec["body"], source=lesson_file, images=self.images),
                "sources": lesson_sources(lesson_spec.get("sources", [])),
                "last_reviewed": lesson_spec.get("last_reviewed"),
                "refresher": bool(lesson_spec.get("refresher", False)),
            }
            lesson_slug = slug_from_filename(lesson_file.stem)
            lesson = LessonPage.objects.child_of(module).filter(slug=lesson_slug).first()
            if lesson is None:
                lesson = LessonPage(slug=lesson_slug)
                self.page_fill(lesson, lesson_fields)
                module.add_child(instance=lesson)
                lesson.save_revision().publish()
            else:
                self.page_update(lesson, lesson_fields)

    def rules_update(self, module: ModulePage, spec: dict) -> None:
        """Give the module's starter rules (one per shipped audience) what module.yaml says now:
        mandatory or recommended, due days, how long a completion lasts (the sync that follows
        moves open assignments with them)."""
        for rule in AssignmentRule.objects.filter(
            module=module, audience__slug__in=spec["audiences"]
        ).select_related("audience"):
            self.starter_update(rule, shipped_rule(spec, rule.audience.slug), kind="rules")

    def starter_update(self, instance, wanted: dict, *, kind: str) -> None:
        """Bring a starter rule or audience to the shipped values, in the audit trail, unless a
        person created or edited it in the admin (then HR's choice stands)."""
        if all(getattr(instance, name) == value for name, value in wanted.items()):
            return
        if edited_in_admin(instance):
            self.counts[f"{kind}_kept"] += 1
            return
        audit_update(instance, wanted)
        self.counts[f"{kind}_updated"] += 1

    @staticmethod
    def page_fill(page, fields: dict) -> None:
        for name, value in fields.items():
            setattr(page, name, value)

    def page_update(self, page, fields: dict) -> None:
        """Bring a starter page to the shipped text, unless an editor has changed it."""
        fresh = type(page)(**fields)
        changed = [name for name in fields if _shown(page, name) != _shown(fresh, name)]
        if not changed:
            return
        if edited_by_someone(page):
            self.counts["pages_kept"] += 1
            self.stdout.write(
                f"“{page.title}” was changed by an editor, so the shipped update was not applied."
            )
            return
        self.page_fill(page, fields)
        page.save_revision().publish()
        self.counts["pages_updated"] += 1
