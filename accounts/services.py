"""Writes about people: deactivation, HR's CSV import, and the emails people ask for."""

import logging
import secrets
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from allauth.account.models import EmailAddress
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from accounts.importers import (
    CREATE,
    DEACTIVATE,
    UNCHANGED,
    UPDATE,
    DepartmentIndex,
    ImportPlan,
    RowError,
    department_key,
    in_chunks,
    people_import_plan,
    person_fields,
    row_changes,
)
from accounts.invitations import EMAIL_BATCH_SIZE, people_invitations_queue
from accounts.models import Department, PeopleImport, PersonType, User
from accounts.outbox import emails_store
from accounts.selectors import managers_cache_clear
from accounts.signals import election_dates_changed, people_imported
from accounts.tasks import queued_email_send_task, queued_emails_send_task
from cms.audit import (
    ACTION_CREATE,
    ACTION_DEACTIVATE,
    ACTION_EDIT,
    ACTION_IMPORT_CHANGE,
    ACTION_SUBJECT_ACCESS,
    EMPTY,
    audit_changes,
    audit_entries_save,
    audit_entry,
    audit_record,
    audit_record_import,
    audit_snapshot,
)
from cms.services import rows_update, task_enqueue_each_on_commit, task_enqueue_on_commit

logger = logging.getLogger(__name__)


DEACTIVATION_FIELDS = ["is_active", "deactivated_at"]


def user_deactivate(
    *, user: User, by: User | None = None, via: str = "", now: datetime | None = None
) -> User:
    """Mark a leaver inactive; their records stay. Nothing is deleted and no email is sent.

    The audit trail records who did it (`by`; nobody for the command line), and `via` what
    ("people import"), with Active True → False.
    """
    if user.is_active:
        before = audit_snapshot(user, fields=DEACTIVATION_FIELDS)
        user.is_active = False
        user.deactivated_at = now or timezone.now()
        user.save(update_fields=DEACTIVATION_FIELDS)
        after = audit_snapshot(user, fields=DEACTIVATION_FIELDS)
        changes = audit_changes(before=before, after=after)
        extra = {"via": via} if via else {}
        audit_record(instance=user, action=ACTION_DEACTIVATE, user=by, changes=changes, **extra)
    return user


def personal_data_download_record(*, person: User, by: User) -> None:
    """Record in the audit trail that `by` downloaded everything held on `person` (who, whose,
    when; never what it held). Writes one log entry row; logs ids only."""
    audit_record(instance=person, action=ACTION_SUBJECT_ACCESS, user=by)
    logger.info("Subject access export of person %s by user %s", person.pk, by.pk)


# PEOPLE IMPORT

BATCH_SIZE = 1000


class PeopleImportRefused(Exception):
    """The import was refused as a whole and nothing was written; the message says why."""


@dataclass
class PeopleImportResult:
    imported: bool
    created: int = 0
    updated: int = 0
    deactivated: int = 0
    unchanged: int = 0
    invited: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def bad_lines(self) -> int:
        return len({error.line for error in self.errors})

    def as_dict(self) -> dict[str, int]:
        return {
            "created": self.created,
            "updated": self.updated,
            "deactivated": self.deactivated,
            "unchanged": self.unchanged,
            "invited": self.invited,
            "errors": self.bad_lines,
        }


def departments_ensure(*, index: DepartmentIndex, paths: Iterable[tuple[str, ...]]) -> None:
    """Create any department on the given paths that does not exist yet, and add it to `index`.

    Queries grow with the number of new departments, not with the number of people.
    """
    for names in sorted(set(paths)):
        for depth in range(1, len(names) + 1):
            key = department_key(names[:depth])
            if key in index.pk_by_key:
                continue
            name = names[depth - 1]
            if depth == 1:
                node = Department.add_root(name=name)
            else:
                # Re-read the parent: a sorted insert may have moved its path since it was loaded.
                parent = Department.objects.get(pk=index.pk_by_key[key[:-1]])
                node = parent.add_child(name=name)
            index.add(key, node.pk)


def _email_addresses_verify(users: list[User]) -> None:
    """Each imported person's address is verified and primary: HR's file is the trusted source.
    BATCH_SIZE people at a time, so memory stays flat."""
    for chunk in in_chunks(users, BATCH_SIZE):
        addresses: dict[int, list[EmailAddress]] = defaultdict(list)
        for address in EmailAddress.objects.filter(user_id__in=[user.pk for user in chunk]):
            addresses[address.user_id].append(address)
        demoted, changed, new = [], [], []
        for user in chunk:
            wanted = user.email.lower()
            own = addresses.get(user.pk, [])
            match = next((a for a in own if a.email.lower() == wanted), None)
            if match is None:
                # HR changed the address: the old primary address becomes the new one.
                match = next((a for a in own if a.primary), None)
            for address in own:
                if address.primary and address is not match:
                    address.primary = False
                    demoted.append(address)
            if match is None:
                new.append(EmailAddress(user=user, email=wanted, verified=True, primary=True))
            elif not (match.email == wanted and match.verified and match.primary):
                match.email, match.verified, match.primary = wanted, True, True
                changed.append(match)
        rows_update(EmailAddress, demoted, ["primary"])
        rows_update(EmailAddress, changed, ["email", "verified", "primary"])
        EmailAddress.objects.bulk_create(new, batch_size=BATCH_SIZE)


