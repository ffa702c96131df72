"""Pure rules for drawing questions and marking answers: no database, so testable alone."""

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Candidate:
    """A question that may be drawn: its id, the service areas it suits (empty: everyone) and
    the learning outcome it tests (None: not said)."""

    id: int
    service_areas: tuple[str, ...] = ()
    outcome: int | None = None


def questions_draw(
    *,
    candidates: list[Candidate],
    count: int,
    seen: Mapping[int, int],
    service_area: str,
    rng: random.Random,
) -> list[int]:
    """Choose up to `count` question ids for a new attempt.

    First, one question for each learning outcome the bank tests (as many outcomes as the draw
    has room for), so that every attempt covers every outcome. Then, where the bank has
    questions for the learner's service area, up to a third of the draw (at least one) comes
    from them. The rest is filled preferring questions the learner has seen least often (unseen
    first), then questions that suit everyone or the learner's area over ones meant for other
    areas; ties are broken at random. Each step prefers the same way.
    """

    def suits(candidate: Candidate) -> bool:
        return not candidate.service_areas or service_area in candidate.service_areas

    def priority(candidate: Candidate) -> tuple[int, bool, float]:
        return (seen.get(candidate.id, 0), not suits(candidate), rng.random())

    count = min(count, len(candidates))
    ranked = sorted(candidates, key=priority)
    chosen: list[Candidate] = []
    outcomes = sorted({c.outcome for c in candidates if c.outcome is not None})
    rng.shuffle(outcomes)
    for outcome in outcomes[:count]:
        chosen.append(next(c for c in ranked if c.outcome == outcome))
    taken = {c.id for c in chosen}
    own = [
        c for c in ranked if service_area and service_area in c.service_areas and c.id not in taken
    ]
    quota = max(1, count // 3) - sum(1 for c in chosen if service_area in c.service_areas)
    chosen += own[: max(0, min(quota, count - len(chosen)))]
    taken = {c.id for c in chosen}
    rest = [c for c in ranked if c.id not in taken]
    chosen += rest[: count - len(chosen)]
    return [c.id for c in chosen]


def fresh_draw_candidates(
    *, candidates: list[Candidate], count: int, last_seen: Mapping[int, object]
) -> tuple[list[Candidate], dict[int, int]]:
    """A refresher's fresh draw: the candidates and the `seen` ranks for questions_draw.

    When at least `count` candidates were never served to the learner, only those; otherwise
    all of them, ranked so that the unseen come first, then the least recently seen
    (`last_seen`: question id -> when last served, any comparable value)."""
    unseen = [c for c in candidates if c.id not in last_seen]
    if len(unseen) >= count:
        return unseen, {}
    order = sorted(set(last_seen.values()))
    return candidates, {qid: order.index(when) + 1 for qid, when in last_seen.items()}


def item_is_correct(*, selected: Iterable[int], correct: Iterable[int]) -> bool:
    """Right only with exactly the correct set: a multiple-response question has no part marks."""
    return set(selected) == set(correct)


def score_percent(*, correct: int, total: int) -> int:
    """The whole-number percentage, rounded down so that a score shown never overstates a pass."""
    if total <= 0:
        return 0
    return (100 * correct) // total


def is_pass(*, correct: int, total: int, pass_mark: int) -> bool:
    return total > 0 and 100 * correct >= pass_mark * total
