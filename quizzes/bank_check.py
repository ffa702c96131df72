"""The question-writing standard as a check: surface cues and coverage, on any bank.

Pure rules over plain values (no database), so the same check runs on the shipped YAML banks in
tests and on an editor's own bank in the admin (Quizzes → Bank check) or from
`manage.py check_question_banks`. README "Writing questions" explains each rule to editors.

A cue is anything that lets someone who never read the lessons pick the right option by how the
options look: it is longer or shorter than the rest, it alone avoids an absolute word ("only",
"never") or alone hedges ("may"), it repeats the question's words, it alone uses the vocabulary
of the safe action ("report", "refer"), it alone names a particular team, route or number, or
it sits in the same position again and again.
"""

import re
from collections import Counter
from dataclasses import dataclass
from statistics import mean

# Options whose length differs from the others' average by more than this share (and by more
# than LENGTH_SLACK characters) stand out.
LENGTH_TOLERANCE = 0.25
LENGTH_SLACK = 12
# Across a bank, the right option may be the longest (or the shortest) of a question's options
# in at most this share of questions with one right answer: blind chance is 1 in 4 or less.
EXTREME_SHARE = 0.35
# Across a bank, at most this share of right answers may sit in any one position.
POSITION_SHARE = 0.40
MIN_PER_OUTCOME = 3
DRAW_MULTIPLE = 2

ABSOLUTES = {
    "only",
    "always",
    "never",
    "all",
    "none",
    "every",
    "nothing",
    "nobody",
    "everyone",
    "must",
    "definitely",
    "completely",
    "entirely",
    "certainly",
    "guaranteed",
}
HEDGES = {"may", "might", "could", "usually", "possibly", "probably", "perhaps", "likely", "often"}
# The words of the safe action: when only the right options use them, they give it away.
ACTION_WORDS = {
    "report",
    "reports",
    "reported",
    "reporting",
    "refer",
    "referral",
    "record",
    "notes",
    "safeguarding",
    "specialist",
    "specialists",
    "policy",
    "procedure",
}
GIVEAWAYS = re.compile(r"\b(all|none|both|neither) of the (above|these|options)\b", re.I)
STOPWORDS = {
    "the",
    "and",
    "that",
    "this",
    "with",
    "from",
    "have",
    "what",
    "which",
    "should",
    "would",
    "they",
    "them",
    "their",
    "your",
    "you",
    "for",
    "are",
    "was",
    "were",
    "been",
    "into",
    "about",
    "there",
    "here",
    "when",
    "then",
    "than",
    "will",
    "does",
    "doing",
    "most",
    "best",
}

SINGLE_ANSWER = {"single", "scenario"}


@dataclass(frozen=True)
class CheckChoice:
    text: str
    correct: bool


@dataclass(frozen=True)
class CheckQuestion:
    """One question as the check sees it. `label` names it in findings (an id or a YAML key)."""

    label: str
    kind: str
    text: str
    choices: tuple[CheckChoice, ...]
    scenario: str = ""
    outcome: int | None = None
    lesson: str = ""
    feedback_missing: bool = False


@dataclass(frozen=True)
class Finding:
    rule: str
    message: str
    question: str = ""  # the question's label; empty for a finding about the whole bank

    def __str__(self) -> str:
        return f"{self.question}: {self.message}" if self.question else self.message


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower().replace("\u2019", "'"))


def content_words(text: str) -> set[str]:
    """Words that carry meaning, crudely stemmed, for measuring how much two texts share."""
    return {w[:6] for w in words(text) if len(w) >= 4 and w not in STOPWORDS}


def named_things(text: str) -> int:
    """How many words after the first name something particular: a team, route or number."""
    return sum(1 for w in text.split()[1:] if w[:1].isupper() or any(ch.isdigit() for ch in w))


def _length_apart(one: float, others: float) -> bool:
    return abs(one - others) > max(LENGTH_SLACK, LENGTH_TOLERANCE * others)


