"""The shipped question banks meet the question-writing standard (README, "Writing questions").

Three things are proved here: the check itself catches each cue it names (so a clean report
means something); every shipped bank passes it; and guessers that read no lesson and answer by
how the options look score no better than blind chance, pooled over all the banks.
"""

from statistics import mean

import pytest
from django.core.management import CommandError, call_command

from quizzes.bank_check import (
    ABSOLUTES,
    ACTION_WORDS,
    HEDGES,
    CheckChoice,
    CheckQuestion,
    bank_findings,
    content_words,
    named_things,
    question_findings,
    words,
)
from quizzes.management.commands.check_question_banks import shipped_banks
from tests.quizzes.conftest import quiz_for

BANKS = shipped_banks()


def question(*choices: tuple[str, bool], kind="single", text="What do you do next?", **fields):
    return CheckQuestion(
        label="q",
        kind=kind,
        text=text,
        choices=tuple(CheckChoice(t, c) for t, c in choices),
        outcome=fields.pop("outcome", 1),
        lesson=fields.pop("lesson", "a"),
        **fields,
    )


FAIR = question(
    ("Tell the counter-fraud team today", True),
    ("Ask the tenant who else lives there", False),
    ("Photograph the post in the hallway", False),
    ("Mention it to the landlord's agent", False),
)


# --- the check catches what it names --------------------------------------------------------


def test_a_fair_question_has_no_findings():
    assert question_findings(FAIR) == []


@pytest.mark.parametrize(
    ("choices", "rule"),
    [
        (
            [
                (
                    "Write down what you saw, leave safely and report it to the safeguarding team",
                    True,
                ),
                ("Ask the tenant", False),
                ("Knock on the door", False),
                ("Call the landlord", False),
            ],
            "length",
        ),
        (
            [
                ("Tell the counter-fraud team today", True),
                ("Only ask the tenant who lives there", False),
                ("Photograph the post in the hallway", False),
                ("Mention it to the landlord's agent", False),
            ],
            "absolute",
        ),
        (
            [
                ("It may be fraud: tell the team today", True),
                ("Ask the tenant who else lives there", False),
                ("Photograph the post in the hallway", False),
                ("Mention it to the landlord's agent", False),
            ],
            "hedge",
        ),
        (
            [
                ("Report it to the counter-fraud team", True),
                ("Ask the tenant who else lives there", False),
                ("Photograph the post in the hallway", False),
                ("Mention it to the landlord's agent", False),
            ],
            "wording",
        ),
        (
            [
                ("Tell the counter-fraud team today", True),
                ("Ask the tenant who else lives there", False),
                ("All of the above, in that order", False),
                ("Mention it to the landlord's agent", False),
            ],
            "giveaway",
        ),
    ],
)
def test_each_surface_cue_is_flagged(choices, rule):
    assert rule in {f.rule for f in question_findings(question(*choices))}


def test_echoing_the_question_is_flagged():
    echo = question(
        ("Refuse the hospitality offered by the bidder", True),
        ("Accept it and declare it later", False),
        ("Ask a colleague to go instead", False),
        ("Go but pay for your own meal", False),
        text="A bidder offers you hospitality. What do you do with the hospitality offered?",
    )
    assert "echo" in {f.rule for f in question_findings(echo)}


def test_a_select_all_question_needs_two_wrong_options():
    multiple = question(
        ("Many visitors at night", True),
        ("A new lock on the door", True),
        ("The tenant seems scared", True),
        ("A tidy front garden", False),
        kind="multiple",
    )
    assert "multiple" in {f.rule for f in question_findings(multiple)}


def test_a_bank_is_checked_for_size_coverage_and_patterns():
    longest_first = question(
        ("Tell the counter-fraud team today, please", True),
        ("Ask the tenant who else lives there", False),
        ("Photograph the post in the hallway", False),
        ("Mention it to the landlord's agent", False),
    )
    fair = question(*((c.text, c.correct) for c in FAIR.choices), outcome=2, lesson="b")
    bank = [longest_first] * 10 + [fair]

    rules = {f.rule for f in bank_findings(bank, outcomes=3, lessons=["a", "b", "c"], draw=10)}

    assert {"size", "coverage", "longest", "position"} <= rules


# --- every shipped bank passes ----------------------------------------------------------------


def test_there_is_a_bank_for_every_starter_module():
    assert len(BANKS) == 16


@pytest.mark.parametrize("bank", BANKS, ids=lambda b: b.name)
def test_the_shipped_bank_meets_the_standard(bank):
    findings = bank.findings()

    assert findings == [], "\n".join(f"[{f.rule}] {f}" for f in findings)
    # Twice the bank's own draw (its questions_to_draw, 10 unless it says).
    assert len(bank.questions) >= 2 * bank.draw
    assert all("#" in q.label and not q.label.rsplit("#", 1)[1].isdigit() for q in bank.questions)


