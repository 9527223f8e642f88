"""Organisation names for the demo generator, from the templates in ``org_names.toml``.

The templates are data (what names look like); this module only walks them with the generator's
RNG. Random placeholders draw in the order they appear, so a seed gives the same names as the
hand-written chain of templates this replaced (pinned by tests/unit/test_demo_generator.py).
"""
from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from random import Random

from . import names as N

TEMPLATES = Path(__file__).resolve().parent / "org_names.toml"
_CN_DIGITS = "〇一二三四五六七八九"
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


@lru_cache(maxsize=1)
def templates() -> dict:
    return tomllib.loads(TEMPLATES.read_text(encoding="utf-8"))


class Filler:
    """Fills one template: fixed values from the region and the legal representative, random
    ones from the generator (``road``, ``shop``) and its RNG, bound names from ``draws``."""

    def __init__(self, rng: Random, fixed: dict[str, str], road: Callable[[], str], shop: Callable[[], str]):
        self.rng, self.fixed, self.road, self.shop = rng, dict(fixed), road, shop

    def draw(self, spec: str) -> str:
        kind, _, arg = spec.partition(":")
        if kind == "road":
            return self.road()
        if kind == "shop":
            return self.shop()
        if kind == "cn":
            low, high = (int(x) for x in arg.split("-"))
            return _CN_DIGITS[self.rng.randint(low, high)]
        if kind == "pick":
            return self.rng.choice(getattr(N, arg))
        if kind == "pick0":
            return self.rng.choice(getattr(N, arg))[0]
        if kind == "one_of":
            return self.rng.choice(tuple(arg.split("|")))
        raise KeyError(f"unknown placeholder {spec!r} in {TEMPLATES.name}")

    def bind(self, draws: dict[str, str]) -> None:
        for name, spec in draws.items():
            self.fixed[name] = self.draw(spec)

    def fill(self, template: str) -> str:
        """Left to right: ``re.sub`` calls back in match order, so draws happen in reading order."""
        return _PLACEHOLDER.sub(lambda m: self.fixed[m[1]] if m[1] in self.fixed else self.draw(m[1]), template)


def candidate(category: str, filler: Filler) -> str:
    """One name for ``category``: the option chosen by one draw, then its template filled."""
    table = templates()[category]
    filler.bind(table.get("first", {}))
    u = filler.rng.random()
    options = table["option"]
    option = next((o for o in options if "below" in o and u < o["below"]), options[-1])
    filler.bind(option.get("draws", {}))
    template = option["name"]
    if "either" in option and not filler.rng.random() < option["either"]:
        template = option["otherwise"]
    return filler.fill(template)


def branch(category: str, filler: Filler, k: int, nth_shop: Callable[[int], str]) -> str:
    """The suffix for the k-th (k >= 2) organisation of an already taken name."""
    table = templates()[category]
    rule = table["branch"]
    if rule == "nth_shop" or (rule == "nth_shop_below_10" and k < 10):
        return nth_shop(k)
    if rule == "stem_at_2":
        return filler.fill("{stem}分公司") if k == 2 else filler.fill(table["branch_else"])
    if rule == "nth_shop_below_10":
        return filler.fill(table["branch_else"])
    return filler.fill(rule)


def fixed_values(region, legal_rep: str) -> dict[str, str]:
    city, dist = region.city, region.name
    return {
        "dist": dist, "city": city, "local": region.local, "stem": region.stem, "city_stem": region.city_stem,
        "legal_rep": legal_rep, "surname": legal_rep[:2] if legal_rep[:2] in ("欧阳", "上官") else legal_rep[:1],  # 复姓
        "city_or_dist": city or dist, "urban": city if dist.endswith("区") and city else dist,
    }
