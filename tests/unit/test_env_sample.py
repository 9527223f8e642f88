"""deploy/credit-portal.env.sample names every variable the portal reads and nothing else (issue
#17). The one list is portal/config.py: ``SETTINGS`` (also the README table, checked by
test_config_docs.py) and ``ENVIRONMENT_EXTRAS`` (read around the app: gunicorn.conf.py, metrics,
pgbouncer switch), which the README must document too. A setting the sample leaves commented out
shows its real default, so the sample never advertises a value the code does not use."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from portal.config import ENVIRONMENT_EXTRAS, SETTINGS

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "deploy" / "credit-portal.env.sample"
README = (REPO / "README.md").read_text(encoding="utf-8")
LINE = re.compile(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$")
KNOWN = {s.name for s in SETTINGS} | {name for name, _ in ENVIRONMENT_EXTRAS}


def sample() -> tuple[dict[str, str], dict[str, list[str]]]:
    """``(set, commented)``: the variables the sample sets, and those it shows commented out."""
    set_, commented = {}, {}
    for line in SAMPLE.read_text(encoding="utf-8").splitlines():
        if m := LINE.match(line.strip()):
            if m.group(1):
                commented.setdefault(m.group(2), []).append(m.group(3))
            else:
                assert m.group(2) not in set_, f"{m.group(2)} is set twice"
                set_[m.group(2)] = m.group(3)
    return set_, commented


def test_the_sample_names_every_variable_the_portal_reads():
    set_, commented = sample()
    missing = KNOWN - set(set_) - set(commented)
    assert not missing, f"not in credit-portal.env.sample: {sorted(missing)}"


def test_the_sample_names_nothing_the_portal_does_not_read():
    set_, commented = sample()
    unknown = (set(set_) | set(commented)) - KNOWN
    assert not unknown, f"credit-portal.env.sample names variables portal/config.py does not know: {sorted(unknown)}"


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_a_setting_left_commented_out_shows_its_default(setting):
    set_, commented = sample()
    if setting.name in set_ or setting.name not in commented:
        return
    assert setting.default in commented[setting.name], (setting.name, commented[setting.name], setting.default)


@pytest.mark.parametrize(("name", "reader"), ENVIRONMENT_EXTRAS, ids=[n for n, _ in ENVIRONMENT_EXTRAS])
def test_every_extra_is_read_where_the_list_says_and_documented(name, reader):
    assert re.search(rf"[\"']{name}[\"']", (REPO / reader).read_text(encoding="utf-8")), (name, reader)
    assert f"`{name}" in README, f"{name} is not documented in README.md"