def test_the_cli_check_passes_on_the_shipped_banks_and_fails_on_a_bank_with_cues(site):
    call_command("check_question_banks", "--shipped", stdout=open("/dev/null", "w"))  # noqa: SIM115

    from tests.factories import module_with_lessons

    module = module_with_lessons(1)
    quiz_for(module, questions=3)  # "Right 1.0" against "Wrong 1.1": too few, and no outcomes
    with pytest.raises(CommandError, match="finding"):
        call_command("check_question_banks", stdout=open("/dev/null", "w"))  # noqa: SIM115


# --- guessers who read no lesson ----------------------------------------------------------------


def _count(vocabulary: set[str], text: str) -> int:
    return sum(1 for w in words(text) if w in vocabulary)


def _cue_scores(q: CheckQuestion) -> dict[str, list[float]]:
    stem = content_words(f"{q.scenario} {q.text}")
    texts = [c.text for c in q.choices]
    scores = {
        "longest": [len(t) for t in texts],
        "shortest": [-len(t) for t in texts],
        "echo": [len(stem & content_words(t)) for t in texts],
        "no absolutes": [-_count(ABSOLUTES, t) for t in texts],
        "hedged": [_count(HEDGES, t) for t in texts],
        "safe-action words": [_count(ACTION_WORDS, t) for t in texts],
        "most words": [len(words(t)) for t in texts],
        "most specific": [named_things(t) for t in texts],
    }

    def z(values):
        spread = (max(values) - min(values)) or 1
        return [(v - mean(values)) / spread for v in values]

    scores["all cues together"] = [
        sum(parts)
        for parts in zip(
            *(
                z(scores[k])
                for k in ("longest", "echo", "no absolutes", "hedged", "safe-action words")
            ),
            strict=True,
        )
    ]
    return scores


def _credit(q: CheckQuestion, score: list[float]) -> float:
    """Expected marks for answering by `score` alone (ties split at random)."""
    right = {i for i, c in enumerate(q.choices) if c.correct}
    if q.kind == "multiple":
        average = mean(score)
        picked = {i for i, s in enumerate(score) if s > average}
        return 1.0 if picked == right else 0.0
    top = max(score)
    ties = [i for i, s in enumerate(score) if s == top]
    return sum(1 for i in ties if i in right) / len(ties)


def _blind(q: CheckQuestion) -> float:
    if q.kind == "multiple":
        return 1 / (2 ** len(q.choices) - 1)
    return 1 / len(q.choices)


def _true_false_guesses(q: CheckQuestion) -> dict[str, float]:
    """The folk tricks for true or false: always one answer, or "an absolute makes it false"."""
    truth = next(c.text.lower() == "true" for c in q.choices if c.correct)
    says_false = bool(ABSOLUTES & set(words(q.text)))
    return {
        "always true": float(truth),
        "always false": float(not truth),
        "absolutes mean false": float(truth != says_false),
    }


def guesser_scores() -> dict[str, tuple[float, float, dict[str, float]]]:
    """Each guesser's pooled expected score, blind chance pooled, and its score per bank."""
    results: dict[str, tuple[list[float], list[float], dict[str, list[float]]]] = {}
    for bank in BANKS:
        for q in bank.questions:
            if q.kind == "true_false":
                per_guesser = _true_false_guesses(q)
            else:
                per_guesser = {name: _credit(q, s) for name, s in _cue_scores(q).items()}
            for name, credit in per_guesser.items():
                got, blind, banks = results.setdefault(name, ([], [], {}))
                got.append(credit)
                blind.append(_blind(q) if q.kind != "true_false" else 0.5)
                banks.setdefault(bank.name, []).append(credit)
    return {
        name: (mean(got), mean(blind), {b: mean(v) for b, v in banks.items()})
        for name, (got, blind, banks) in results.items()
    }


def test_answering_by_how_the_options_look_scores_near_blind_chance():
    scores = guesser_scores()
    for name, (score, blind, per_bank) in scores.items():
        if blind == 0.5:  # true or false only: few questions, so a wider margin
            assert score <= 0.6, f"{name}: {score:.0%} of the true-or-false questions"
            continue
        assert score <= blind + 0.08, f"{name}: {score:.0%} against blind {blind:.0%}"
        for bank, bank_score in per_bank.items():
            assert bank_score < 0.5, f"{name} scores {bank_score:.0%} on {bank}"
    assert len(scores) == 12