def _people_write(*, plan: ImportPlan, now: datetime, by: User | None = None) -> dict[int, User]:
    """Create and update the plan's people, then set line managers; returns users by line.

    A privileged account is never written: the plan refuses every row that would change one, and
    the unchanged ones are left out of the email check below too. Each updated person's field
    changes go to the audit trail (one entry each, written in batches).
    """
    privileged = {row.user.pk for row in plan.rows if row.privileged_roles}
    if any(row.privileged_roles and row.action != UNCHANGED for row in plan.rows):
        raise PeopleImportRefused("A privileged account would be changed, so nothing was imported.")
    departments_ensure(
        index=plan.departments, paths=[r.department for r in plan.rows if r.department]
    )
    users: dict[int, User] = {}
    created, leavers = [], []
    updated: dict[tuple[str, ...], list[User]] = defaultdict(list)  # by the fields they change
    audited: dict[int, tuple[User, list]] = {}  # person's pk -> (person, field changes)
    for row in plan.rows:
        department_pk = plan.departments.pk_for(row.department)
        if row.action == CREATE:
            user = User(**person_fields(row, department_pk), is_active=row.active)
            user.deactivated_at = None if row.active else now
            user.set_unusable_password()
            created.append(user)
        else:
            user = row.user
            changes = row_changes(row, department_pk)
            if row.active and not user.is_active:
                changes.update(is_active=True, deactivated_at=None)
            before = audit_snapshot(user, fields=changes) if changes else {}
            for name, value in changes.items():
                setattr(user, name, value)
            if changes:
                updated[tuple(sorted(changes))].append(user)
                after = audit_snapshot(user, fields=changes)
                audited[user.pk] = (user, audit_changes(before=before, after=after))
            if row.action == DEACTIVATE:
                leavers.append(user)
        users[row.line] = user
    User.objects.bulk_create(created, batch_size=BATCH_SIZE)
    for attnames, group in updated.items():
        fields = [User._meta.get_field(attname).name for attname in attnames]
        rows_update(User, group, fields)
    for user in leavers:
        user_deactivate(user=user, by=by, via="people import", now=now)

    # Second pass: every person now has a primary key, whichever line their manager is on.
    managed = []
    for row in plan.rows:
        user = users[row.line]
        manager_pk = None
        if row.manager is not None:
            kind, value = row.manager
            manager_pk = users[value].pk if kind == "new" else value
        if user.line_manager_id != manager_pk:
            before = audit_snapshot(user, fields=["line_manager"]) if row.action != CREATE else {}
            user.line_manager_id = manager_pk
            managed.append(user)
            if row.action != CREATE:
                after = audit_snapshot(user, fields=["line_manager"])
                audited.setdefault(user.pk, (user, []))[1].extend(
                    audit_changes(before=before, after=after)
                )
    rows_update(User, managed, ["line_manager"])
    if managed or updated or leavers:  # bulk updates send no signal
        managers_cache_clear()
    audit_entries_save(
        [
            audit_entry(
                instance=user, action=ACTION_IMPORT_CHANGE, user=by, changes=changes, timestamp=now
            )
            for user, changes in audited.values()
            if changes
        ]
    )
    _email_addresses_verify([user for user in users.values() if user.pk not in privileged])
    return users


@transaction.atomic
def people_import(
    *,
    text: str,
    import_valid_rows: bool = False,
    expected: dict[str, int] | None = None,
    now: datetime | None = None,
    by: User | None = None,
    filename: str = "",
    upload: PeopleImport | None = None,
) -> PeopleImportResult:
    """Create, update and deactivate people from HR's CSV, in one transaction.

    The whole file is checked first (see importers.people_import_plan). With any bad row nothing
    is written unless `import_valid_rows` is set. With `expected` (the counts a preview showed),
    a file whose plan has changed since is refused with PeopleImportRefused. After commit:
    invitations for new active people are kept in the outbox (in this transaction) and
    queued_emails_send_task is queued for them in batches, and
    `people_imported` is sent with the ids of everyone created, updated or deactivated (and
    `election_dates_changed` with the councillors whose election date changed). Raises
    PeopleFileError for a file that cannot be read. The audit trail gets each person's changes
    and one entry for the import: `filename`, its counts, and who ran it (`by`, or the command
    line), filed under the `upload` when there is one.
    """
    plan = people_import_plan(text=text)
    if expected is not None and plan.summary() != expected:
        raise PeopleImportRefused(
            "People's records have changed since the preview, so nothing was imported. "
            "Upload the file again to see an up-to-date preview."
        )
    result = PeopleImportResult(imported=False, errors=plan.errors)
    if (plan.errors and not import_valid_rows) or not plan.rows:
        return result
    elected = _election_dates_changing(plan)
    users = _people_write(plan=plan, now=now or timezone.now(), by=by)

    result.imported = True
    result.created = plan.count(CREATE)
    result.updated = plan.count(UPDATE)
    result.deactivated = plan.count(DEACTIVATE)
    result.unchanged = plan.count(UNCHANGED)
    new = {r.line for r in plan.rows if r.action == CREATE and r.active}
    result.invited = len(new)
    changed = [users[r.line].pk for r in plan.rows if r.action != UNCHANGED]
    logger.info("People import: %s", result.as_dict())  # counts only, never names or emails
    audit_record_import(
        what="people",
        filename=filename,
        counts=result.as_dict(),
        record=upload,
        record_model=PeopleImport,
        user=by,
    )
    # In this transaction, so the invitations are recorded with the people (a dead broker loses
    # none: queued_emails_retry_task sends what no task did).
    email_ids = people_invitations_queue(users=[users[r.line] for r in plan.rows if r.line in new])
    task_enqueue_each_on_commit(
        queued_emails_send_task, [(chunk,) for chunk in in_chunks(email_ids, EMAIL_BATCH_SIZE)]
    )
    transaction.on_commit(lambda: people_imported.send(sender=User, user_ids=changed), robust=True)
    if elected:
        transaction.on_commit(
            lambda: election_dates_changed.send(sender=User, user_ids=elected, by=by), robust=True
        )
    return result


