"""The audit trail: who changed which field of what, from what to what, in Wagtail's own log.

Entries are Wagtail log entries (ModelLogEntry) whose `data["changes"]` lists each changed field
with its before and after value, so an object's History, Reports → Site history and its CSV/XLSX
export all show them. Entries hold personal data and stay in the database: nothing here writes
to the application log. Passwords, tokens and secrets are never recorded.
"""

import datetime
import json
from collections.abc import Iterable
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from modelcluster.fields import ParentalKey
from wagtail.log_actions import get_active_log_context, log
from wagtail.models import ModelLogEntry

# Never recorded, whatever the model: credentials and sign-in times (noise, not a change), and
# any field whose name says it holds a secret or an uploaded file's text.
NEVER_RECORDED = {"password", "last_login"}
SECRET_WORDS = ("password", "secret", "token", "totp", "csv_text")
EMPTY = "—"
ARROW = "→"

# Actions (registered with their messages in cms/wagtail_hooks.py).
ACTION_CREATE = "wagtail.create"
ACTION_EDIT = "wagtail.edit"
ACTION_DELETE = "wagtail.delete"
ACTION_DEACTIVATE = "aware.deactivate"
ACTION_EXEMPT = "aware.exempt"
ACTION_EXEMPTION_WITHDRAW = "aware.exemption_withdraw"
ACTION_EXTEND = "aware.extend"  # a later due date, by HR or from My team
ACTION_IMPORT = "aware.import"
ACTION_IMPORT_CHANGE = "aware.import_change"
ACTION_ERASE = "aware.erase"
ACTION_RETENTION = "aware.retention"
ACTION_SUBJECT_ACCESS = "aware.subject_access"
ACTION_KIOSK = "aware.kiosk"  # HR made a device a kiosk, or ended it (accounts.kiosk)
# A line manager's actions from My team, and HR's answer to an exemption request.
ACTION_NUDGE = "aware.nudge"
ACTION_EXEMPTION_REQUEST = "aware.exemption_request"
ACTION_EXEMPTION_REFUSE = "aware.exemption_refuse"
ACTION_ATTEMPT_GRANT = "aware.attempt_grant"
ERASED = "(erased)"

# How an import's counts are listed (other counts follow, by name).
COUNT_ORDER = ["created", "imported", "updated", "deactivated", "unchanged", "already_recorded"]

Snapshot = dict[str, tuple[str, str]]  # field name -> (label, value as shown)
Change = dict[str, str]  # {"field", "label", "before", "after"}


def _recorded(field) -> bool:
    name = field.name.lower()
    return (
        field.name not in NEVER_RECORDED
        and not any(word in name for word in SECRET_WORDS)
        and not getattr(field, "primary_key", False)
        and not field.auto_created
    )


def _shown(field, value: Any) -> str:
    """A value as a person reads it: text in quotes, choices by their label, "—" for nothing."""
    if value is None:
        return EMPTY
    if isinstance(field, models.ManyToManyField):
        names = sorted(str(item) for item in value)
        return ", ".join(names) if names else EMPTY
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value.tzinfo else str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bool | int | float):
        return str(value)
    if isinstance(value, dict):  # a JSON field (an identity provider's settings)
        return json.dumps(value, sort_keys=True)
    choices = dict(field.flatchoices) if getattr(field, "choices", None) else {}
    if isinstance(value, list | tuple):
        return ", ".join(str(choices.get(item, item)) for item in value) or EMPTY
    return f"'{choices.get(value, value)}'"


def audit_fields(model: type[models.Model], names: Iterable[str] | None = None) -> list:
    """The fields of `model` the trail records (all of them, or those `names` picks)."""
    opts = model._meta
    if names is not None:
        fields = [opts.get_field(name) for name in names]
    else:
        fields = [f for f in opts.get_fields() if f.concrete or f.many_to_many]
    return [f for f in fields if (f.concrete or f.many_to_many) and _recorded(f)]


def audit_snapshot(instance: models.Model, *, fields: Iterable[str] | None = None) -> Snapshot:
    """Each recorded field's value as shown, read from `instance` (many-to-many from the database).

    Take one before a change and one after, and give both to audit_changes.
    """
    snapshot: Snapshot = {}
    for field in audit_fields(type(instance), fields):
        if field.many_to_many:
            value = list(getattr(instance, field.name).all()) if instance.pk else []
        else:
            value = getattr(instance, field.name)
        label = str(field.verbose_name)
        snapshot[field.name] = (label[:1].upper() + label[1:], _shown(field, value))
    # Child objects of a Wagtail cluster (a setting's reporting routes): each one's fields.
    if fields is None and instance.pk:
        for relation in instance._meta.related_objects:
            if isinstance(relation.field, ParentalKey):
                snapshot.update(_children_snapshot(instance, relation))
    return snapshot


