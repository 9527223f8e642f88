"""Import contracts: the layers DESIGN.md names hold at their edges (issue #10 item 4).

- ``search_index`` is a library of its own: it imports neither ``portal`` nor Flask.
- ``portal.domain`` is pure: no Flask, no SQLAlchemy, no models, no services, no database.
  Checked twice: statically (every import statement, function-level ones included) and by
  importing each module in a fresh interpreter and looking at ``sys.modules`` (which also catches
  what a package ``__init__`` drags in, as ``portal/__init__.py`` once did with the whole app).
- The public blueprints (``portal/web/public.py``, ``facility.py``, ``chat.py``) never import the
  record models (credit records, cases, grades, audit, authorisations): non-public facts reach a
  public page only through a service read that applies the publication rules.

Small AST scan and subprocesses, no new dependency.
"""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PORTAL = ROOT / "portal"


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_names(path: Path) -> list[tuple[int, str]]:
    """Every module an import statement in ``path`` names, relative imports resolved to absolute
    names; ``from X import a, b`` yields ``X``, ``X.a`` and ``X.b`` (``a`` may be a submodule)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = _module_name(path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def _violations(paths: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    out = []
    for path in paths:
        for line, name in imported_names(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                out.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    return out


def test_the_scanner_sees_relative_and_nested_imports(tmp_path):
    """The scanner itself can fail: a function-level relative import of the models is found."""
    pkg = PORTAL / "domain"
    probe = pkg / "_contract_probe_tmp.py"
    probe.write_text("def f():\n    from ..models import CreditRecord\n    import flask\n", encoding="utf-8")
    try:
        names = {n for _, n in imported_names(probe)}
    finally:
        probe.unlink()
    assert {"portal.models", "portal.models.CreditRecord", "flask"} <= names


# --- search_index ------------------------------------------------------------------------------

def test_search_index_imports_neither_portal_nor_flask():
    paths = sorted((ROOT / "search_index").rglob("*.py"))
    assert paths
    assert _violations(paths, ("portal", "flask", "werkzeug")) == []  # (its PostgreSQL backend uses SQLAlchemy)


def test_importing_search_index_loads_no_portal():
    assert _loaded_after_import("search_index", "flask", "werkzeug", "portal") == []


# --- portal.domain -----------------------------------------------------------------------------

DOMAIN_FORBIDDEN = ("flask", "werkzeug", "sqlalchemy", "portal.models", "portal.services", "portal.db",
                    "portal.web", "portal.app", "portal.identity", "portal.runtime")
DOMAIN_MODULES = sorted(_module_name(p) for p in (PORTAL / "domain").glob("*.py"))


def test_domain_imports_no_framework_statically():
    paths = sorted((PORTAL / "domain").rglob("*.py"))
    assert len(paths) >= 10
    assert _violations(paths, DOMAIN_FORBIDDEN) == []


_PROBE = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
if len(sys.argv) > 2:
    print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in sys.argv[2:])))
    raise SystemExit
print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'werkzeug', 'sqlalchemy')
                        or m.startswith(('portal.models', 'portal.app', 'portal.services', 'portal.web')))))
"""


