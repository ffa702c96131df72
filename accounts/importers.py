"""Reading and checking HR's people CSV: turns a file into an import plan. Nothing here writes."""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection
from django.db.models.functions import Lower

from accounts.models import Department, PersonType, ServiceArea, User
from accounts.selectors import privileged_roles_by_user
from cms.uploads import CsvFileError

COLUMNS = (
    "employee_number",
    "email",
    "full_name",
    "person_type",
    "department",
    "service_area",
    "job_title",
    "manager_email",
    "start_date",
    "on_leave_until",
    "active",
)
TRUE_WORDS = frozenset({"yes", "y", "true", "1"})
FALSE_WORDS = frozenset({"no", "n", "false", "0"})
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")
DATE_FORMATS_SHOWN = "YYYY-MM-DD or DD/MM/YYYY"

CREATE, UPDATE, DEACTIVATE, UNCHANGED = "create", "update", "deactivate", "unchanged"

# A reference to a person in the graph of line managers: ("user", pk) for someone already in the
# database, ("new", line) for someone this file creates.
PersonRef = tuple[str, int]


class PeopleFileError(CsvFileError):
    """The people file as a whole cannot be read (encoding, header, no rows)."""


def _max_length(name: str) -> int:
    return User._meta.get_field(name).max_length


def _choice_lookup(choices: type[PersonType] | type[ServiceArea]) -> dict[str, str]:
    """Accept a choice's value or its label, in any case."""
    lookup = {}
    for value, label in choices.choices:
        lookup[value.lower()] = value
        lookup[label.lower()] = value
    return lookup


PERSON_TYPES = _choice_lookup(PersonType)
SERVICE_AREAS = _choice_lookup(ServiceArea)


@dataclass
class RowError:
    line: int
    reason: str


@dataclass
class PersonRow:
    """One checked row: the person as the file describes them."""

    line: int
    employee_number: str | None
    email: str
    full_name: str
    person_type: str
    department: tuple[str, ...] | None
    service_area: str
    job_title: str
    manager_email: str | None
    start_date: date | None
    on_leave_until: date | None
    active: bool
    user: User | None = None  # the existing person this row updates
    manager: PersonRef | None = None
    action: str = ""
    # Why the person this row matches holds a privileged account ("HR", "administrator"...).
    privileged_roles: list[str] = field(default_factory=list)

    @property
    def ref(self) -> PersonRef:
        return ("user", self.user.pk) if self.user else ("new", self.line)

    @property
    def key(self) -> tuple[str, str]:
        """Officers and others are matched by employee number, councillors by email."""
        if self.person_type == PersonType.COUNCILLOR:
            return ("email", self.email)
        return ("employee number", self.employee_number or "")


@dataclass
class FieldChange:
    """One of a person's identifying fields as it is and as the file would make it."""

    label: str
    old: str
    new: str


def identity_changes(row: PersonRow) -> list[FieldChange]:
    """How the row would rename an existing person or change their email or employee number."""
    user = row.user
    if user is None:
        return []
    changes = []
    if row.full_name != user.full_name:
        changes.append(FieldChange("Name", user.full_name, row.full_name))
    if row.email != user.email.lower():
        changes.append(FieldChange("Email", user.email, row.email))
    if row.employee_number and row.employee_number != user.employee_number:
        changes.append(
            FieldChange("Employee number", user.employee_number or "none", row.employee_number)
        )
    return changes


