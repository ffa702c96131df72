"""Historic completions from a previous LMS: the whole file is checked before any write, and
rows already on record are told apart from new ones."""

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from accounts.models import User
from cms.uploads import CsvFileError
from training.models import CompletionImport, ModuleCompletion, ModulePage

COLUMNS = ["email", "module", "module_version", "completed_on", "score", "expires_on"]
# Emails or people per query: well inside SQLite's limit on parameters.
QUERY_CHUNK = 2000


class CompletionFileError(CsvFileError):
    """The completions file as a whole cannot be read (header, no rows, not CSV)."""


@dataclass
class HistoricRow:
    line: int
    user: User
    module: ModulePage
    module_version: int
    completed_at: datetime
    score: int
    expires_at: datetime | None


@dataclass
class HistoricPlan:
    rows: list[HistoricRow] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    # Lines of `rows` already on record; set by historic_rows_recorded_mark.
    recorded_lines: set[int] = field(default_factory=set)

    @property
    def new_rows(self) -> list[HistoricRow]:
        return [row for row in self.rows if row.line not in self.recorded_lines]

    def summary(self) -> dict[str, int]:
        """What importing would do: the counts a preview shows and a confirmation expects."""
        return {
            "to_import": len(self.rows) - len(self.recorded_lines),
            "already_recorded": len(self.recorded_lines),
            "errors": len(self.errors),
        }


def _rows(text: str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """The header's column names (trimmed, lower case) and each data row with its line."""
    try:
        reader = csv.reader(io.StringIO(text))
        header = [name.strip().lower() for name in next(reader, [])]
        rows = [
            (line, dict(zip(header, cells, strict=False)))
            for line, cells in enumerate(reader, start=2)
            if any(cell.strip() for cell in cells)
        ]
    except csv.Error as error:
        raise CompletionFileError(f"The file is not a readable CSV file ({error}).") from error
    return header, rows


def completions_csv_check(*, text: str) -> None:
    """Raise CompletionFileError unless the header names the columns and there is a row."""
    header, rows = _rows(text)
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        raise CompletionFileError(
            f"The first line must name the columns {', '.join(COLUMNS)}; "
            f"missing column(s): {', '.join(missing)}."
        )
    if not rows:
        raise CompletionFileError("The file has a header but no completions.")


def _date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} “{value}” is not a date like 2024-03-31") from None


def _people_by_email(emails: set[str]) -> dict[str, User]:
    people = {}
    ordered = sorted(emails)
    for start in range(0, len(ordered), QUERY_CHUNK):
        chunk = ordered[start : start + QUERY_CHUNK]
        people.update({u.email.lower(): u for u in User.objects.filter(email__in=chunk)})
    return people


def historic_completions_plan(*, text: str) -> HistoricPlan:
    """Parse and check every row; a query per 2,000 people and one for the modules. Does not
    say which rows are already on record (historic_rows_recorded_mark does)."""
    plan = HistoricPlan()
    try:
        header, raw = _rows(text)
    except CompletionFileError as error:
        plan.errors.append((1, str(error)))
        return plan
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        plan.errors.append((1, f"missing column(s): {', '.join(missing)}"))
        return plan
    cells = [(line, {c: (row.get(c) or "").strip() for c in COLUMNS}) for line, row in raw]
    people = _people_by_email({row["email"].lower() for _, row in cells})
    modules = {m.slug: m for m in ModulePage.objects.all()}
    seen: set[tuple[str, str, str]] = set()
    tz = timezone.get_current_timezone()
    for line, row in cells:
        try:
            email = row["email"].lower()
            try:
                validate_email(email)
            except ValidationError:
                raise ValueError(f"email “{row['email']}” is not a valid address") from None
            user = people.get(email)
            if user is None:
                raise ValueError(f"nobody with email {email}: import people first")
            module = modules.get(row["module"])
            if module is None:
                raise ValueError(f"no module “{row['module']}”")
            version = int(row["module_version"] or 0)
            if not 1 <= version <= module.version:
                raise ValueError(f"module version must be 1 to {module.version}")
            completed = _date(row["completed_on"], "completed_on")
            if completed > timezone.localdate():
                raise ValueError("completed_on is in the future")
            score = int(row["score"])
            if not 0 <= score <= 100:
                raise ValueError("score must be 0 to 100")
            expires_on = _date(row["expires_on"], "expires_on") if row["expires_on"] else None
            if expires_on and expires_on <= completed:
                raise ValueError("expires_on must be after completed_on")
            key = (email, module.slug, row["completed_on"])
            if key in seen:
                raise ValueError("the same completion appears twice in the file")
            seen.add(key)
        except ValueError as exc:
            plan.errors.append(
                (
                    line,
                    str(exc).replace(
                        "invalid literal for int() with base 10", "not a whole number"
                    ),
                )
            )
            continue
        plan.rows.append(
            HistoricRow(
                line=line,
                user=user,
                module=module,
                module_version=version,
                completed_at=datetime.combine(completed, time(12), tzinfo=tz),
                score=score,
                expires_at=datetime.combine(expires_on, time(12), tzinfo=tz)
                if expires_on
                else None,
            )
        )
    return plan


def historic_rows_recorded_mark(*, plan: HistoricPlan) -> None:
    """Set `plan.recorded_lines`: the rows whose completion is on record already, imported
    before (same person, module, version and completion date, source "import"). A query per
    2,000 people. To be sure before writing, call it under the completion chain's lock."""
    keys: set[tuple[int, int, int, date]] = set()
    user_ids = sorted({row.user.pk for row in plan.rows})
    module_ids = {row.module.pk for row in plan.rows}
    for start in range(0, len(user_ids), QUERY_CHUNK):
        recorded = ModuleCompletion.objects.filter(
            source="import",
            user_id__in=user_ids[start : start + QUERY_CHUNK],
            module_id__in=module_ids,
        ).values_list("user_id", "module_id", "module_version", "completed_at")
        keys.update(
            (user_id, module_id, version, timezone.localdate(completed_at))
            for user_id, module_id, version, completed_at in recorded
        )
    plan.recorded_lines = {
        row.line
        for row in plan.rows
        if (
            row.user.pk,
            row.module.pk,
            row.module_version,
            timezone.localdate(row.completed_at),
        )
        in keys
    }


def completion_import_open(*, token: str, user: User, now: datetime) -> CompletionImport | None:
    """The user's own uploaded completions file, if it can still be previewed and confirmed."""
    upload = CompletionImport.objects.filter(token=token, imported_by=user).first()
    return upload if upload is not None and upload.is_open(now) else None
