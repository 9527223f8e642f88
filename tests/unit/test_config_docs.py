"""Every setting is documented in the README with its real default and meaning, and the README
documents no unknown setting; the texts around it name the real default search backend."""
import re
from pathlib import Path

import pytest

from portal.config import ROOT, SETTINGS

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")
MAKEFILE = (REPO / "Makefile").read_text(encoding="utf-8")
ROW = re.compile(r"^\| `([A-Z_]+)` \| `([^`]*)` \| (.*) \|$", flags=re.M)


def readme_table() -> dict[str, tuple[str, str]]:
    return {name: (default, meaning) for name, default, meaning in ROW.findall(README)}


def shown_default(value: str) -> str:
    """How the README writes a default: （空） for empty, paths under the checkout as ./…"""
    if not value:
        return "（空）"
    if value.startswith(str(ROOT)):
        return "." + value[len(str(ROOT)):]
    return value


def test_every_setting_in_readme_table():
    table = set(re.findall(r"^\| `([A-Z_]+)` \|", README, flags=re.M))
    assert table == {s.name for s in SETTINGS}
    assert set(readme_table()) == table  # every row has the `default` | meaning shape


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_readme_default_and_meaning_match_the_code(setting):
    default, meaning = readme_table()[setting.name]
    assert default == shown_default(setting.default)
    assert meaning.replace("`", "") == setting.help.replace("`", "")


def test_the_default_search_backend_is_named_right():
    """tantivy is the default (portal/config.py); Whoosh is the city/county alternative."""
    from portal.config import load_settings

    assert load_settings({"PORTAL_VAR_DIR": "/tmp/x", "SEARCH_URL": ""})["SEARCH_URL"].startswith("tantivy://")
    assert "Whoosh under var" not in MAKEFILE and "tantivy" in MAKEFILE.split("run:")[0].splitlines()[-1]
    assert "（Whoosh）" not in README and "Whoosh dir (default)" not in README


def test_readme_shows_the_two_commands():
    assert "make run" in README and "make test" in README