def question_findings(question: CheckQuestion) -> list[Finding]:
    """The cues and defects in one question."""
    found: list[Finding] = []

    def flag(rule: str, message: str) -> None:
        found.append(Finding(rule=rule, message=message, question=question.label))

    right = [c for c in question.choices if c.correct]
    wrong = [c for c in question.choices if not c.correct]
    texts = [c.text.strip().lower() for c in question.choices]
    if len(set(texts)) < len(texts):
        flag("duplicate", "Two choices have the same text.")
    if any(GIVEAWAYS.search(c.text) for c in question.choices):
        flag("giveaway", 'A choice says "all of the above" or the like: write each option out.')
    if question.feedback_missing:
        flag("feedback", "A choice has no feedback: say why it is right or what it risks.")
    if question.kind == "multiple" and len(wrong) < 2:
        flag("multiple", "A select-all question needs at least two plausible wrong options.")
    if question.kind in SINGLE_ANSWER and len(question.choices) < 3:
        flag("choices", "Give at least three options (four is best): two can be guessed.")
    if question.kind == "true_false" or not right or not wrong:
        return found

    right_length = mean(len(c.text) for c in right)
    wrong_length = mean(len(c.text) for c in wrong)
    if _length_apart(right_length, wrong_length):
        longer = "longer" if right_length > wrong_length else "shorter"
        flag(
            "length",
            f"The right answer is {longer} than the others ({round(right_length)} characters "
            f"against {round(wrong_length)} on average): make the options the same length.",
        )
    for rule, vocabulary, what, both_ways in (
        ("absolute", ABSOLUTES, "absolute words (only, always, never…)", True),
        ("hedge", HEDGES, "hedging words (may, might, usually…)", True),
        ("wording", ACTION_WORDS, "the words of the safe action (report, refer, record…)", False),
    ):
        in_right = any(vocabulary & set(words(c.text)) for c in right)
        in_wrong = any(vocabulary & set(words(c.text)) for c in wrong)
        if in_right != in_wrong and (both_ways or in_right):
            side = "right" if in_right else "wrong"
            flag(
                rule,
                f"Only the {side} options use {what}: use them on both sides, or on neither.",
            )
    if max(named_things(c.text) for c in right) > max(named_things(c.text) for c in wrong):
        flag(
            "specific",
            "Only the right answer names a particular team, route or number: name one in the "
            "wrong options too (the wrong team, the wrong number).",
        )
    stem = content_words(f"{question.scenario} {question.text}")
    shared_right = mean(len(stem & content_words(c.text)) for c in right)
    shared_wrong = max(len(stem & content_words(c.text)) for c in wrong)
    if shared_right >= shared_wrong + 2:
        flag(
            "echo",
            "The right answer repeats the question's words more than any wrong option does.",
        )
    return found


def bank_findings(
    questions: list[CheckQuestion],
    *,
    outcomes: int,
    lessons: list[str],
    draw: int,
) -> list[Finding]:
    """Every question's cues, then the bank as a whole: its size, coverage and patterns.

    `outcomes` is how many learning outcomes the module has (questions name one by number,
    from 1); `lessons` the module's lesson identifiers; `draw` how many questions an attempt
    draws.
    """
    found = [f for q in questions for f in question_findings(q)]
    if len(questions) < DRAW_MULTIPLE * draw:
        found.append(
            Finding(
                "size",
                f"The bank has {len(questions)} question(s) for a draw of {draw}: write at "
                f"least {DRAW_MULTIPLE * draw}, so that a retake is a new test.",
            )
        )
    per_outcome = Counter(q.outcome for q in questions)
    for q in questions:
        if q.outcome is None or not 1 <= q.outcome <= outcomes:
            found.append(
                Finding("outcome", "Say which learning outcome it tests.", question=q.label)
            )
    for number in range(1, outcomes + 1):
        if per_outcome[number] < MIN_PER_OUTCOME:
            found.append(
                Finding(
                    "coverage",
                    f"Learning outcome {number} has {per_outcome[number]} question(s): write "
                    f"at least {MIN_PER_OUTCOME}.",
                )
            )
    asked = {q.lesson for q in questions}
    for lesson in lessons:
        if lesson not in asked:
            found.append(Finding("coverage", f"No question sends learners back to {lesson}."))

    single = _single_answer(questions)
    if len(single) >= 8:
        for rule, pick, word in (("longest", max, "longest"), ("shortest", min, "shortest")):
            share = _share(single, lambda q, pick=pick: _right_is(pick, q))
            if share > EXTREME_SHARE:
                found.append(
                    Finding(
                        rule,
                        f"The right answer is the {word} option in {share:.0%} of questions: "
                        f"keep it under {EXTREME_SHARE:.0%} (chance is about 25%).",
                    )
                )
        positions = Counter(
            next(i for i, c in enumerate(q.choices) if c.correct) + 1 for q in single
        )
        position, count = positions.most_common(1)[0]
        if count / len(single) > POSITION_SHARE:
            found.append(
                Finding(
                    "position",
                    f"The right answer is option {position} in {count} of {len(single)} "
                    "questions: spread it across the positions.",
                )
            )
    return found


def _share(questions: list[CheckQuestion], test) -> float:
    return sum(1 for q in questions if test(q)) / len(questions)


def _single_answer(questions: list[CheckQuestion]) -> list[CheckQuestion]:
    """The questions with one right answer among three or more options."""
    return [
        q
        for q in questions
        if q.kind in SINGLE_ANSWER and sum(c.correct for c in q.choices) == 1 and len(q.choices) > 2
    ]


def _right_is(pick, question: CheckQuestion) -> bool:
    """Whether the right option is the longest (pick=max) or shortest (min) of the question's."""
    right = next(c for c in question.choices if c.correct)
    return len(right.text) == pick(len(c.text) for c in question.choices)


def bank_statistics(questions: list[CheckQuestion], *, outcomes: int) -> dict:
    """Figures for the closing note and the admin report: size, per outcome, longest share."""
    single = _single_answer(questions)
    per_outcome = Counter(q.outcome for q in questions)
    longest = sum(1 for q in single if _right_is(max, q))
    return {
        "questions": len(questions),
        "per_outcome": [per_outcome[n] for n in range(1, outcomes + 1)],
        "single_answer": len(single),
        "right_is_longest": longest,
        "multiple": sum(1 for q in questions if q.kind == "multiple"),
        "true_false": sum(1 for q in questions if q.kind == "true_false"),
    }