def _children_snapshot(instance: models.Model, relation) -> Snapshot:
    """Each field of each child object of a Wagtail cluster (a setting's reporting routes)."""
    snapshot: Snapshot = {}
    for child in getattr(instance, relation.get_accessor_name()).all():
        for field in audit_fields(relation.related_model):
            if field.name in (relation.field.name, "sort_order"):
                continue
            key = f"{relation.name}:{child.pk}:{field.name}"
            label = f"{relation.related_model._meta.verbose_name.capitalize()} '{child}', "
            label += str(field.verbose_name)
            snapshot[key] = (label, _shown(field, getattr(child, field.name)))
    return snapshot


def audit_changes(*, before: Snapshot, after: Snapshot) -> list[Change]:
    """The fields whose shown value differs between two snapshots, in field order."""
    changes = []
    for name in {**before, **after}:
        label, old = before.get(name, (after.get(name, ("", ""))[0], EMPTY))
        new = after.get(name, (label, EMPTY))[1]
        if old != new:
            changes.append({"field": name, "label": label, "before": old, "after": new})
    return changes


def changes_text(changes: Iterable[Change]) -> str:
    """'Due date: 2026-02-01 → 2026-03-01; Exempt reason: '' → 'Secondment''."""
    return "; ".join(f"{c['label']}: {c['before']} {ARROW} {c['after']}" for c in changes)


def audit_record(
    *, instance: models.Model, action: str, user=None, changes: list[Change] = (), **data: Any
) -> ModelLogEntry | None:
    """Write one entry to the audit trail for `instance`: who (`user`, or the admin request's
    user, or nobody for the command line), the action, each field's before and after, and any
    other `data` (JSON). Writes one log entry row; nothing else."""
    if changes:
        data["changes"] = list(changes)
    return log(
        instance=instance,
        action=action,
        user=user,
        data=data,
        content_changed=bool(changes),
    )


def audit_update(instance: models.Model, values: dict[str, Any], *, user=None) -> None:
    """Set `values` on `instance`, save it, and write the edit to the audit trail with each
    field's before and after (audit_record)."""
    before = audit_snapshot(instance)
    for name, value in values.items():
        setattr(instance, name, value)
    instance.save()
    audit_record(
        instance=instance,
        action=ACTION_EDIT,
        user=user,
        changes=audit_changes(before=before, after=audit_snapshot(instance)),
    )


def audit_entry(
    *,
    instance: models.Model,
    action: str,
    user=None,
    changes: list[Change] = (),
    timestamp: datetime.datetime | None = None,
    uuid=None,
    **data: Any,
) -> ModelLogEntry:
    """An unsaved entry, for audit_entries_save to write many at once (an import's changes)."""
    if changes:
        data["changes"] = list(changes)
    context = get_active_log_context()
    return ModelLogEntry(
        content_type=ContentType.objects.get_for_model(instance, for_concrete_model=False),
        object_id=str(instance.pk),
        label=str(instance)[:255],
        action=action,
        timestamp=timestamp or timezone.now(),
        user=user or context.user,
        uuid=uuid or context.uuid,
        data=data,
        content_changed=bool(changes),
    )


def audit_entries_save(entries: list[ModelLogEntry], *, batch_size: int = 1000) -> None:
    """Write entries made by audit_entry in batches (one INSERT per batch)."""
    ModelLogEntry.objects.bulk_create(entries, batch_size=batch_size)


def audit_record_import(
    *,
    what: str,
    filename: str,
    counts: dict[str, int],
    record: models.Model | None = None,
    record_model: type[models.Model] | None = None,
    user=None,
) -> ModelLogEntry:
    """Record that an import ran: what it imported ("people", "historic completions"), from which
    file, its counts, and who ran it (`user`, or "the command line" when None).

    `record` is the import's own row (PeopleImport, CompletionImport) when there is one; without
    one give `record_model`, and the entry is filed under that type with object id 0 (no row).
    Writes one log entry row.
    """
    data = {
        "what": what,
        "filename": filename,
        "counts": dict(counts),
        "run_by": str(user) if user is not None else "command line",
    }
    if record is not None and record.pk is not None:
        return audit_record(instance=record, action=ACTION_IMPORT, user=user, **data)
    model = record_model or type(record)
    source = "the command line" if user is None else str(user)
    return ModelLogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(model, for_concrete_model=False),
        object_id="0",
        label=f"{str(model._meta.verbose_name).capitalize()} from {source}: {filename}"[:255],
        action=ACTION_IMPORT,
        timestamp=timezone.now(),
        user=user,
        uuid=get_active_log_context().uuid,
        data=data,
    )


