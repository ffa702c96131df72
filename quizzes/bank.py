"""The question bank as rows: reading and writing CSV and JSON, and checking each row.

A row is a dict shaped like the starter YAML (training/content/README.md, "Question banks"), with
module and lesson given by their page slugs and an optional id for updating an existing question.
"""

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field

from accounts.models import ServiceArea
from cms.uploads import CsvFileError, csv_text_decode
from quizzes.models import QuestionKind, choice_rule_errors

MAX_CHOICES = 8
CSV_COLUMNS = [
    "id",
    "module",
    "kind",
    "scenario",
    "text",
    "explanation",
    "tags",
    "service_areas",
    "lesson",
    "outcome",
    "retired",
]
CHOICE_COLUMNS = ["text", "correct", "feedback"]
TRUE_WORDS = {"yes", "y", "true", "1"}
FALSE_WORDS = {"no", "n", "false", "0", ""}


class BankFileError(Exception):
    """The file as a whole cannot be read (not CSV or JSON, missing columns)."""


@dataclass
class RowError:
    row: str  # "line 4" for CSV, "question 3" for JSON
    messages: list[str]

    def __str__(self) -> str:
        return f"{self.row.capitalize()}: {' '.join(self.messages)}"


@dataclass
class CleanRow:
    label: str
    id: int | None
    module_id: int
    kind: str
    scenario: str
    text: str
    explanation: str
    tags: list[str]
    service_areas: list[str]
    lesson_id: int | None
    outcome: int | None
    retired: bool
    choices: list[dict] = field(default_factory=list)


def _flag(value, *, what: str, errors: list[str]) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value if value is not None else "").strip().lower()
    if word in TRUE_WORDS:
        return True
    if word not in FALSE_WORDS:
        errors.append(f"{what} must be yes or no, not “{value}”.")
    return False


def _words(value) -> list[str]:
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part.strip() for part in str(value or "").split(";") if part.strip()]


def row_clean(
    row: dict,
    *,
    label: str,
    modules: dict[str, int],
    lessons: dict[tuple[int, str], int],
    question_ids: set[int],
    outcomes: dict[int, int],
) -> CleanRow | RowError:
    """Check one row against the bank's rules; return it cleaned, or every problem it has."""
    errors: list[str] = []
    question_id = None
    raw_id = str(row.get("id") or "").strip()
    if raw_id:
        if not raw_id.isdigit():
            errors.append(f"The id “{raw_id}” is not a number.")
        elif int(raw_id) not in question_ids:
            errors.append(f"There is no question with id {raw_id}; leave id empty to add one.")
        else:
            question_id = int(raw_id)
    module_slug = str(row.get("module") or "").strip()
    module_id = modules.get(module_slug)
    if module_id is None:
        errors.append(f"There is no module “{module_slug}”." if module_slug else "No module.")
    kind = str(row.get("kind") or "").strip()
    if kind not in QuestionKind.values:
        errors.append(f"The kind “{kind}” is not one of {', '.join(QuestionKind.values)}.")
    text = str(row.get("text") or "").strip()
    if not text:
        errors.append("The question text is empty.")
    explanation = str(row.get("explanation") or "").strip()
    if not explanation:
        errors.append("The explanation is empty.")
    areas = _words(row.get("service_areas"))
    unknown = [a for a in areas if a not in ServiceArea.values]
    if unknown:
        errors.append(f"Unknown service areas: {', '.join(unknown)}.")
    lesson_slug = str(row.get("lesson") or "").strip()
    lesson_id = None
    if lesson_slug and module_id is not None:
        lesson_id = lessons.get((module_id, lesson_slug))
        if lesson_id is None:
            errors.append(f"The module has no lesson “{lesson_slug}”.")
    outcome = None
    raw_outcome = str(row.get("outcome") if row.get("outcome") is not None else "").strip()
    if raw_outcome:
        if not raw_outcome.isdigit() or int(raw_outcome) < 1:
            errors.append(f"The outcome “{raw_outcome}” is not a learning outcome's number.")
        elif module_id is not None and int(raw_outcome) > outcomes.get(module_id, 0):
            errors.append(
                f"The module has {outcomes.get(module_id, 0)} learning outcome(s), so there is "
                f"no outcome {raw_outcome}."
            )
        else:
            outcome = int(raw_outcome)
    retired = _flag(row.get("retired"), what="Retired", errors=errors)
    choices = []
    raw_choices = row.get("choices") or []
    if not isinstance(raw_choices, list):
        raw_choices = []
        errors.append("Choices must be a list.")
    for number, choice in enumerate(raw_choices, start=1):
        choice = choice if isinstance(choice, dict) else {}
        choice_text = str(choice.get("text") or "").strip()
        feedback = str(choice.get("feedback") or "").strip()
        if not choice_text:
            if feedback or str(choice.get("correct") or "").strip().lower() in TRUE_WORDS:
                errors.append(f"Choice {number} has no text.")
            continue
        if len(choice_text) > 500:
            errors.append(f"Choice {number} is longer than 500 characters.")
        correct = _flag(choice.get("correct"), what=f"Choice {number} correct", errors=errors)
        choices.append({"text": choice_text, "correct": correct, "feedback": feedback})
    scenario = str(row.get("scenario") or "").strip()
    if kind in QuestionKind.values:
        errors += choice_rule_errors(
            kind=kind, scenario=scenario, correct_flags=[c["correct"] for c in choices]
        )
    if errors:
        return RowError(row=label, messages=errors)
    return CleanRow(
        label=label,
        id=question_id,
        module_id=module_id,
        kind=kind,
        scenario=scenario,
        text=text,
        explanation=explanation,
        tags=_words(row.get("tags")),
        service_areas=areas,
        lesson_id=lesson_id,
        outcome=outcome,
        retired=retired,
        choices=choices,
    )


