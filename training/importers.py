"""Historic completions from a previous LMS: the whole file is checked before any write."""

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from accounts.models import User
from training.models import ModulePage

COLUMNS = ["email", "module", "module_version", "completed_on", "score", "expires_on"]


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


def _date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} “{value}” is not a date like 2024-03-31") from None


def historic_completions_plan(*, text: str) -> HistoricPlan:
    """Parse and check every row; two queries whatever the file's size."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    plan = HistoricPlan()
    if missing:
        plan.errors.append((1, f"missing column(s): {', '.join(missing)}"))
        return plan
    raw = list(reader)
    emails = {r["email"].strip().lower() for r in raw}
    people = {u.email.lower(): u for u in User.objects.filter(email__in=emails)}
    modules = {m.slug: m for m in ModulePage.objects.all()}
    seen: set[tuple[str, str, str]] = set()
    for line, row in enumerate(raw, start=2):
        try:
            email = row["email"].strip().lower()
            try:
                validate_email(email)
            except ValidationError:
                raise ValueError(f"email “{row['email']}” is not a valid address") from None
            user = people.get(email)
            if user is None:
                raise ValueError(f"nobody with email {email}: import people first")
            module = modules.get(row["module"].strip())
            if module is None:
                raise ValueError(f"no module “{row['module']}”")
            version = int(row["module_version"] or 0)
            if not 1 <= version <= module.version:
                raise ValueError(f"module version must be 1 to {module.version}")
            completed = _date(row["completed_on"].strip(), "completed_on")
            if completed > timezone.localdate():
                raise ValueError("completed_on is in the future")
            score = int(row["score"])
            if not 0 <= score <= 100:
                raise ValueError("score must be 0 to 100")
            expires = row["expires_on"].strip()
            expires_on = _date(expires, "expires_on") if expires else None
            if expires_on and expires_on <= completed:
                raise ValueError("expires_on must be after completed_on")
            key = (email, module.slug, row["completed_on"].strip())
            if key in seen:
                raise ValueError("the same completion appears twice in the file")
            seen.add(key)
        except (ValueError, KeyError) as exc:
            plan.errors.append(
                (
                    line,
                    str(exc).replace(
                        "invalid literal for int() with base 10", "not a whole number"
                    ),
                )
            )
            continue
        tz = timezone.get_current_timezone()
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