def import_text(data: dict) -> str:
    """'Imported people from people.csv (command line): 3 created, 1 deactivated'."""
    counts = data.get("counts") or {}
    # PostgreSQL's jsonb keeps no key order: show the counts in a fixed one.
    names = sorted(
        counts, key=lambda name: (COUNT_ORDER.index(name) if name in COUNT_ORDER else 99, name)
    )
    counts = ", ".join(f"{counts[name]} {name.replace('_', ' ')}" for name in names)
    return (
        f"Imported {data.get('what', '')} from {data.get('filename') or 'a file'} "
        f"(run by {data.get('run_by', 'command line')}): {counts}"
    )


def audit_edit_attach(
    *, instance: models.Model, user, changes: list[Change], action: str = ACTION_EDIT
) -> None:
    """Put the field changes on the "Edited" (or "Created") entry the admin's view has just
    written for `instance` (Wagtail logs it without them), or write that entry. One query and
    one write."""
    if not changes:
        return
    context = get_active_log_context()
    entries = ModelLogEntry.objects.for_instance(instance).filter(action=action)
    if context.uuid is not None:
        entries = entries.filter(uuid=context.uuid)
    entry = entries.filter(user=user).order_by("-timestamp", "-pk").first()
    if entry is None or "changes" in entry.data:
        audit_record(instance=instance, action=action, user=user, changes=changes)
        return
    entry.data = {**entry.data, "changes": changes}
    entry.content_changed = True
    entry.save(update_fields=["data", "content_changed"])


def audit_delete_attach(
    *, model: type[models.Model], object_id: str, user, changes: list[Change]
) -> None:
    """Put a deleted object's values on the "Deleted" entry the admin's view wrote for it (the
    object, and so its primary key, is gone by now: it is found by type and id). One query and
    one write."""
    if not changes:
        return
    entry = (
        ModelLogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(model, for_concrete_model=False),
            object_id=object_id,
            action=ACTION_DELETE,
            user=user,
        )
        .order_by("-timestamp", "-pk")
        .first()
    )
    if entry is not None and "changes" not in entry.data:
        entry.data = {**entry.data, "changes": changes}
        entry.save(update_fields=["data"])


def audit_record_counts(
    *, model: type[models.Model], action: str, label: str, counts: dict[str, int], user=None
) -> ModelLogEntry:
    """Record a run that touched many rows of `model` (the retention job): what it did as counts
    only, never whose rows. Filed under the model with object id 0. Writes one log entry row."""
    return ModelLogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(model, for_concrete_model=False),
        object_id="0",
        label=label[:255],
        action=action,
        timestamp=timezone.now(),
        user=user,
        uuid=get_active_log_context().uuid,
        data={"counts": dict(counts)},
    )


def counts_text(counts: dict[str, int]) -> str:
    """'2 email addresses, 1 session' (zero counts left out; "none" when all are)."""
    parts = [f"{n} {name.replace('_', ' ')}" for name, n in sorted(counts.items()) if n]
    return ", ".join(parts) or "none"


def audit_entries_scrub(
    *,
    entries: models.QuerySet,
    fields: Iterable[str],
    label: str | None = None,
    reason: bool = False,
) -> int:
    """Erase personal values from existing entries: each entry's label becomes `label` (if
    given), the
    before and after of each change to one of `fields` become "(erased)", and with `reason`
    the entry's reason too. What was done, when and by whom stays. Returns how many entries
    changed; one query to read them, one to write them."""
    fields = set(fields)
    changed = []
    for entry in entries:
        data = dict(entry.data or {})
        for change in data.get("changes") or []:
            if change.get("field") in fields:
                change["before"] = change["after"] = ERASED
        if reason and data.get("reason"):
            data["reason"] = ERASED
        entry.data = data
        if label is not None:
            entry.label = label[:255]
        changed.append(entry)
    ModelLogEntry.objects.bulk_update(changed, ["data", "label"], batch_size=500)
    return len(changed)


def _renamed(value: Any, old: str, new: str) -> Any:
    if isinstance(value, dict):
        return {key: _renamed(item, old, new) for key, item in value.items()}
    if isinstance(value, list):
        return [_renamed(item, old, new) for item in value]
    if value == old:
        return new
    if value == f"'{old}'":
        return f"'{new}'"
    return value


def audit_entries_rename(*, old: str, new: str) -> int:
    """Wherever an entry shows `old` as a whole value (a line manager before and after, who ran
    an import, an entry's label), show `new` instead: an erased person's name is replaced by
    their pseudonym in entries about other people. Reads the entries whose data or label holds
    the text (one query), writes those that change (one more). Returns how many changed."""
    if not old:
        return 0
    changed = []
    for entry in ModelLogEntry.objects.filter(models.Q(data__icontains=old) | models.Q(label=old)):
        data = _renamed(entry.data or {}, old, new)
        label = new if entry.label == old else entry.label
        if data != entry.data or label != entry.label:
            entry.data, entry.label = data, label
            changed.append(entry)
    ModelLogEntry.objects.bulk_update(changed, ["data", "label"], batch_size=500)
    return len(changed)
