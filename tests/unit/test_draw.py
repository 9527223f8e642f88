"""The draw as a pure function (portal.domain.draw): ceil quotas per grade (阳山 四（四）), the
ranking reproducible from the seed alone, 回避 in inspector assignment."""
from __future__ import annotations

import hashlib
import hmac

import pytest

from portal.domain import draw as algo

PERCENT = {"A": 5, "B": 20, "C": 50, "D": 100, "E": 100, algo.UNGRADED: 50}


def _population(n_per: dict[str, int]) -> dict[str, str]:
    return {f"91441823MA{stratum_i:02d}{i:05d}X": s for stratum_i, (s, n) in enumerate(n_per.items()) for i in range(n)}


@pytest.mark.parametrize(("n", "percent", "k"), [(0, 5, 0), (1, 5, 1), (20, 5, 1), (21, 5, 2), (6, 20, 2),
                                                 (5, 20, 1), (3, 50, 2), (7, 100, 7), (9, 0, 0)])
def test_quota_is_ceil(n, percent, k):
    assert algo.quota(n, percent) == k


def test_quota_refuses_nonsense():
    for n, p in ((-1, 5), (3, 101), (3, -1)):
        with pytest.raises(ValueError):
            algo.quota(n, p)


def test_same_seed_same_list_other_seed_other_list():
    pop = _population({"A": 40, "B": 10, "C": 4, "D": 1, algo.UNGRADED: 3})
    order = algo.stratum_order("ABCDE")
    first = algo.draw("seed-1", pop, PERCENT, order)
    assert first == algo.draw("seed-1", dict(reversed(list(pop.items()))), PERCENT, order)  # order of input irrelevant
    assert [(s.name, s.population, len(s.drawn)) for s in first.strata] == [
        ("A", 40, 2), ("B", 10, 2), ("C", 4, 2), ("D", 1, 1), ("E", 0, 0), (algo.UNGRADED, 3, 2)]
    assert algo.draw("seed-2", pop, PERCENT, order).drawn != first.drawn
    # The documented rule, restated with the standard library only.
    a_codes = sorted((c for c, s in pop.items() if s == "A"),
                     key=lambda c: (hmac.new(b"seed-1", c.encode(), hashlib.sha256).hexdigest(), c))
    assert list(first.strata[0].drawn) == a_codes[:2]


def test_citizen_script_matches_the_function():
    pop = _population({"A": 30, "B": 7, "C": 5, "D": 2, "E": 1, algo.UNGRADED: 4})
    seed = "f" * 64
    ns = {"seed": seed, "seed_sha256": algo.commitment(seed), "population": pop, "percent": PERCENT,
          "print": lambda *_: None}
    exec(algo.CITIZEN_SCRIPT, ns)  # noqa: S102
    mine = algo.draw(seed, pop, PERCENT, list(PERCENT))
    assert ns["draw"](seed, pop, PERCENT) == {s.name: list(s.drawn) for s in mine.strata}
    ns["seed_sha256"] = "0" * 64
    with pytest.raises(AssertionError):
        exec(algo.CITIZEN_SCRIPT, ns)  # noqa: S102 - a seed that does not match its commitment


def test_a_stratum_without_ratio_is_an_error():
    with pytest.raises(ValueError):
        algo.draw("s", {"X1": "Z"}, PERCENT, algo.stratum_order("ABCDE"))
    with pytest.raises(ValueError):
        algo.draw("", {"X1": "A"}, PERCENT)


def test_commitment_is_sha256_of_seed():
    seed = algo.new_seed()
    assert len(seed) == 64 and algo.commitment(seed) == hashlib.sha256(seed.encode()).hexdigest()
    assert algo.new_seed() != seed


def test_inspectors_avoid_conflicts_and_are_reproducible():
    codes = ["C1", "C2", "C3"]
    pool = ["1", "2", "3", "4"]
    conflicts = {"C1": {"1", "2", "3"}, "C2": {"4"}}
    out = algo.assign_inspectors("seed", codes, pool, conflicts)
    assert out["C1"] == ["4"]  # only one eligible left: fewer than two, reported by the caller
    assert len(out["C2"]) == 2 and "4" not in out["C2"]
    assert len(out["C3"]) == 2 and len(set(out["C3"])) == 2
    assert out == algo.assign_inspectors("seed", codes, list(reversed(pool)), conflicts)