def _loaded_after_import(module: str, *top_level: str) -> list[str]:
    """What importing ``module`` in a fresh interpreter loads: framework and app modules, or
    (given ``top_level`` package names) every module under those."""
    result = subprocess.run([sys.executable, "-c", _PROBE, module, *top_level], cwd=ROOT, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("module", ["portal", "portal.domain", *DOMAIN_MODULES])
def test_importing_a_domain_module_loads_no_framework(module):
    assert _loaded_after_import(module) == []


@pytest.mark.parametrize("module", ["portal.documents.content", "portal.documents.case_pdf"])
def test_drawing_a_document_needs_no_database(module):
    """Case documents: content decided by the service, drawing separate (issue #10 item 7). (The
    PDF toolkit, ``services.verifiable``, is itself database-free; so is the pure vocabulary of
    ``portal.domain``, checked above.)"""
    loaded = _loaded_after_import(module, "flask", "werkzeug", "sqlalchemy", "portal")
    assert [m for m in loaded if not m.startswith(("portal.documents", "portal.services.verifiable", "portal.domain"))
            and m not in ("portal", "portal.services", "portal.runtime")] == []


def test_the_probe_sees_a_framework_import():
    """The subprocess probe can fail: the application module does load Flask and the models."""
    loaded = _loaded_after_import("portal.app")
    assert "flask" in loaded and "portal.models" in loaded


def test_create_app_still_resolves_from_the_package():
    """``from portal import create_app`` and gunicorn's ``'portal:create_app()'`` keep working."""
    import portal
    from portal.app import create_app

    assert portal.create_app is create_app
    with pytest.raises(AttributeError):
        portal.no_such_name  # noqa: B018 - the attribute access is the test


# --- services and permissions --------------------------------------------------------------------

def test_services_and_permissions_do_not_import_the_web_framework():
    """Service verbs are called by the web, the CLI and tests alike: they take an Identity
    (``portal.domain.identity``), never the Flask session (``portal.identity``)."""
    paths = sorted((PORTAL / "services").rglob("*.py")) + [PORTAL / "permissions.py"]
    assert _violations(paths, ("flask", "werkzeug", "portal.identity", "portal.web")) == []


# --- public blueprints -------------------------------------------------------------------------

PUBLIC_BLUEPRINTS = ("public.py", "facility.py", "chat.py")
RECORD_MODEL_MODULES = ("record", "case", "grade", "audit", "authorisation", "auth")


def _record_model_names() -> set[str]:
    names = set()
    for mod in RECORD_MODEL_MODULES:
        tree = ast.parse((PORTAL / "models" / f"{mod}.py").read_text(encoding="utf-8"))
        names |= {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
    return names


#: Known, tolerated until moved into a service read (issue #10 item 1: ``credit_list`` re-implements
#: the publication rule in SQL in the view). Remove the entry when that read moves; nothing may be
#: added here.
KNOWN_PUBLIC_RECORD_IMPORTS: set[tuple[str, str]] = set()  # none left since the service reads (#10 item 1)


def test_public_blueprints_import_no_record_models():
    record_models = _record_model_names()
    assert {"CreditRecord", "Case", "Grade", "AuditEvent"} <= record_models
    forbidden_modules = tuple(f"portal.models.{m}" for m in RECORD_MODEL_MODULES)
    bad = []
    for name in PUBLIC_BLUEPRINTS:
        path = PORTAL / "web" / name
        for line, imported in imported_names(path):
            model = imported.rpartition(".")[2]
            via_package = imported.startswith("portal.models.") and model in record_models
            direct = any(imported == f or imported.startswith(f + ".") for f in forbidden_modules)
            if (via_package or direct) and (name, model) not in KNOWN_PUBLIC_RECORD_IMPORTS:
                bad.append(f"portal/web/{name}:{line} imports {imported}")
    assert bad == []


# --- command line --------------------------------------------------------------------------------

def _imports_of_the_cli_package(path: Path) -> list[str]:
    """Imports in ``path`` that reach ``portal/cli/__init__.py`` (``from . import main``,
    ``from portal import cli``, ``import portal.cli``), not just one of its modules."""
    modules = {p.stem for p in (PORTAL / "cli").glob("*.py")} - {"__init__"}
    by_line: dict[int, set[str]] = {}
    for line, name in imported_names(path):
        by_line.setdefault(line, set()).add(name)
    bad = []
    for line, names in sorted(by_line.items()):
        submodules = {n for n in names if n.startswith("portal.cli.") and n.split(".")[2] in modules}
        reaches = any(n.startswith("portal.cli.") and n.split(".")[2] not in modules for n in names)
        reaches |= "portal.cli" in names and not submodules
        if reaches:
            bad.append(f"{path.relative_to(ROOT)}:{line}")
    return bad


def test_cli_command_modules_do_not_import_the_package_back():
    """``portal/cli/__init__.py`` assembles the command group from the command modules; they share
    ``portal.cli.common`` and never import the package (the old ``cli.py`` ↔ ``*_cli.py`` circle)."""
    paths = sorted(p for p in (PORTAL / "cli").glob("*.py") if p.name not in ("__init__.py", "__main__.py"))
    assert len(paths) >= 5
    assert [bad for p in paths for bad in _imports_of_the_cli_package(p)] == []


def test_the_cli_scanner_sees_an_import_of_the_package():
    probe = PORTAL / "cli" / "_contract_probe_tmp.py"
    probe.write_text("from .common import open_session\n\ndef f():\n    from . import main\n    from portal import cli\n",
                     encoding="utf-8")
    try:
        assert _imports_of_the_cli_package(probe) == ["portal/cli/_contract_probe_tmp.py:4",
                                                      "portal/cli/_contract_probe_tmp.py:5"]
    finally:
        probe.unlink()


# --- no cycles between services ------------------------------------------------------------------

def _services_graph(folder: Path) -> dict[str, set[str]]:
    """Service module → the service modules it imports, at module level or inside a function (a
    function-level import only hides a circle: ``calendar`` ↔ ``cases`` was one)."""
    names = {p.stem for p in folder.glob("*.py")} - {"__init__"}
    graph = {}
    for path in sorted(folder.glob("*.py")):
        if path.stem == "__init__":
            continue
        package = _module_name(path).rpartition(".")[0]
        graph[path.stem] = {name[len(package) + 1:].split(".")[0] for _, name in imported_names(path)
                            if name.startswith(package + ".")} & names - {path.stem}
    return graph


def _a_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import circle in ``graph`` (``[a, b, a]``), or ``[]``."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> list[str]:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [node, nxt] if nxt in path else [node, nxt]
            if nxt not in state and (found := visit(nxt, path + [node])):
                return found
        state[node] = 2
        return []

    for start in sorted(graph):
        if start not in state and (found := visit(start, [])):
            return found
    return []


def test_services_import_each_other_without_a_circle():
    graph = _services_graph(PORTAL / "services")
    assert {"calendar", "cases", "holiday_table"} <= graph.keys()
    assert "calendar" in graph["cases"]  # cases count deadlines with the calendar …
    assert _a_cycle(graph) == []  # … so the calendar's staff verbs that recount cases live above both


def test_the_cycle_finder_finds_a_circle(tmp_path, monkeypatch):
    pkg = tmp_path / "portal" / "services"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from .b import x\n")
    (pkg / "b.py").write_text("from . import c\n")
    (pkg / "c.py").write_text("def f():\n    from portal.services.a import y\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    graph = _services_graph(pkg)
    assert graph == {"a": {"b"}, "b": {"c"}, "c": {"a"}}
    assert _a_cycle(graph) == ["a", "b", "c", "a"]
    assert _a_cycle({"a": {"b"}, "b": set()}) == []
