"""Writes for module versions: recording a publish, and a retake publish superseding assignments."""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from wagtail.models import Revision

from accounts.models import User
from training.models import Assignment, ModuleCompletion, ModulePage, ModuleVersion
from training.tasks import report_counts_refresh_soon


@transaction.atomic
def module_version_publish(
    *, module: ModulePage, revision: Revision | None, user: User | None = None
) -> ModuleVersion | None:
    """Record a module's version when it is published.

    The first publish records version 1. Later, only a publish marked "learners must retake"
    raises the version; other edits keep it. Past progress and completions are not touched.
    """
    latest = module.versions.aggregate(n=Max("number"))["n"]
    if latest is not None and not module.learners_must_retake:
        return None
    number = 1 if latest is None else latest + 1
    version = ModuleVersion.objects.create(
        module=module,
        number=number,
        change_note=module.change_note,
        revision=revision,
        published_at=timezone.now(),
        published_by=user,
    )
    ModulePage.objects.filter(pk=module.pk).update(version=number, learners_must_retake=False)
    if revision is not None:
        # The next draft starts from this revision: it must not carry the flag forward.
        revision.content.update(version=number, learners_must_retake=False)
        revision.save(update_fields=["content"])
    module.version, module.learners_must_retake = number, False
    if number > 1:
        assignments_supersede(module=module, version=number)
    return version


def assignments_supersede(*, module: ModulePage, version: int, now: datetime | None = None) -> int:
    """After a "learners must retake" publish: everyone with an open assignment now needs the new
    version. Those who completed an earlier one keep that record (and certificate) until it expires
    and get a new assignment, due after the rule's retake period; the old one is closed as history.
    Returns how many new assignments were opened. A few queries, however many people."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    behind = Assignment.objects.open().filter(module=module, required_version__lt=version)
    completed_users = ModuleCompletion.objects.filter(
        module=module, module_version__lt=version
    ).values("user_id")
    behind.exclude(user_id__in=completed_users).update(required_version=version)
    superseded = list(behind.filter(user_id__in=completed_users).select_related("rule"))
    for assignment in superseded:
        assignment.closed_at, assignment.closed_reason = now, Assignment.Closed.SUPERSEDED
    # Close first: one open assignment per person and module is a database constraint.
    Assignment.objects.bulk_update(superseded, ["closed_at", "closed_reason"], batch_size=1000)
    Assignment.objects.bulk_create(
        [
            Assignment(
                user_id=old.user_id,
                module=module,
                rule=old.rule,
                mandatory=old.mandatory,
                required_version=version,
                assigned_at=now,
                due_on=today + timedelta(days=old.rule.retake_due_days if old.rule else 30),
                valid_months=old.valid_months,
                reopen_days=old.reopen_days,
                started_at=old.started_at,
            )
            for old in superseded
        ],
        batch_size=1000,
    )
    if superseded:
        report_counts_refresh_soon()
    return len(superseded)
