"""Partners, contractors and agency staff ("associated persons"): HR pastes or uploads a list
(name, email, organisation, optional phone); each is created as a person of type "other" with
their organisation and invited to sign in by a one-time code (no password, no council account).

The invitation's link opens a page that sends allauth's sign-in code to that address; it is
signed, so it names nobody else, and lasts INVITE_LINK_DAYS (accounts.invitations)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models.functions import Lower

from accounts.invitations import people_invitations_queue
from accounts.models import PersonType, User
from cms.audit import ACTION_CREATE, EMPTY, audit_changes, audit_record, audit_snapshot

MAX_ROWS = 500  # one paste or file; a bigger list is split


@dataclass
class PartnerRow:
    line: int
    full_name: str
    email: str
    organisation: str
    phone: str


@dataclass
class PartnerList:
    rows: list[PartnerRow]
    errors: list[tuple[int, str]]


def _limit(name: str) -> int:
    return User._meta.get_field(name).max_length


def partner_list_parse(*, text: str) -> PartnerList:
    """Check a pasted or uploaded list, one person a line: name, email, organisation and an
    optional phone number, separated by commas (a first line naming the columns is skipped).
    Reads only. Rows for addresses already in Aware as someone other than a partner are errors:
    they sign in as they always have."""
    rows: list[PartnerRow] = []
    errors: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    reader = csv.reader(io.StringIO(text.strip(), newline=""))
    try:
        lines = [(number, cells) for number, cells in enumerate(reader, 1)]
    except csv.Error as error:
        return PartnerList([], [(0, f"The list cannot be read ({error}).")])
    for number, cells in lines:
        cells = [cell.strip() for cell in cells]
        if not any(cells):
            continue
        if number == 1 and len(cells) > 1 and cells[1].lower() in ("email", "email address"):
            continue  # a header line
        if len(cells) not in (3, 4):
            errors.append((number, "needs a name, an email address and an organisation"))
            continue
        name, email, organisation = " ".join(cells[0].split()), cells[1].lower(), cells[2]
        phone = cells[3] if len(cells) == 4 else ""
        problems = []
        if not name or not organisation:
            problems.append("a name and an organisation are required")
        try:
            validate_email(email)
        except ValidationError:
            problems.append(f"“{cells[1]}” is not a valid email address")
        for value, field_name in ((name, "full_name"), (organisation, "organisation")):
            if len(value) > _limit(field_name):
                problems.append(f"“{value[:40]}…” is longer than {_limit(field_name)} characters")
        if email in seen:
            problems.append(f"{email} is also on line {seen[email]}")
        seen.setdefault(email, number)
        if problems:
            errors.append((number, "; ".join(problems)))
        else:
            rows.append(PartnerRow(number, name, email, organisation, phone))
    if len(rows) + len(errors) > MAX_ROWS:
        return PartnerList([], [(0, f"The list has more than {MAX_ROWS} people: split it.")])
    existing = {
        user.email.lower(): user
        for user in User.objects.annotate(email_lower=Lower("email")).filter(
            email_lower__in=[row.email for row in rows]
        )
    }
    kept = []
    for row in rows:
        user = existing.get(row.email)
        if user is not None and (user.person_type != PersonType.OTHER or not user.is_active):
            state = "inactive" if not user.is_active else user.get_person_type_display().lower()
            errors.append((row.line, f"{row.email} is already in Aware ({state})"))
        else:
            kept.append(row)
    return PartnerList(kept, sorted(errors))


@transaction.atomic
def partners_invite(*, rows: list[PartnerRow], by: User) -> tuple[list[User], list[int]]:
    """Create the people who are new (type "other", with their organisation, no password) and
    keep a code sign-in invitation for each in the outbox, in this transaction (a dead broker
    or SMTP server loses none). People already invited are invited again, unchanged. Returns
    the people and the outbox ids. Each new person is in the audit trail."""
    emails = [row.email for row in rows]
    existing = {
        user.email.lower(): user
        for user in User.objects.select_for_update()
        .annotate(email_lower=Lower("email"))
        .filter(email_lower__in=emails)
    }
    people = []
    for row in rows:
        user = existing.get(row.email)
        if user is None:
            user = User(
                email=row.email,
                full_name=row.full_name,
                organisation=row.organisation,
                person_type=PersonType.OTHER,
            )
            user.set_unusable_password()
            user.save()
            # Unverified until their first code sign-in proves they read it (allauth verifies it).
            EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=False)
            changes = [
                change
                for change in audit_changes(before={}, after=audit_snapshot(user))
                if change["after"] not in (EMPTY, "''", "False")
            ]
            audit_record(
                instance=user,
                action=ACTION_CREATE,
                user=by,
                changes=changes,
                via="partner invitation",
            )
        people.append(user)
    return people, people_invitations_queue(users=people, by_code=True)


def qr_svg(*, text: str) -> str:
    """A QR code of `text` as inline SVG markup (the library allauth's two-factor set-up uses)."""
    import qrcode
    from qrcode.image.svg import SvgPathImage

    image = qrcode.make(text, image_factory=SvgPathImage, border=2)
    return image.to_string(encoding="unicode")
