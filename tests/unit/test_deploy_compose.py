"""deploy/compose.yaml and the Dockerfile it builds hold together (issue #17: the local two-node
try-out). Docker cannot run here (no daemon, no image pulls), so what compose would find out on
``up`` is checked from the files: every command of a portal service and the image's CMD resolve
(``credit-portal`` through the real click tree, gunicorn through gunicorn's own option parser and
the app factory it names), every variable a portal service sets is one the portal reads
(portal/config.py), ``depends_on`` names services that exist and can reach the condition asked
for, and every healthcheck asks a real probe (/healthz, /readyz) that the real app answers."""
from __future__ import annotations

import importlib
import json
import re
import shlex
from pathlib import Path

import pytest
import yaml
from gunicorn.config import Config as GunicornConfig

from portal.config import ENVIRONMENT_EXTRAS, SETTING_NAMES
from tests.unit.test_deploy_units import assert_portal_command

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "deploy" / "compose.yaml"
PROBES = ("/healthz", "/readyz")  # portal/web/health.py
CONDITIONS = ("service_started", "service_healthy", "service_completed_successfully")
KNOWN_VARIABLES = SETTING_NAMES | {name for name, _ in ENVIRONMENT_EXTRAS}


def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))  # anchors and << merges resolved


SERVICES: dict = compose()["services"]
#: The services that run the portal's image (built from this repository), not postgres.
PORTAL = sorted(name for name, s in SERVICES.items() if "build" in s)


def dockerfile(service: dict) -> Path:
    build = service["build"]
    context = (COMPOSE_FILE.parent / build["context"]).resolve()
    return context / build.get("dockerfile", "Dockerfile")