@dataclass
class DepartmentIndex:
    """Every department, keyed by its path of lower-cased names; loaded in one query."""

    pk_by_key: dict[tuple[str, ...], int] = field(default_factory=dict)
    key_by_pk: dict[int, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def load(cls) -> DepartmentIndex:
        index = cls()
        key_by_path: dict[str, tuple[str, ...]] = {}
        for pk, path, name in Department.objects.order_by("path").values_list("pk", "path", "name"):
            parent = key_by_path.get(path[: -Department.steplen], ())
            key = (*parent, name.lower())
            key_by_path[path] = key
            index.add(key, pk)
        return index

    def add(self, key: tuple[str, ...], pk: int) -> None:
        self.pk_by_key.setdefault(key, pk)
        self.key_by_pk[pk] = key

    def pk_for(self, names: tuple[str, ...] | None) -> int | None:
        return None if names is None else self.pk_by_key.get(department_key(names))


def department_key(names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(name.lower() for name in names)


@dataclass
class ImportPlan:
    """What importing a file would do: the valid rows with their actions, and every bad row."""

    rows: list[PersonRow]
    errors: list[RowError]
    lines_read: int
    departments: DepartmentIndex
    ignored_columns: list[str] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)

    @property
    def bad_lines(self) -> list[int]:
        return sorted({error.line for error in self.errors})

    @property
    def leavers(self) -> list[PersonRow]:
        """The people this import would deactivate, for HR to check by name before confirming."""
        return [row for row in self.rows if row.action == DEACTIVATE]

    @property
    def identity_changes(self) -> list[tuple[PersonRow, list[FieldChange]]]:
        """Existing people the import would rename or give another email or employee number."""
        found = [(row, identity_changes(row)) for row in self.rows if row.action != CREATE]
        return [(row, changes) for row, changes in found if changes]

    @property
    def to_invite(self) -> int:
        return sum(1 for row in self.rows if row.action == CREATE and row.active)

    def summary(self) -> dict[str, int]:
        return {
            "create": self.count(CREATE),
            "update": self.count(UPDATE),
            "deactivate": self.count(DEACTIVATE),
            "unchanged": self.count(UNCHANGED),
            "invite": self.to_invite,
            "errors": len(self.bad_lines),
        }


def in_chunks(values: Iterable, size: int | None = None) -> Iterator[list]:
    """Split long IN lists so SQLite's parameter limit is never hit; PostgreSQL gets one query."""
    values = list(values)
    size = size or max(1, (connection.features.max_query_params or 50_000) - 10)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _header_columns(header: list[str]) -> list[str]:
    """The header's column names (as the importer spells them); raises PeopleFileError when a
    column the import needs is missing or repeated. Other columns are ignored, not refused:
    real HR extracts always carry some."""
    columns = [name.strip().lower().replace(" ", "_") for name in header]
    missing = [name for name in COLUMNS if name not in columns]
    duplicated = sorted(name for name, n in Counter(columns).items() if n > 1 and name in COLUMNS)
    problems = []
    if missing:
        problems.append(f"missing column(s): {', '.join(missing)}")
    if duplicated:
        problems.append(f"repeated column(s): {', '.join(duplicated)}")
    if problems:
        raise PeopleFileError(
            f"The first line must name the columns {', '.join(COLUMNS)}; "
            + "; ".join(problems)
            + "."
        )
    return columns


def _csv_header(reader) -> list[str]:
    try:
        return next(reader)
    except StopIteration:
        raise PeopleFileError("The file is empty.") from None
    except csv.Error as error:
        raise PeopleFileError(f"The first line cannot be read as CSV ({error}).") from error


def people_csv_ignored_columns(*, text: str) -> list[str]:
    """The header's columns the import does not use, as the file names them ("(blank)" for a
    column with no name), for the preview to list. Raises PeopleFileError as people_csv_rows."""
    header = _csv_header(csv.reader(io.StringIO(text, newline="")))
    columns = _header_columns(header)
    return [
        written.strip() or "(blank)"
        for written, name in zip(header, columns, strict=True)
        if name not in COLUMNS
    ]


def people_csv_rows(*, text: str) -> Iterator[tuple[int, dict[str, str] | None, int]]:
    """(line number, cells by column, number of cells) for each non-blank row after the header.

    Raises PeopleFileError when the header is wrong. Cells (only the columns in COLUMNS) are
    None when the row's width does not match the header. Line numbers are those a spreadsheet
    shows: the header is line 1.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    columns = _header_columns(_csv_header(reader))
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise PeopleFileError(f"Line {line} cannot be read as CSV ({error}).") from error
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(columns):
            yield line, None, len(cells)
        else:
            yield (
                line,
                {
                    name: cell.strip()
                    for name, cell in zip(columns, cells, strict=True)
                    if name in COLUMNS
                },
                len(cells),
            )


def people_csv_check(*, text: str) -> None:
    """Raise PeopleFileError unless the header is right and there is at least one row."""
    for _row in people_csv_rows(text=text):
        return
    raise PeopleFileError("The file has a header but no people.")


def _parse_email(value: str, column: str, problems: list[str]) -> str | None:
    email = value.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        problems.append(f"{column} \u201c{value}\u201d is not a valid email address")
        return None
    if len(email) > _max_length("email"):
        problems.append(f"{column} is longer than {_max_length('email')} characters")
        return None
    return email


def _parse_date(value: str, column: str, problems: list[str]) -> date | None:
    if not value:
        return None
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).date()  # noqa: DTZ007 - a calendar date
        except ValueError:
            continue
    problems.append(f"{column} \u201c{value}\u201d is not a date ({DATE_FORMATS_SHOWN})")
    return None


def _parse_department(value: str, problems: list[str]) -> tuple[str, ...] | None:
    if not value:
        return None
    names = tuple(" ".join(part.split()) for part in value.split(">"))
    limit = Department._meta.get_field("name").max_length
    if not all(names):
        problems.append(
            f"department \u201c{value}\u201d has an empty part; write it like "
            "\u201cNeighbourhoods > Environmental Health\u201d"
        )
        return None
    if any(len(name) > limit for name in names):
        problems.append(f"a department name is longer than {limit} characters")
        return None
    return names


def _check_length(cells: dict[str, str], column: str, field_name: str, problems: list[str]):
    limit = _max_length(field_name)
    if len(cells[column]) > limit:
        problems.append(f"{column} is longer than {limit} characters")


def _parse_row(line: int, cells: dict[str, str]) -> tuple[PersonRow | None, list[str]]:
    """A row's own checks, without looking at other rows or the database."""
    problems: list[str] = []
    for column in ("email", "full_name", "person_type"):
        if not cells[column]:
            problems.append(f"{column} is required")
    email = _parse_email(cells["email"], "email", problems) if cells["email"] else None
    person_type = None
    if cells["person_type"]:
        person_type = PERSON_TYPES.get(cells["person_type"].lower())
        if person_type is None:
            problems.append(
                f"person_type \u201c{cells['person_type']}\u201d is not one of: "
                + ", ".join(PersonType.values)
            )
    if not cells["employee_number"] and person_type not in (None, PersonType.COUNCILLOR):
        problems.append("employee_number is required (only councillors may leave it blank)")
    service_area = ""
    if cells["service_area"]:
        service_area = SERVICE_AREAS.get(cells["service_area"].lower(), "")
        if not service_area:
            problems.append(
                f"service_area \u201c{cells['service_area']}\u201d is not one of: "
                + ", ".join(ServiceArea.values)
            )
    manager_email = None
    if cells["manager_email"]:
        manager_email = _parse_email(cells["manager_email"], "manager_email", problems)
        if manager_email and manager_email == email:
            problems.append("a person cannot be their own line manager")
    active_word = cells["active"].lower()
    if active_word and active_word not in TRUE_WORDS | FALSE_WORDS:
        problems.append(f"active \u201c{cells['active']}\u201d must be yes or no")
    department = _parse_department(cells["department"], problems)
    start_date = _parse_date(cells["start_date"], "start_date", problems)
    on_leave_until = _parse_date(cells["on_leave_until"], "on_leave_until", problems)
    _check_length(cells, "employee_number", "employee_number", problems)
    _check_length(cells, "full_name", "full_name", problems)
    _check_length(cells, "job_title", "job_title", problems)
    if problems:
        return None, problems
    return PersonRow(
        line=line,
        employee_number=cells["employee_number"] or None,
        email=email,
        full_name=" ".join(cells["full_name"].split()),
        person_type=person_type,
        department=department,
        service_area=service_area,
        job_title=cells["job_title"],
        manager_email=manager_email,
        start_date=start_date,
        on_leave_until=on_leave_until,
        active=active_word not in FALSE_WORDS,
    ), []


@dataclass
class _Existing:
    """The database's side of the comparison, loaded in a fixed number of queries."""

    by_employee_number: dict[str, User]
    by_email: dict[str, User]
    verified_email_owner: dict[str, int]
    manager_of: dict[int, int]
    privileged_roles: dict[int, list[str]]

    @classmethod
    def load(cls, rows: list[PersonRow]) -> _Existing:
        numbers = {row.employee_number for row in rows if row.employee_number}
        emails = {row.email for row in rows} | {row.manager_email for row in rows} - {None}
        users: dict[int, User] = {}
        for chunk in in_chunks(numbers):
            users.update((u.pk, u) for u in User.objects.filter(employee_number__in=chunk))
        for chunk in in_chunks(emails):
            users.update(
                (u.pk, u)
                for u in User.objects.annotate(email_lower=Lower("email")).filter(
                    email_lower__in=chunk
                )
            )
        owners = {}
        for chunk in in_chunks(emails):
            owners.update(
                EmailAddress.objects.filter(email__in=chunk, verified=True).values_list(
                    "email", "user_id"
                )
            )
        return cls(
            by_employee_number={u.employee_number: u for u in users.values() if u.employee_number},
            by_email={u.email.lower(): u for u in users.values()},
            verified_email_owner={email.lower(): pk for email, pk in owners.items()},
            manager_of=dict(
                User.objects.filter(line_manager__isnull=False).values_list("pk", "line_manager_id")
            ),
            privileged_roles=privileged_roles_by_user(),
        )


class _Checker:
    """Checks rows against each other and the database, adding reasons to `problems` by line."""

    def __init__(
        self,
        rows: list[PersonRow],
        existing: _Existing,
        problems: dict[int, list[str]],
        unreadable_lines_by_email: dict[str, int],
    ):
        self.rows = rows
        self.existing = existing
        self.problems = problems
        self.unreadable_lines_by_email = unreadable_lines_by_email
        self.manager_row: dict[int, PersonRow] = {}

    def bad(self, row: PersonRow, reason: str) -> None:
        self.problems[row.line].append(reason)

    def is_bad(self, row: PersonRow) -> bool:
        return bool(self.problems.get(row.line))

    def match_existing(self) -> None:
        """Find the person each row updates, and refuse emails or numbers someone else holds."""
        existing = self.existing
        for row in self.rows:
            holder = existing.by_email.get(row.email)
            if row.key[0] == "email":
                user = holder
            else:
                user = existing.by_employee_number.get(row.employee_number)
                if user is None and holder is not None and not holder.employee_number:
                    user = holder  # someone who signed up before HR's file knew them
            row.user = user
            if user is not None:
                row.privileged_roles = existing.privileged_roles.get(user.pk, [])
            owner = existing.verified_email_owner.get(row.email)
            if (holder and holder != user) or (owner and (user is None or owner != user.pk)):
                self.bad(row, f"email {row.email} is already used by a different person")
            numbered = existing.by_employee_number.get(row.employee_number)
            if row.employee_number and numbered is not None and numbered != user:
                self.bad(
                    row,
                    f"employee number {row.employee_number} is already used by a different person",
                )

    def refuse_privileged(self, departments: DepartmentIndex) -> None:
        """Refuse any row that would change an administrator's, staff member's or privileged
        role holder's account: those are managed in the admin, where changes are deliberate.

        A row that leaves such a person exactly as they are is accepted and writes nothing.
        """
        for row in self.rows:
            if not row.privileged_roles:
                continue
            action = _action(row, departments)
            if action == UNCHANGED:
                continue
            user = row.user
            if row.employee_number and row.employee_number == user.employee_number:
                matched = f"employee number {row.employee_number}"
            else:
                matched = f"email {user.email}"
            verb = "deactivate" if action == DEACTIVATE else "update"
            self.bad(
                row,
                f"{matched} belongs to a privileged account ({', '.join(row.privileged_roles)}), "
                f"so the HR file cannot {verb} it: change it in the admin, not through the HR file",
            )

    def resolve_managers(self) -> None:
        by_email: dict[str, PersonRow] = {}
        for row in self.rows:
            by_email.setdefault(row.email, row)
        for row in self.rows:
            if not row.manager_email:
                continue
            manager = by_email.get(row.manager_email)
            user = self.existing.by_email.get(row.manager_email)
            unreadable_line = self.unreadable_lines_by_email.get(row.manager_email)
            if manager is not None:
                self.manager_row[row.line] = manager
                row.manager = manager.ref
                manager_active = manager.active
            elif unreadable_line is not None:
                self.bad(
                    row,
                    f"manager {row.manager_email} is on line {unreadable_line}, which has errors",
                )
                continue
            elif user is not None:
                row.manager = ("user", user.pk)
                manager_active = user.is_active
            else:
                self.bad(
                    row,
                    f"unknown manager: {row.manager_email} is not in this file or already in Aware",
                )
                continue
            if row.active and not manager_active:
                self.bad(row, f"manager {row.manager_email} is marked inactive")

    def check_cycles(self) -> None:
        """Refuse any chain of line managers that comes back on itself, through the database too."""
        in_file = {row.ref: row for row in self.rows}

        def manager_of(ref: PersonRef) -> PersonRef | None:
            if ref in in_file:
                return in_file[ref].manager
            pk = self.existing.manager_of.get(ref[1]) if ref[0] == "user" else None
            return ("user", pk) if pk else None

        finished: set[PersonRef] = set()
        for start in in_file:
            chain: list[PersonRef] = []
            position: dict[PersonRef, int] = {}
            ref: PersonRef | None = start
            while ref is not None and ref not in finished and ref not in position:
                position[ref] = len(chain)
                chain.append(ref)
                ref = manager_of(ref)
            finished.update(chain)
            if ref is None or ref not in position:
                continue
            loop = chain[position[ref] :]
            rows = [in_file[r] for r in loop if r in in_file]
            outside = len(loop) - len(rows)
            described = " \u2192 ".join(row.email for row in rows)
            if outside:
                described += f", through {outside} person(s) already in Aware"
            lines = ", ".join(str(row.line) for row in rows)
            for row in rows:
                self.bad(
                    row, f"manager cycle: line managers form a loop ({described}; lines {lines})"
                )

    def propagate(self) -> None:
        """A row whose manager's row is bad cannot be imported either."""
        changed = True
        while changed:
            changed = False
            for row in self.rows:
                manager = self.manager_row.get(row.line)
                if manager is not None and not self.is_bad(row) and self.is_bad(manager):
                    self.bad(
                        row,
                        f"manager {row.manager_email} is on line {manager.line}, which has errors",
                    )
                    changed = True


def _check_duplicates(cells_by_line: dict[int, dict[str, str]], problems) -> None:
    """The same email or employee number twice makes every one of those rows bad."""
    for column, label in (("email", "email"), ("employee_number", "employee number")):
        lines: dict[str, list[int]] = defaultdict(list)
        for line, cells in cells_by_line.items():
            value = cells[column].lower() if column == "email" else cells[column]
            if value:
                lines[value].append(line)
        for value, found in lines.items():
            for line in found if len(found) > 1 else ():
                others = ", ".join(str(n) for n in found if n != line)
                problems[line].append(f"duplicate {label} {value}: also on line {others}")


def person_fields(row: PersonRow, department_pk: int | None) -> dict[str, object]:
    fields = {
        "email": row.email,
        "full_name": row.full_name,
        "person_type": row.person_type,
        "department_id": department_pk,
        "service_area": row.service_area,
        "job_title": row.job_title,
        "start_date": row.start_date,
        "on_leave_until": row.on_leave_until,
    }
    if row.employee_number:  # a councillor's blank number keeps the one on record
        fields["employee_number"] = row.employee_number
    return fields


def row_changes(row: PersonRow, department_pk: int | None) -> dict[str, object]:
    """The fields an existing person's row changes (email compared without case)."""
    user = row.user
    changes = {}
    for name, value in person_fields(row, department_pk).items():
        current = getattr(user, name)
        if name == "email" and current.lower() == value:
            continue
        if current != value:
            changes[name] = value
    return changes


def _action(row: PersonRow, departments: DepartmentIndex) -> str:
    user = row.user
    if user is None:
        return CREATE
    if user.is_active and not row.active:
        return DEACTIVATE
    department_pk = departments.pk_for(row.department)
    new_department = row.department is not None and department_pk is None
    manager_pk = row.manager[1] if row.manager and row.manager[0] == "user" else None
    manager_changed = (row.manager is not None and row.manager[0] == "new") or (
        user.line_manager_id != manager_pk
    )
    if (
        new_department
        or manager_changed
        or row.active != user.is_active
        or row_changes(row, department_pk)
    ):
        return UPDATE
    return UNCHANGED


def people_import_plan(*, text: str) -> ImportPlan:
    """Check a whole people file and say what importing it would do. Reads only.

    Raises PeopleFileError when the file cannot be read at all. Every bad row is in
    `plan.errors` with its line number and reason; rows that depend on a bad row (their line
    manager's row is bad) are bad too.
    """
    problems: dict[int, list[str]] = defaultdict(list)
    cells_by_line: dict[int, dict[str, str]] = {}
    ignored = people_csv_ignored_columns(text=text)
    header_width = len(COLUMNS) + len(ignored)
    for line, cells, width in people_csv_rows(text=text):
        if cells is None:
            problems[line].append(f"has {width} values but the header has {header_width} columns")
        else:
            cells_by_line[line] = cells
    lines_read = len(cells_by_line) + len(problems)
    if not lines_read:
        raise PeopleFileError("The file has a header but no people.")

    rows: list[PersonRow] = []
    unreadable_lines_by_email: dict[str, int] = {}
    for line, cells in cells_by_line.items():
        row, row_problems = _parse_row(line, cells)
        if row is None:
            problems[line].extend(row_problems)
            unreadable_lines_by_email.setdefault(cells["email"].lower(), line)
        else:
            rows.append(row)
    _check_duplicates(cells_by_line, problems)

    checker = _Checker(rows, _Existing.load(rows), problems, unreadable_lines_by_email)
    departments = DepartmentIndex.load()
    checker.match_existing()
    checker.resolve_managers()
    checker.check_cycles()
    checker.refuse_privileged(departments)
    checker.propagate()

    valid = [row for row in rows if not checker.is_bad(row)]
    for row in valid:
        row.action = _action(row, departments)
    errors = [RowError(line, reason) for line in sorted(problems) for reason in problems[line]]
    return ImportPlan(
        rows=valid,
        errors=errors,
        lines_read=lines_read,
        departments=departments,
        ignored_columns=ignored,
    )
