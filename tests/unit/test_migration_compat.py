"""Zero-downtime upgrades (issue #17): the web nodes are restarted one at a time after
``credit-portal db upgrade``, so for a while the previous release's code runs against the new
schema. Every migration's ``upgrade()`` is therefore *expand only*: new tables, new nullable
columns or columns with a server default, new indexes, data back-fills. Removing or reshaping
what the previous release reads or writes (dropping or renaming a table or column, making a
column NOT NULL, changing its type) is a *contract* step: it goes in a later release, in a
migration that says which release stopped using the object (module-level ``CONTRACT = "…"``),
and README ("Upgrade order") lists it.

Read from the migration files' syntax tree, so a new migration is checked the day it is added.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

VERSIONS = Path(__file__).resolve().parents[2] / "portal" / "migrations" / "versions"
CONTRACT_OPS = {"drop_table", "drop_column", "rename_table"}
CONTRACT_SQL = re.compile(r"\b(DROP\s+(TABLE|COLUMN)|RENAME\s+(TO|COLUMN)|ALTER\s+COLUMN\s+\S+\s+(TYPE|SET\s+NOT\s+NULL))\b",
                          re.IGNORECASE)


def _keywords(call: ast.Call) -> dict[str, str]:
    return {k.arg: ast.unparse(k.value) for k in call.keywords if k.arg}


def contract_steps(source: str) -> list[str]:
    """What an ``upgrade()`` does that the previous release's code may not survive."""
    tree = ast.parse(source)
    found: list[tuple[int, str]] = []
    for fn in tree.body:
        if not (isinstance(fn, ast.FunctionDef) and fn.name == "upgrade"):
            continue
        for node in ast.walk(fn):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            op, line = node.func.attr, node.lineno
            if op in CONTRACT_OPS:
                found.append((line, op))
            elif op == "alter_column":
                kw = _keywords(node)
                if "new_column_name" in kw or "type_" in kw or kw.get("nullable") == "False":
                    found.append((line, f"alter_column {sorted(kw)}"))
            elif op == "add_column":
                for col in (a for a in node.args if isinstance(a, ast.Call)):
                    kw = _keywords(col)
                    if kw.get("nullable") == "False" and "server_default" not in kw:
                        found.append((line, "NOT NULL column without server_default"))
            elif op == "execute":
                for text in (a.value for a in ast.walk(node) if isinstance(a, ast.Constant) and isinstance(a.value, str)):
                    if CONTRACT_SQL.search(text):
                        found.append((line, f"SQL {text[:60]!r}"))
    return [f"line {line}: {what}" for line, what in sorted(found)]


def _declares_contract(source: str) -> bool:
    return any(isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "CONTRACT" for t in n.targets)
               for n in ast.parse(source).body)


MIGRATIONS = sorted(VERSIONS.glob("[0-9]*.py"))


@pytest.mark.parametrize("path", MIGRATIONS, ids=[p.stem for p in MIGRATIONS])
def test_upgrade_is_expand_only_unless_declared(path):
    source = path.read_text(encoding="utf-8")
    steps = contract_steps(source)
    assert not steps or _declares_contract(source), (
        f"{path.name} removes or reshapes what the previous release uses ({steps}); move it to a later "
        "release's migration with CONTRACT = '…' and list it in README's upgrade order")


def test_the_check_sees_contract_steps():
    """The checker itself: each kind of contract step is found, expand steps are not."""
    src = '''
def upgrade():
    op.create_table("t", sa.Column("id", sa.Integer()))
    with op.batch_alter_table("u") as batch:
        batch.add_column(sa.Column("a", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("b", sa.Text(), nullable=True))
        batch.add_column(sa.Column("c", sa.Text(), nullable=False))
        batch.drop_column("d")
        batch.alter_column("e", new_column_name="f")
        batch.alter_column("g", nullable=False)
    op.execute("UPDATE u SET a = 'x'")
    op.execute("ALTER TABLE u DROP COLUMN h")
    op.drop_table("v")

def downgrade():
    op.drop_table("t")
'''
    steps = contract_steps(src)
    assert [s.split(": ", 1)[1].split(" ")[0] for s in steps] == [
        "NOT", "drop_column", "alter_column", "alter_column", "SQL", "drop_table"]
    assert not _declares_contract(src) and _declares_contract('CONTRACT = "1.4 stopped reading d"\n' + src)
