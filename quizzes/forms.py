"""The answer form for one attempt, built from its snapshot; it never carries the right answers."""

from django import forms

from quizzes.models import AttemptQuestion, QuestionKind

FIELD_PREFIX = "answer-"
TAMPERED = "tampered"


class AttemptForm(forms.Form):
    """One radio or checkbox group per served question, named "answer-<question id>".

    A choice's value is its place in the attempt's (shuffled) order, 1, 2, 3…, never its
    database id: ids follow the order an editor typed the choices in, which often puts the
    right answer first. `submit` requires every question answered; saving for later does not.
    """

    def __init__(self, *args, items: list[AttemptQuestion], submit: bool = True, **kwargs):
        kwargs.setdefault("auto_id", "%s")
        super().__init__(*args, **kwargs)
        self.items = items
        for item in items:
            multiple = item.snapshot["kind"] == QuestionKind.MULTIPLE
            field_class = forms.TypedMultipleChoiceField if multiple else forms.TypedChoiceField
            places = {c["id"]: n for n, c in enumerate(item.snapshot["choices"], start=1)}
            saved = [places[i] for i in item.selected if i in places]
            field = field_class(
                coerce=int,
                required=submit,
                choices=[(n, c["text"]) for n, c in enumerate(item.snapshot["choices"], start=1)],
                label=item.snapshot["text"],
                initial=saved if multiple else next(iter(saved), None),
                error_messages={
                    "required": f"Question {item.position}: "
                    + ("select at least one answer" if multiple else "select an answer"),
                    "invalid_choice": f"Question {item.position}: that answer is not one of its "
                    "choices. Nothing was recorded; please choose again.",
                    "invalid_list": f"Question {item.position}: choose from its answers.",
                },
            )
            field.item = item
            field.multiple = multiple
            self.fields[f"{FIELD_PREFIX}{item.question_id}"] = field

    def clean(self):
        cleaned = super().clean()
        sent = {key for key in self.data if key.startswith(FIELD_PREFIX)}
        if sent - set(self.fields):
            raise forms.ValidationError(
                "The answers sent include a question that is not in this attempt. Nothing was "
                "recorded; please answer the questions below.",
                code=TAMPERED,
            )
        for name, field in self.fields.items():
            if not field.multiple and len(self.data.getlist(name)) > 1:
                self.add_error(name, f"Question {field.item.position}: choose only one answer.")
        return cleaned

    @property
    def tampered(self) -> bool:
        """Errors a person using the page as shown cannot cause (forged or stale forms)."""
        codes = {e.code for errors in self.errors.as_data().values() for e in errors}
        return bool(codes - {"required"})

    def answers(self) -> dict[int, list[int]]:
        """Question id -> the chosen choices' ids, for the services."""
        result = {}
        for name, field in self.fields.items():
            value = self.cleaned_data.get(name)
            if value in (None, "", []):
                continue
            places = value if field.multiple else [value]
            choices = field.item.snapshot["choices"]
            result[field.item.question_id] = [choices[n - 1]["id"] for n in places]
        return result

    def questions(self):
        """What the template shows for each question: no sign of which choice is right."""
        for name, field in self.fields.items():
            bound = self[name]
            value = bound.value()
            chosen = {str(v) for v in value or []} if field.multiple else {str(value)}
            scenario = field.item.snapshot["scenario"]
            errors = [
                (f"{bound.auto_id}-error-{n}", error) for n, error in enumerate(bound.errors, 1)
            ]
            described_by = [
                *([f"{bound.auto_id}-scenario"] if scenario else []),
                *([f"{bound.auto_id}-hint"] if field.multiple else []),
                *(error_id for error_id, _ in errors),
            ]
            yield {
                "field": bound,
                "errors": errors,
                "described_by": " ".join(described_by),
                "position": field.item.position,
                "kind": field.item.snapshot["kind"],
                "scenario": scenario,
                "text": field.item.snapshot["text"],
                "multiple": field.multiple,
                "choices": [
                    {"value": value_id, "text": text, "checked": str(value_id) in chosen}
                    for value_id, text in field.choices
                ],
            }
