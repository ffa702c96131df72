"""Wagtail admin wiring for the audit trail: what each action says, and the field changes of
every edit made in the admin (snippets, settings, people)."""

from wagtail import hooks
from wagtail.log_actions import LogFormatter

from cms.audit import (
    ACTION_ATTEMPT_GRANT,
    ACTION_CREATE,
    ACTION_DEACTIVATE,
    ACTION_DELETE,
    ACTION_EDIT,
    ACTION_ERASE,
    ACTION_EXEMPT,
    ACTION_EXEMPTION_REFUSE,
    ACTION_EXEMPTION_REQUEST,
    ACTION_EXEMPTION_WITHDRAW,
    ACTION_EXTEND,
    ACTION_IMPORT,
    ACTION_IMPORT_CHANGE,
    ACTION_KIOSK,
    ACTION_NUDGE,
    ACTION_RETENTION,
    ACTION_SUBJECT_ACCESS,
    EMPTY,
    audit_changes,
    audit_delete_attach,
    audit_edit_attach,
    audit_snapshot,
    changes_text,
    counts_text,
    import_text,
)


class ChangesFormatter(LogFormatter):
    """The action's message, then each changed field: "Edited: Due date: 2026-02-01 → …"."""

    def format_message(self, log_entry):
        data = log_entry.data or {}
        message = str(self.message)
        if data.get("reason"):
            message += f" ('{data['reason']}')"
        if data.get("via"):
            message += f" by a {data['via']}"
        if data.get("changes"):
            message += f": {changes_text(data['changes'])}"
        return message


class ImportFormatter(LogFormatter):
    label = "Import"

    def format_message(self, log_entry):
        return import_text(log_entry.data or {})


class CountsFormatter(LogFormatter):
    """The action's message and what it removed, as counts: "Personal data erased (by the
    retention job): 2 email addresses, 1 session"."""

    def format_message(self, log_entry):
        data = log_entry.data or {}
        message = str(self.message)
        if data.get("via"):
            message += f" ({data['via']})"
        if "counts" in data:
            message += f": {counts_text(data['counts'])}"
        return message


def _counts_formatter(label: str, message: str) -> type[LogFormatter]:
    return type("Formatter", (CountsFormatter,), {"label": label, "message": message})


def _changes_formatter(label: str, message: str) -> type[LogFormatter]:
    return type("Formatter", (ChangesFormatter,), {"label": label, "message": message})


@hooks.register("register_log_actions", order=100)  # after Wagtail's own, to extend "Edited"
def audit_log_actions(actions):
    actions.register_action(ACTION_CREATE)(_changes_formatter("Create", "Created"))
    actions.register_action(ACTION_EDIT)(_changes_formatter("Edit", "Edited"))
    actions.register_action(ACTION_DELETE)(_changes_formatter("Delete", "Deleted"))
    # Wagtail registered these already: keep one of each in the site history's action filter.
    actions.choices[:] = list(dict.fromkeys(actions.choices))
    actions.register_action(ACTION_DEACTIVATE)(_changes_formatter("Deactivate", "Deactivated"))
    actions.register_action(ACTION_EXEMPT)(_changes_formatter("Exempt", "Exempted"))
    actions.register_action(ACTION_EXEMPTION_WITHDRAW)(
        _changes_formatter("Withdraw exemption", "Exemption withdrawn")
    )
    actions.register_action(ACTION_EXTEND)(_changes_formatter("Extend", "Due date extended"))
    actions.register_action(ACTION_IMPORT_CHANGE)(
        _changes_formatter("Change by import", "Changed by a people import")
    )
    actions.register_action(ACTION_IMPORT)(ImportFormatter)
    actions.register_action(ACTION_NUDGE)(_changes_formatter("Nudge", "Reminder sent by manager"))
    actions.register_action(ACTION_EXEMPTION_REQUEST)(
        _changes_formatter("Request exemption", "Exemption asked for by manager")
    )
    actions.register_action(ACTION_EXEMPTION_REFUSE)(
        _changes_formatter("Refuse exemption", "Exemption request refused")
    )
    actions.register_action(ACTION_ATTEMPT_GRANT)(
        _changes_formatter("Give another attempt", "Another quiz attempt given by manager")
    )
    actions.register_action(ACTION_ERASE)(_counts_formatter("Erase", "Personal data erased"))
    actions.register_action(ACTION_RETENTION)(_counts_formatter("Retention", "Retention run"))
    actions.register_action(ACTION_SUBJECT_ACCESS)(
        _counts_formatter("Subject access", "Everything held on this person downloaded")
    )
    actions.register_action(ACTION_KIOSK)(
        _changes_formatter("Kiosk", "A device's kiosk mode changed by this person")
    )


REQUEST_SNAPSHOT = "aware_audit_before"


@hooks.register("before_edit_snippet")
@hooks.register("before_edit_setting")
@hooks.register("before_edit_user")
def audit_remember_before(request, instance):
    """The object as it is in the database, before the admin form changes it."""
    if request.method == "POST":
        setattr(request, REQUEST_SNAPSHOT, audit_snapshot(instance))


@hooks.register("after_edit_snippet")
@hooks.register("after_edit_setting")
@hooks.register("after_edit_user")
def audit_record_admin_edit(request, instance):
    """Each field the admin form changed, with before and after, on its "Edited" entry."""
    before = getattr(request, REQUEST_SNAPSHOT, None)
    if before is not None:
        changes = audit_changes(before=before, after=audit_snapshot(instance))
        audit_edit_attach(instance=instance, user=request.user, changes=changes)


@hooks.register("after_create_snippet")
@hooks.register("after_create_user")
def audit_record_admin_create(request, instance):
    """What a new rule, audience or person was created with, on its "Created" entry."""
    changes = [
        change
        for change in audit_changes(before={}, after=audit_snapshot(instance))
        if change["after"] not in (EMPTY, "''")
    ]
    audit_edit_attach(instance=instance, user=request.user, changes=changes, action=ACTION_CREATE)


REQUEST_DELETED = "aware_audit_deleted"


@hooks.register("before_delete_snippet")
def audit_remember_deleted(request, instances):
    """The values of what is about to be deleted (a rule, an audience…), for its entry."""
    if request.method == "POST":
        setattr(
            request,
            REQUEST_DELETED,
            [
                (type(instance), str(instance.pk), audit_snapshot(instance))
                for instance in instances
            ],
        )


@hooks.register("after_delete_snippet")
def audit_record_admin_delete(request, instances):
    """What each deleted object held, on its "Deleted" entry, so the trail keeps the values."""
    for model, object_id, before in getattr(request, REQUEST_DELETED, []):
        changes = [
            change
            for change in audit_changes(before=before, after={})
            if change["before"] not in (EMPTY, "''")
        ]
        audit_delete_attach(model=model, object_id=object_id, user=request.user, changes=changes)