def rows_from_file(*, content: bytes | str, filename: str) -> list[tuple[str, dict]]:
    """Labelled rows from a CSV or JSON file (chosen by its name). Raises BankFileError, also for
    a NUL character anywhere (which PostgreSQL cannot store), so the preview refuses it."""
    if isinstance(content, bytes):
        try:
            content = csv_text_decode(data=content)
        except CsvFileError as exc:
            raise BankFileError(str(exc)) from exc
    if filename.lower().endswith(".json"):
        rows = _rows_from_json(content)
    elif filename.lower().endswith(".csv"):
        rows = _rows_from_csv(content)
    else:
        raise BankFileError("Upload a .csv or .json file.")
    for label, row in rows:
        if _holds_nul(row):
            raise BankFileError(
                f"{label.capitalize()} holds a NUL character (\\u0000), which is not text. "
                "Remove it and upload the file again."
            )
    return rows


def _holds_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


def _rows_from_json(content: str) -> list[tuple[str, dict]]:
    try:
        data = json.loads(content)
    except json.JSONDecodeError as exc:
        raise BankFileError(f"The file is not valid JSON: {exc.msg} (line {exc.lineno}).") from exc
    if isinstance(data, dict):
        data = data.get("questions")
    if not isinstance(data, list):
        raise BankFileError('The JSON must be a list of questions, or {"questions": [...]}.')
    return [
        (f"question {n}", item if isinstance(item, dict) else {})
        for n, item in enumerate(data, start=1)
    ]


def _rows_from_csv(content: str) -> list[tuple[str, dict]]:
    reader = csv.DictReader(io.StringIO(content))
    missing = {"module", "kind", "text", "explanation"} - set(reader.fieldnames or [])
    if missing:
        raise BankFileError(f"The CSV has no column for: {', '.join(sorted(missing))}.")
    rows = []
    for record in reader:
        row = {key: record.get(key) or "" for key in CSV_COLUMNS}
        row["choices"] = [
            {key: record.get(f"choice_{n}_{key}") or "" for key in CHOICE_COLUMNS}
            for n in range(1, MAX_CHOICES + 1)
        ]
        rows.append((f"line {reader.line_num}", row))
    return rows


def rows_to_csv(rows: list[dict]) -> str:
    width = max((len(r["choices"]) for r in rows), default=2)
    header = CSV_COLUMNS + [
        f"choice_{n}_{key}" for n in range(1, width + 1) for key in CHOICE_COLUMNS
    ]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        cells = [
            row["id"],
            row["module"],
            row["kind"],
            row["scenario"],
            row["text"],
            row["explanation"],
            "; ".join(row["tags"]),
            "; ".join(row["service_areas"]),
            row["lesson"],
            row["outcome"] or "",
            "yes" if row["retired"] else "no",
        ]
        for choice in row["choices"]:
            cells += [choice["text"], "yes" if choice["correct"] else "no", choice["feedback"]]
        writer.writerow(cells)
    return out.getvalue()


def rows_to_json(rows: list[dict]) -> str:
    return json.dumps({"questions": rows}, indent=2, ensure_ascii=False)


def row_fingerprint(row: dict) -> str:
    """A hash of what a question says, for telling a loaded starter question no editor has
    changed (its fingerprint still matches the one recorded when it was loaded).

    `row` is shaped like an exported row (lesson by slug); ids, module and retired are left out.
    """
    canonical = {
        "kind": str(row.get("kind") or "").strip(),
        "scenario": str(row.get("scenario") or "").strip(),
        "text": str(row.get("text") or "").strip(),
        "explanation": str(row.get("explanation") or "").strip(),
        "tags": sorted(_words(row.get("tags"))),
        "service_areas": sorted(_words(row.get("service_areas"))),
        "lesson": str(row.get("lesson") or "").strip(),
        "outcome": int(row["outcome"]) if row.get("outcome") else None,
        "choices": [
            [
                str(c.get("text") or "").strip(),
                bool(c.get("correct")),
                str(c.get("feedback") or "").strip(),
            ]
            for c in row.get("choices") or []
        ],
    }
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()
