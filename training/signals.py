"""Connects other apps' signals to training's services (receivers stay thin)."""

from django.contrib.contenttypes.models import ContentType
from django.db.models.signals import post_save
from wagtail.models import Revision
from wagtail.signals import page_published

from accounts.signals import election_dates_changed, people_imported
from cms.services import task_enqueue_on_commit
from training.models import ModulePage, ReminderSettings
from training.reminders.schedule import reminder_schedule_apply
from training.services.assignments import assignments_due_on_recalculate
from training.services.versions import module_version_publish, retake_request_record
from training.tasks import assignments_sync_task, report_counts_refresh_soon


def record_module_version(sender, instance, revision=None, **kwargs):
    module_version_publish(module=instance, revision=revision, user=getattr(revision, "user", None))


def record_retake_request(sender, instance, created, update_fields=None, **kwargs):
    """A module revision saved with "learners must retake" ticked records the request."""
    module_type = ContentType.objects.get_for_model(ModulePage)
    if instance.content_type_id == module_type.pk and (
        update_fields is None or "content" in update_fields
    ):
        retake_request_record(revision=instance)


def sync_imported_people(sender, user_ids, **kwargs):
    """After an HR import, bring those people's assignments up to date in the background."""
    task_enqueue_on_commit(assignments_sync_task, list(user_ids))


def move_due_dates_after_election(sender, user_ids, by=None, **kwargs):
    """Councillors' election dates changed: their open assignments' due dates follow."""
    if assignments_due_on_recalculate(user_ids=list(user_ids), by=by):
        report_counts_refresh_soon()


def apply_reminder_schedule(sender, **kwargs):
    """When HR changes the reminder time or days, move the beat schedule with them."""
    reminder_schedule_apply()


def connect() -> None:
    page_published.connect(record_module_version, sender=ModulePage)
    post_save.connect(record_retake_request, sender=Revision)
    people_imported.connect(sync_imported_people)
    election_dates_changed.connect(move_due_dates_after_election)
    post_save.connect(apply_reminder_schedule, sender=ReminderSettings)
