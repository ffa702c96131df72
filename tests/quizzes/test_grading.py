"""The pure rules: marking (Hypothesis property tests) and drawing, over many generated cases."""

import random

from hypothesis import given
from hypothesis import strategies as st

from quizzes.grading import Candidate, is_pass, item_is_correct, questions_draw, score_percent

# The draw's rules are checked on many seeded cases below.
SEEDS = range(300)


@st.composite
def quizzes(draw) -> tuple[list[dict], list[set[int]]]:
    """1-40 questions of 2-6 choices, single (one correct) or multiple (one or more correct),
    with any selection of answers."""
    questions, answers = [], []
    for qid in range(draw(st.integers(1, 40))):
        ids = [qid * 10 + i for i in range(draw(st.integers(2, 6)))]
        if draw(st.booleans()):
            correct = draw(st.sets(st.sampled_from(ids), min_size=1))
        else:
            correct = {draw(st.sampled_from(ids))}
        questions.append({"choices": ids, "correct": correct})
        answers.append(draw(st.sets(st.sampled_from(ids))))
    return questions, answers


def mark(questions: list[dict], answers: list[set[int]]) -> int:
    right = sum(
        item_is_correct(selected=a, correct=q["correct"])
        for q, a in zip(questions, answers, strict=True)
    )
    return score_percent(correct=right, total=len(questions))


@given(quizzes())
def test_a_score_stays_between_0_and_100_and_all_correct_gives_100(quiz):
    questions, answers = quiz

    assert 0 <= mark(questions, answers) <= 100
    assert mark(questions, [q["correct"] for q in questions]) == 100


@given(quizzes(), st.randoms(use_true_random=False))
def test_the_order_of_questions_and_choices_never_changes_the_score(quiz, rng):
    questions, answers = quiz
    score = mark(questions, answers)

    pairs = list(zip(questions, answers, strict=True))
    rng.shuffle(pairs)
    shuffled = [
        ({"choices": rng.sample(q["choices"], len(q["choices"])), "correct": q["correct"]}, a)
        for q, a in pairs
    ]

    assert mark([q for q, _ in shuffled], [a for _, a in shuffled]) == score


@given(
    st.integers(3, 8).flatmap(
        lambda n: st.tuples(
            st.just(set(range(n))), st.sets(st.integers(0, n - 1), min_size=1, max_size=n - 1)
        )
    )
)
def test_multiple_response_needs_exactly_the_right_set(case):
    choices, correct = case
    wrong = choices - correct

    assert item_is_correct(selected=correct, correct=correct)
    assert not item_is_correct(selected=correct - {min(correct)}, correct=correct)
    assert not item_is_correct(selected=correct | {min(wrong)}, correct=correct)
    assert not item_is_correct(selected=choices, correct=correct)


def test_a_pass_needs_the_mark_exactly_and_a_score_never_rounds_up():
    assert is_pass(correct=8, total=10, pass_mark=80)
    assert not is_pass(correct=7, total=10, pass_mark=80)
    assert score_percent(correct=2, total=3) == 66
    # 79.9% is shown as 79 and is not a pass at 80.
    assert score_percent(correct=799, total=1000) == 79
    assert not is_pass(correct=799, total=1000, pass_mark=80)
    assert not is_pass(correct=0, total=0, pass_mark=80)


def test_a_draw_never_repeats_a_question_and_takes_what_the_bank_can_give():
    for seed in SEEDS:
        rng = random.Random(seed)
        candidates = [
            Candidate(i, tuple(rng.sample(["housing", "waste"], rng.randint(0, 1))))
            for i in range(rng.randint(1, 30))
        ]
        count = rng.randint(1, 40)

        drawn = questions_draw(
            candidates=candidates, count=count, seen={}, service_area="housing", rng=rng
        )

        assert len(drawn) == len(set(drawn)) == min(count, len(candidates))
        assert set(drawn) <= {c.id for c in candidates}


def test_a_draw_prefers_questions_not_seen_before():
    for seed in SEEDS:
        rng = random.Random(seed)
        candidates = [Candidate(i) for i in range(15)]
        seen = dict.fromkeys(rng.sample(range(15), 10), 1)

        drawn = questions_draw(candidates=candidates, count=10, seen=seen, service_area="", rng=rng)

        assert set(range(15)) - set(seen) <= set(drawn)


def test_a_draw_includes_the_learners_service_area_where_the_bank_has_it():
    for seed in SEEDS:
        rng = random.Random(seed)
        candidates = [Candidate(i) for i in range(20)] + [Candidate(99, ("waste",))]
        # Even when the learner has seen it and not the others.
        drawn = questions_draw(
            candidates=candidates, count=5, seen={99: 3}, service_area="waste", rng=rng
        )

        assert 99 in drawn


def test_a_draw_prefers_general_questions_over_other_service_areas():
    candidates = [Candidate(i, ("housing",)) for i in range(10)] + [Candidate(50), Candidate(51)]

    drawn = questions_draw(
        candidates=candidates, count=2, seen={}, service_area="waste", rng=random.Random(1)
    )

    assert set(drawn) == {50, 51}


def test_every_draw_covers_every_learning_outcome_the_draw_has_room_for():
    for seed in SEEDS:
        rng = random.Random(seed)
        outcomes = rng.randint(1, 6)
        # An uneven bank: one outcome has many questions, the others few.
        candidates = [Candidate(i, (), 1) for i in range(15)] + [
            Candidate(100 + i, (), 2 + i % (outcomes - 1 or 1)) for i in range(3 * (outcomes - 1))
        ]
        count = rng.randint(1, 10)
        # The learner has seen the small outcomes' questions most: coverage still comes first.
        seen = {c.id: 3 for c in candidates if c.outcome != 1}

        drawn = questions_draw(
            candidates=candidates, count=count, seen=seen, service_area="", rng=rng
        )

        by_id = {c.id: c for c in candidates}
        covered = {by_id[i].outcome for i in drawn}
        assert len(covered) == min(count, len({c.outcome for c in candidates}))


def test_a_retake_still_prefers_unseen_questions_within_each_outcome():
    for seed in SEEDS:
        rng = random.Random(seed)
        candidates = [Candidate(i, (), 1 + i % 5) for i in range(25)]
        seen = dict.fromkeys(range(10), 1)  # two questions of each outcome seen once

        drawn = questions_draw(candidates=candidates, count=10, seen=seen, service_area="", rng=rng)

        assert not set(drawn) & set(seen)
        assert {1 + i % 5 for i in drawn} == {1, 2, 3, 4, 5}
