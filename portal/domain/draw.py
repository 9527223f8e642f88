"""双随机、一公开 by credit grade: the draw as a pure, reproducible function.

Regulations: 阳山 四（四）"按照 A 级 5%、B 级 20%、C 级 50%、D 和 E 级 100% 的随机监督抽查比例，开展现场
检查"; 湖南 第二十、二十一、二十三条（信用评价结果作为"双随机"抽查的重要依据，守信者合理优化、失信者
适当提高抽查比例）; 海南 第三十二条; 湖南医保 第二十条（对于等级不同的信用主体确定不同抽查比例）.
The ratios per grade are the active profile's ``inspection.ratios``.

The algorithm (``ALGORITHM`` = "hmac-sha256-rank/v1"), so that anyone can re-run a published draw:

1. The population is a list of (code, stratum): the unit's 统一社会信用代码 and its formal grade
   letter, or ``"未评级"`` for a unit without one.
2. Within each stratum, every code gets the key HMAC-SHA256(key = seed as UTF-8 bytes,
   message = code as UTF-8 bytes), written as lowercase hex; codes are sorted by (key, code).
3. The first ceil(n × percent / 100) codes of each stratum are drawn (integer arithmetic:
   (n × percent + 99) // 100).

The seed is committed before the population is fixed: when a draw is announced its SHA-256
(``commitment``) is published; the seed itself is revealed with the result, and anyone checks
sha256(seed) == commitment. A citizen's script (Python standard library only) is
``CITIZEN_SCRIPT`` below; the public draw page prints it.

Inspectors (the second 随机) are drawn per unit the same way from the eligible pool — the pool
minus every inspector with a conflict (回避) for the unit or its region — ranked by
HMAC-SHA256(seed, "inspector:" + code + ":" + inspector id). Inspectors are persons and are not
published; the assignment is reproducible by staff from the stored pool.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

ALGORITHM = "hmac-sha256-rank/v1"

#: The whole algorithm for a citizen: population {code: stratum}, percent {stratum: %}.
CITIZEN_SCRIPT = """\
import hashlib, hmac

def draw(seed, population, percent):
    out = {}
    for s in percent:
        codes = sorted((c for c, g in population.items() if g == s),
                       key=lambda c: (hmac.new(seed.encode(), c.encode(), hashlib.sha256).hexdigest(), c))
        out[s] = codes[:(len(codes) * percent[s] + 99) // 100]
    return out

assert hashlib.sha256(seed.encode()).hexdigest() == seed_sha256
print(draw(seed, population, percent))
"""
UNGRADED = "未评级"
SEED_BYTES = 32
INSPECTORS_PER_UNIT = 2  # 双随机: at least two law-enforcement officers on site (行政处罚法 第四十二条)


def new_seed() -> str:
    """A fresh random seed (64 hex characters)."""
    return secrets.token_hex(SEED_BYTES)


def commitment(seed: str) -> str:
    """The SHA-256 of the seed, published before the population is fixed."""
    return hashlib.sha256(seed.encode("utf-8")).hexdigest()


def rank_key(seed: str, message: str) -> str:
    return hmac.new(seed.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).hexdigest()


def quota(n: int, percent: int) -> int:
    """ceil(n × percent / 100), in integers (no floating point)."""
    if n < 0 or not 0 <= percent <= 100:
        raise ValueError("n must be >= 0 and percent in 0..100")
    return (n * percent + 99) // 100


@dataclass(frozen=True)
class Stratum:
    name: str  # grade letter or UNGRADED
    percent: int
    population: int
    drawn: tuple[str, ...]  # codes, in rank order


@dataclass(frozen=True)
class DrawResult:
    algorithm: str
    strata: tuple[Stratum, ...] = field(default_factory=tuple)

    @property
    def drawn(self) -> list[tuple[str, str]]:
        """(code, stratum) of every drawn unit, stratum by stratum in rank order."""
        return [(code, s.name) for s in self.strata for code in s.drawn]


def stratum_order(letters: Iterable[str]) -> list[str]:
    return [*letters, UNGRADED]


def draw(seed: str, population: Mapping[str, str], percent: Mapping[str, int],
         order: Iterable[str] | None = None) -> DrawResult:
    """Draw from ``population`` ({code: stratum}) with ``percent`` ({stratum: 0..100}).

    Strata appear in ``order`` (the profile's grade letters, then 未评级) or sorted. A stratum of
    the population without a percentage is an error: nothing is silently left out."""
    if not seed:
        raise ValueError("empty seed")
    names = list(order) if order is not None else sorted(set(population.values()))
    unknown = set(population.values()) - set(names)
    missing = {s for s in set(population.values()) if s not in percent}
    if unknown or missing:
        raise ValueError(f"strata without a ratio: {sorted(unknown | missing)}")
    strata = []
    for name in names:
        codes = sorted((c for c, s in population.items() if s == name), key=lambda c: (rank_key(seed, c), c))
        if not codes and name not in percent:
            continue
        k = quota(len(codes), percent[name])
        strata.append(Stratum(name=name, percent=percent[name], population=len(codes), drawn=tuple(codes[:k])))
    return DrawResult(algorithm=ALGORITHM, strata=tuple(strata))


def assign_inspectors(seed: str, codes: Iterable[str], pool: Iterable[str],
                      conflicts: Mapping[str, set[str]], per_unit: int = INSPECTORS_PER_UNIT) -> dict[str, list[str]]:
    """For each drawn code, ``per_unit`` inspectors from ``pool`` (ids as strings), skipping those
    listed in ``conflicts[code]`` (回避). A unit may get fewer when too few are eligible; the
    caller reports that."""
    pool = sorted(set(pool))
    out = {}
    for code in codes:
        excluded = conflicts.get(code, set())
        eligible = sorted((i for i in pool if i not in excluded),
                          key=lambda i: (rank_key(seed, f"inspector:{code}:{i}"), i))
        out[code] = eligible[:per_unit]
    return out
