"""Every setting is documented in the README, and the README documents no unknown setting."""
import re
from pathlib import Path

from portal.config import SETTINGS

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_every_setting_in_readme_table():
    table = set(re.findall(r"^\| `([A-Z_]+)` \|", README, flags=re.M))
    assert table == {s.name for s in SETTINGS}


def test_readme_shows_the_two_commands():
    assert "make run" in README and "make test" in README