def _election_dates_changing(plan: ImportPlan) -> list[int]:
    """The existing councillors whose election date (start_date) the plan changes (read before
    the plan is written)."""
    return [
        row.user.pk
        for row in plan.rows
        if row.user is not None
        and row.action == UPDATE
        and row.person_type == PersonType.COUNCILLOR
        and row.user.start_date != row.start_date
    ]


def people_import_upload(*, uploaded_by: User, filename: str, text: str) -> PeopleImport:
    """Keep an uploaded file server-side for its preview, under a random token.

    Expired previews that were never imported are deleted: they hold personal data.
    """
    PeopleImport.objects.filter(
        imported_at__isnull=True, created_at__lt=timezone.now() - PeopleImport.LIFETIME
    ).delete()
    return PeopleImport.objects.create(
        token=secrets.token_urlsafe(32),
        uploaded_by=uploaded_by,
        filename=filename[:255],
        csv_text=text,
    )


@transaction.atomic
def people_import_confirm(
    *, token: str, user: User, expected: dict[str, int], now: datetime | None = None
) -> PeopleImportResult:
    """Import the valid rows of a previewed file, once.

    The upload row is locked, so a double-submitted confirmation imports once; an unknown,
    someone else's, expired or already used token raises PeopleImportRefused and writes nothing.
    See people_import for what is written and sent.
    """
    now = now or timezone.now()
    upload = PeopleImport.objects.select_for_update().filter(token=token, uploaded_by=user).first()
    if upload is not None and upload.imported_at is not None:
        raise PeopleImportRefused(
            f"This file was already imported at {timezone.localtime(upload.imported_at):%H:%M}; "
            "nothing was imported again."
        )
    if upload is None or not upload.is_open(now):
        raise PeopleImportRefused(
            "This preview has expired or is not yours, so nothing was imported. "
            "Upload the file again."
        )
    result = people_import(
        text=upload.csv_text,
        import_valid_rows=True,
        expected=expected,
        now=now,
        by=user,
        filename=upload.filename,
        upload=upload,
    )
    upload.imported_at = now
    upload.csv_text = ""
    upload.summary = result.as_dict()
    upload.save(update_fields=["imported_at", "csv_text", "summary"])
    return result


def email_queue(*, message: EmailMessage, template: str) -> int:
    """Keep one rendered email in the outbox and queue queued_email_send_task for it after the
    commit; if the broker is down, queued_emails_retry_task sends it later. Returns its id."""
    (email_id,) = emails_store(messages=[message], template=template)
    task_enqueue_on_commit(queued_email_send_task, email_id)
    return email_id


# SINGLE SIGN-ON


def sso_account_link(*, request, sociallogin, user: User) -> None:
    """Link a first single sign-on to the person HR imported (accounts.sso found them): saves
    the social account, and records on the person's history which provider it was."""
    sociallogin.connect(request, user)
    audit_record(
        instance=user,
        action=ACTION_EDIT,
        user=None,
        changes=[
            {
                "field": "sso",
                "label": "Single sign-on account",
                "before": EMPTY,
                "after": f"'{sociallogin.account.get_provider().name}'",
            }
        ],
        via="single sign-on",
    )


def sso_user_created_record(*, user: User, provider: str) -> None:
    """The audit entry of a person created at their first single sign-on (allauth created them,
    in no audience and with no role)."""
    changes = [
        change
        for change in audit_changes(before={}, after=audit_snapshot(user))
        if change["after"] not in (EMPTY, "''", "False")
    ]
    audit_record(
        instance=user, action=ACTION_CREATE, user=None, changes=changes, via="single sign-on"
    )