def instructions(path: Path) -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` of a Dockerfile, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", "\n".join(line for line in path.read_text(encoding="utf-8").splitlines()
                                           if not line.lstrip().startswith("#")))
    return [(m.group(1).upper(), m.group(2).strip())
            for m in re.finditer(r"^\s*([A-Za-z]+)\s+(.*)$", text, flags=re.M)]


def exec_form(arguments: str) -> list[str]:
    """A CMD / ENTRYPOINT in exec (JSON) form; the shell form would run under ``sh -c``."""
    value = json.loads(arguments)
    assert isinstance(value, list) and all(isinstance(a, str) for a in value), arguments
    return value


def argv_of(command) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else list(command)


def gunicorn_options(argv: list[str], where: str):
    """gunicorn's own parser (unknown options exit 2); ``-c`` is resolved in the image, where
    the repository is copied to WORKDIR (``COPY . .``)."""
    try:
        options = GunicornConfig().parser().parse_args(argv)
    except SystemExit as exc:  # argparse refuses the options
        pytest.fail(f"{where}: gunicorn does not take {argv}: exit {exc.code}")
    assert len(options.args) == 1, (where, argv)
    module, _, factory = options.args[0].partition(":")
    target = getattr(importlib.import_module(module), factory.removesuffix("()"), None)
    assert callable(target), (where, options.args[0])
    if options.config:
        assert not options.config.startswith("/"), (where, "a config path inside the image: relative to WORKDIR")
        assert (REPO / options.config).is_file(), (where, options.config)
    return options


def assert_command_resolves(argv: list[str], where: str) -> None:
    assert argv, where
    if argv[0] == "credit-portal":
        assert_portal_command(argv[1:], where)
    elif argv[0] == "gunicorn":
        gunicorn_options(argv[1:], where)
    else:
        pytest.fail(f"{where}: {argv[0]} is neither credit-portal nor gunicorn")


def test_the_file_has_portal_services():
    assert PORTAL, "no service builds the portal's image"
    assert {"db", "init"} <= set(SERVICES)


@pytest.mark.parametrize("name", PORTAL)
def test_every_command_resolves(name):
    assert "command" in SERVICES[name] or image_command(SERVICES[name]), name
    if "command" in SERVICES[name]:
        assert_command_resolves(argv_of(SERVICES[name]["command"]), f"compose.yaml {name}")


def image_command(service: dict) -> list[str]:
    cmd = [exec_form(a) for i, a in instructions(dockerfile(service)) if i == "CMD"]
    entry = [exec_form(a) for i, a in instructions(dockerfile(service)) if i == "ENTRYPOINT"]
    return (entry[-1] if entry else []) + (cmd[-1] if cmd else [])


@pytest.mark.parametrize("name", PORTAL)
def test_the_image_it_builds_exists_and_its_command_resolves(name):
    path = dockerfile(SERVICES[name])
    assert path.is_file(), path
    assert (REPO / "pyproject.toml").is_file() and path.is_relative_to(REPO), "build context: the repository"
    steps = instructions(path)
    assert ("COPY", ". .") in steps and any(i == "WORKDIR" for i, _ in steps), "the repository is copied to WORKDIR"
    argv = image_command(SERVICES[name])
    assert argv, f"{path.name} has no CMD or ENTRYPOINT: `docker run` of the image would do nothing useful"
    assert_command_resolves(argv, path.name)
    for i, arguments in steps:
        if i == "ENV":
            names = re.findall(r"(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=", arguments)
            assert names and set(names) <= KNOWN_VARIABLES, (path.name, arguments)


@pytest.mark.parametrize("name", PORTAL)
def test_every_variable_a_service_sets_is_read_by_the_portal(name):
    environment = SERVICES[name].get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.partition("=")[::2] for item in environment)
    assert environment, name
    unknown = set(environment) - KNOWN_VARIABLES
    assert not unknown, f"{name} sets {sorted(unknown)}: not read by portal/config.py (nor documented extras)"
    assert environment.get("PORTAL_INDEX_MODE", "inline") in ("inline", "worker"), name


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_depends_on_names_services_that_can_reach_the_condition(name):
    depends = SERVICES[name].get("depends_on") or {}
    if isinstance(depends, list):
        depends = {d: {"condition": "service_started"} for d in depends}
    for target, spec in depends.items():
        assert target in SERVICES and target != name, (name, target)
        condition = (spec or {}).get("condition", "service_started")
        assert condition in CONDITIONS, (name, target, condition)
        if condition == "service_healthy":
            assert "healthcheck" in SERVICES[target], f"{name} waits for {target} to be healthy: it has no healthcheck"
        if condition == "service_completed_successfully":
            assert "restart" not in SERVICES[target], f"{name} waits for {target} to finish: it restarts"
            assert "gunicorn" not in argv_of(SERVICES[target].get("command", [])), (name, target)


def web_services() -> list[str]:
    return [n for n in PORTAL if argv_of(SERVICES[n].get("command", []))[:1] == ["gunicorn"]]


def test_the_try_out_has_two_web_nodes():
    assert len(web_services()) == 2


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_healthcheck_asks_a_real_probe(name, probe_client):
    check = SERVICES[name].get("healthcheck")
    if name in web_services():
        assert check, f"{name} serves the portal without a healthcheck (/readyz, portal/web/health.py)"
    if not check:
        return
    test = check["test"]
    assert isinstance(test, list) and test[0] in ("CMD", "CMD-SHELL"), (name, test)
    urls = re.findall(r"https?://[^\s'\"]+", " ".join(test))
    if name not in PORTAL:
        assert not urls, (name, test)  # postgres: pg_isready
        return
    assert len(urls) == 1, (name, test)
    url = re.match(r"https?://(?:127\.0\.0\.1|localhost):(\d+)(/[^?#]*)", urls[0])
    assert url, (name, urls[0])
    port, path = url.groups()
    assert path in PROBES, (name, path)
    assert probe_client.get(path).status_code == 200, (name, path)
    options = gunicorn_options(argv_of(SERVICES[name]["command"])[1:], name)
    assert [b.rsplit(":", 1)[1] for b in options.bind or []] == [port], (name, options.bind, port)
    published = [str(p).rsplit(":", 1)[1] for p in SERVICES[name].get("ports", [])]
    assert published == [port], (name, published)


@pytest.fixture(scope="module")
def probe_client(tmp_path_factory):
    """The real app on SQLite (migrated), asked for the probe paths the healthchecks use."""
    from portal import create_app
    from portal.db.migrate import upgrade
    from tests.conftest import settings_values

    app = create_app(settings_values(tmp_path_factory.mktemp("probe")))
    upgrade(app.extensions["portal"].engine)
    yield app.test_client()
    app.extensions["portal.scan_counter"].flush()
    app.extensions["portal"].close()


def test_named_volumes_are_declared():
    declared = set(compose().get("volumes") or {})
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if not source.startswith((".", "/")):
                assert source in declared, (name, source)
