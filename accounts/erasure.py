"""Leavers' personal data: replaced by a pseudonym once the retention period HR set has passed
(or when HR erases it sooner), their training evidence kept under the pseudonym.

The evidence chain (training's completion records) names people by id only, never by name or
address, so the pseudonym changes no record and no hash: `verify_records` and certificate
checks still pass. Each app removes what else it holds through PERSONAL_DATA_ERASE_HOOK."""

import hashlib
import hmac
import logging
from datetime import datetime

from dateutil.relativedelta import relativedelta
from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from wagtail import hooks
from wagtail.models import ModelLogEntry
from wagtail.users.models import UserProfile

from accounts.models import PersonType, QueuedEmail, User
from accounts.personal_data import PERSONAL_DATA_ERASE_HOOK
from cms.audit import ACTION_ERASE, audit_entries_rename, audit_entries_scrub, audit_record
from cms.selectors import retention_settings

logger = logging.getLogger(__name__)

# The person's own details: replaced or cleared (and their values erased from the audit trail).
ERASED_FIELDS = [
    "full_name",
    "email",
    "employee_number",
    "job_title",
    "start_date",
    "on_leave_until",
    "line_manager",
]
PSEUDONYM_WORDS = {
    PersonType.OFFICER: "Former staff member",
    PersonType.COUNCILLOR: "Former councillor",
    PersonType.OTHER: "Former learner",
}


class ErasureRefused(Exception):
    """The person's data cannot be erased (still active, or it is the one asking); the message
    says why. Nothing was changed."""


def pseudonym_for(person: User) -> str:
    """'Former staff member 4f2a9c1e': the same for the same person every time (keyed on the
    id with SECRET_KEY, so the id cannot be read back from it)."""
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"aware-pseudonym:{person.pk}".encode(), hashlib.sha256
    ).hexdigest()[:8]
    return f"{PSEUDONYM_WORDS.get(person.person_type, 'Former learner')} {digest}"


def leavers_due_for_erasure(*, now: datetime, months: int) -> QuerySet[User]:
    """People deactivated more than `months` ago whose data is not erased yet."""
    return User.objects.filter(
        is_active=False,
        erased_at__isnull=True,
        deactivated_at__lt=now - relativedelta(months=months),
    )


@transaction.atomic
def person_erase(
    *, person: User, by: User | None = None, via: str = "", now: datetime | None = None
) -> dict[str, int]:
    """Replace a deactivated person's personal data by a pseudonym and make sign-in impossible:
    name, email, employee number, job title and dates replaced or cleared; password unusable,
    admin rights and roles removed; every app's PERSONAL_DATA_ERASE_HOOK removes what else it
    holds (sign-in addresses, two-factor methods, sessions, queued emails, the email log,
    exemption reasons). Their assignments, progress, quiz attempts and completion records stay,
    under the pseudonym. The audit trail's earlier entries about them lose the erased values,
    and entries about others that name them (their line manager, who ran an import) show the
    pseudonym instead; one new entry records the erasure as counts. Returns the counts.

    Raises ErasureRefused, changing nothing, for an active person or `by` themselves. A person
    already erased is left as is (empty counts)."""
    person = User.objects.select_for_update().get(pk=person.pk)
    if person.erased_at is not None:
        return {}
    if person.is_active:
        raise ErasureRefused(
            f"{person} is still active. Deactivate them first; nothing was erased."
        )
    if by is not None and by.pk == person.pk:
        raise ErasureRefused("You cannot erase your own record; nothing was erased.")
    now = now or timezone.now()
    counts: dict[str, int] = {}
    for erase in hooks.get_hooks(PERSONAL_DATA_ERASE_HOOK):
        counts.update(erase(person=person, now=now))

    pseudonym, old_name = pseudonym_for(person), person.full_name
    person.full_name = pseudonym
    person.email = f"erased-{pseudonym.rsplit(' ', 1)[-1]}-{person.pk}@erased.invalid"
    person.employee_number = None
    person.job_title = ""
    person.start_date = person.on_leave_until = None
    person.line_manager = None
    person.is_staff = person.is_superuser = False
    person.last_login = None
    person.erased_at = now
    person.set_unusable_password()
    person.save()
    person.groups.clear()
    person.user_permissions.clear()

    counts["audit_entries_scrubbed"] = audit_entries_scrub(
        entries=ModelLogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(User), object_id=str(person.pk)
        ),
        label=pseudonym,
        fields=ERASED_FIELDS,
    )
    # Entries about other people that name them (as a line manager, as who ran an import).
    counts["audit_entries_renamed"] = audit_entries_rename(old=old_name, new=pseudonym)
    audit_record(
        instance=person,
        action=ACTION_ERASE,
        user=by,
        via=via or ("by HR" if by else "by the retention job"),
        counts=counts,
    )
    logger.info("Personal data of person %s erased", person.pk)
    return counts


def leavers_erase_due(*, now: datetime | None = None) -> int:
    """Erase every leaver deactivated longer than the retention setting allows (see
    person_erase, for each). Returns how many were erased."""
    now = now or timezone.now()
    months = retention_settings().leaver_months
    erased = 0
    for person in leavers_due_for_erasure(now=now, months=months).order_by("pk"):
        person_erase(person=person, via="by the retention job", now=now)
        erased += 1
    return erased


def accounts_personal_data_erase(*, person: User, now: datetime) -> dict[str, int]:
    """Accounts' part of an erasure: sign-in addresses, two-factor methods, open sessions, the
    admin profile (avatar) and emails waiting to go to them are deleted."""
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator
    from django.contrib.sessions.models import Session

    email = person.email.lower()
    queued = [
        q.pk
        for q in QueuedEmail.objects.only("message")
        if email in [to.lower() for to in q.message.get("to") or []]
    ]
    counts = {
        "email_addresses": EmailAddress.objects.filter(user=person).delete()[0],
        "two_factor_methods": Authenticator.objects.filter(user=person).delete()[0],
        "queued_emails": QueuedEmail.objects.filter(pk__in=queued).delete()[0],
    }
    # The unusable password already ends every session (Django checks each session's password
    # hash); the database's sessions are deleted too, so none lingers in the table.
    sessions = 0
    if settings.SESSION_ENGINE == "django.contrib.sessions.backends.db":
        own = [
            s.session_key
            for s in Session.objects.filter(expire_date__gt=now).iterator()
            if s.get_decoded().get("_auth_user_id") == str(person.pk)
        ]
        sessions = Session.objects.filter(session_key__in=own).delete()[0]
    counts["sessions"] = sessions
    # Wagtail's admin profile: the avatar photo (its file too) and preferences.
    profiles = list(UserProfile.objects.filter(user=person))
    for profile in profiles:
        if profile.avatar:
            profile.avatar.delete(save=False)
    counts["admin_profiles"] = UserProfile.objects.filter(user=person).delete()[0]
    if apps.is_installed("allauth.socialaccount"):  # an identity provider's accounts
        from allauth.socialaccount.models import SocialAccount

        counts["identity_provider_accounts"] = SocialAccount.objects.filter(user=person).delete()[0]
    return counts
