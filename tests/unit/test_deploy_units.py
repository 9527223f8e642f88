"""The systemd units in ``deploy/systemd`` run commands that exist (issue #17: background work as
commands a timer runs). Each ``ExecStart`` that calls ``credit-portal`` is resolved through the
real click command tree with its options, so a renamed command or option fails here instead of
at 00:05 on a production node; every timer has the service it starts."""
from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from portal.cli import main

UNITS = Path(__file__).resolve().parents[2] / "deploy" / "systemd"
BIN = "/srv/credit-portal/.venv/bin/credit-portal"


def _unit(path: Path) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # keys are case-sensitive in systemd
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser


def _exec_starts(path: Path) -> list[str]:
    """Every ExecStart= of the unit (a key systemd allows many times, which configparser
    would fold into the last one)."""
    return [line.split("=", 1)[1] for line in path.read_text(encoding="utf-8").splitlines()
            if line.startswith("ExecStart=")]


def _specifiers(line: str) -> str:
    """systemd's specifiers as a node fills them in: %H the host name, %% a percent sign."""
    return re.sub(r"%(.)", lambda m: {"%": "%", "H": "node1"}.get(m.group(1), m.group(0)), line)


def portal_commands(path: Path) -> list[list[str]]:
    """The argv after ``credit-portal`` of every ExecStart (also inside ``sh -c '…'``), a
    shell substitution ``$(…)`` standing as one argument."""
    out = []
    for line in _exec_starts(path):
        line = re.sub(r"\$\([^)]*\)", "X", _specifiers(line))
        for part in line.split(BIN)[1:]:
            out.append(shlex.split(re.split(r"['\";|>&]", part, maxsplit=1)[0]))
    return out


def assert_portal_command(argv: list[str], where: str) -> None:
    """``credit-portal *argv`` names a real command with options it takes (also used for
    deploy/compose.yaml and the Dockerfile, tests/unit/test_deploy_compose.py)."""
    # --help after the arguments: click resolves the whole command path and parses the
    # options given; an unknown command or option exits 2
    result = CliRunner().invoke(main, argv + ["--help"])
    assert result.exit_code == 0, (where, argv, result.output)


SERVICES = sorted(UNITS.glob("*.service"))


@pytest.mark.parametrize("path", SERVICES, ids=[p.stem for p in SERVICES])
def test_every_credit_portal_command_of_a_unit_exists(path):
    for argv in portal_commands(path):
        assert_portal_command(argv, path.name)


def test_the_units_name_the_commands_they_run():
    found = {p.stem: portal_commands(p) for p in SERVICES}
    assert ["index", "follow", "--node", "node1", "--interval", "0.5"] in found["credit-portal-follow"]
    assert ["index", "drain"] in found["credit-portal-index"]
    assert ["expire"] in found["credit-portal-daily"] and ["audit", "verify"] in found["credit-portal-daily"]


@pytest.mark.parametrize("timer", sorted(UNITS.glob("*.timer")), ids=lambda p: p.stem)
def test_every_timer_starts_a_service_that_exists(timer):
    target = _unit(timer).get("Timer", "Unit", fallback=f"{timer.stem}.service")
    assert (UNITS / target).is_file(), target
    assert _unit(timer).get("Timer", "OnCalendar", fallback="")
