"""``credit-portal backup DIR`` / ``credit-portal restore DIR`` (issue 17, Operations).

A backup directory holds:

* the database: ``portal.sqlite3`` made with SQLite's online backup API (a consistent copy while
  the portal keeps serving), or ``portal.pgdump`` from ``pg_dump -Fc`` of the portal's schema
  (PostgreSQL; needs the ``pg_dump`` of the server's major version or newer);
* ``var/``: what of ``PORTAL_VAR_DIR`` cannot be rebuilt: the development keys
  (``dev-secrets.json``, ``dev-idp-key.json``, present only where the keys are not set in the
  environment), uploaded evidence (``evidence/``) and printed plate batches (``plate-batches/``);
* ``audit-checkpoints.jsonl``: the signed audit checkpoints (``PORTAL_AUDIT_CHECKPOINT_FILE``),
  without which ``audit verify`` cannot find deleted latest events;
* ``manifest.json``: what was taken, with SHA-256 sums checked before anything is restored.

Not in it: the search index (rebuilt after a restore) and keys set in the environment
(``PORTAL_SECRET_KEY``, ``PORTAL_DATA_KEY``, ``PORTAL_AUDIT_KEY``): keep the ``.env`` apart from
the backup, since a backup with its keys next to it is a readable copy of every ID number.

``restore`` refuses a database that has tables and a var dir whose files differ from the
backup's, so nothing is overwritten or half-written; it then migrates to head and the caller
rebuilds the index.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

FORMAT = 1
VAR_FILES = ("dev-secrets.json", "dev-idp-key.json")
VAR_DIRS = ("evidence", "plate-batches")
CHECKPOINTS = "audit-checkpoints.jsonl"
MANIFEST = "manifest.json"


class BackupError(RuntimeError):
    """A refusal, its message in Chinese."""


@dataclass
class Manifest:
    created_at: str
    database: str  # "sqlite" | "postgresql"
    files: dict[str, str]  # relative path -> sha256
    schema: str = ""  # PostgreSQL: the schema dumped (restored under the same name)

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, "created_at": self.created_at, "database": self.database,
                           "schema": self.schema, "files": self.files}, ensure_ascii=False, indent=1,
                          sort_keys=True)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _kind(url: str) -> str:
    name = make_url(url).get_backend_name()
    if name not in ("sqlite", "postgresql"):
        raise BackupError(f"不支持备份此类数据库：{name}")
    return name


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URI for pg_dump/pg_restore without the password (that goes in PGPASSWORD, not
    on a command line every user can read in ``ps``), and without the portal's own URL options
    (``pgbouncer=1``, ``db.pooler``): libpq refuses parameters it does not know. pg_dump and
    pg_restore need a direct connection to the server (session state, ``-c`` options): with
    ``pgbouncer=1`` the URL must still name the server itself, not the pooler (README, backup)."""
    from .db import pooler

    u, _ = pooler.split(url)
    env = {**os.environ}
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    return u.set(drivername="postgresql", password=None).render_as_string(hide_password=False), env


def _direct_hint(url: str) -> str:
    """A failed pg_dump/pg_restore through a URL marked ``pgbouncer=1``: the likely cause."""
    from .db import pooler

    return ("；DATABASE_URL 标有 pgbouncer=1：备份与恢复须直连 PostgreSQL 服务器（主机和端口指向服务器本身，"
            "不经 pgbouncer）" if pooler.split(url)[1] else "")


def pg_tool(name: str) -> str | None:
    return shutil.which(name)


def _current_schema(engine) -> str:
    """The schema the portal's tables are in: ``current_schema()``, or (in a fresh database
    where it does not exist yet) the first name on ``search_path``."""
    with engine.connect() as conn:
        current = conn.execute(text("SELECT current_schema()")).scalar_one()
        if current:
            return current
        path = conn.execute(text("SHOW search_path")).scalar_one()
    names = [p.strip().strip('"') for p in path.split(",") if p.strip() and p.strip() != '"$user"']
    return names[0] if names else "public"


def backup(settings: dict[str, str], engine, dest: Path) -> Manifest:
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"备份目录 {dest} 不是空目录，为避免覆盖已拒绝")
    kind = _kind(settings["DATABASE_URL"])
    if kind == "postgresql" and not pg_tool("pg_dump"):
        raise BackupError("找不到 pg_dump，无法备份 PostgreSQL 数据库（请安装与服务器版本一致的 PostgreSQL 客户端）")
    schema = _current_schema(engine) if kind == "postgresql" else ""
    dest.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(dest, 0o700)  # keys and personal data: the owner only
    if kind == "sqlite":
        target = sqlite3.connect(dest / "portal.sqlite3")
        raw = engine.raw_connection()
        try:
            raw.driver_connection.backup(target)  # online: a consistent copy while writers go on
        finally:
            raw.close()
            target.close()
    else:
        uri, env = _libpq(settings["DATABASE_URL"])
        done = subprocess.run([pg_tool("pg_dump"), "-Fc", "--no-owner", "--no-privileges", "-n", schema,
                               "-f", str(dest / "portal.pgdump"), "-d", uri],
                              env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise BackupError(f"pg_dump 失败：{done.stderr.strip()[:500]}{_direct_hint(settings['DATABASE_URL'])}")
    var = Path(settings["PORTAL_VAR_DIR"])
    for name in VAR_FILES:
        if (var / name).is_file():
            (dest / "var").mkdir(exist_ok=True)
            shutil.copy2(var / name, dest / "var" / name)
    for name in VAR_DIRS:
        if (var / name).is_dir():
            shutil.copytree(var / name, dest / "var" / name)
    checkpoints = Path(settings["PORTAL_AUDIT_CHECKPOINT_FILE"])
    if checkpoints.is_file():
        shutil.copy2(checkpoints, dest / CHECKPOINTS)
    files = {str(p.relative_to(dest)): _sha256(p) for p in sorted(dest.rglob("*")) if p.is_file()}
    manifest = Manifest(datetime.now(UTC).isoformat(timespec="seconds"), kind, files, schema)
    (dest / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
    return manifest


def read_manifest(src: Path) -> Manifest:
    path = Path(src) / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        manifest = Manifest(data["created_at"], data["database"], dict(data["files"]), str(data.get("schema", "")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"{src} 不是完整的备份目录（manifest.json 缺失或损坏）") from exc
    if data.get("format") != FORMAT:
        raise BackupError(f"备份格式 {data.get('format')!r} 不受支持")
    for rel, digest in manifest.files.items():
        p = Path(src) / rel
        if ".." in Path(rel).parts or not p.is_file() or _sha256(p) != digest:
            raise BackupError(f"备份文件 {rel} 缺失或已损坏（校验和不符）")
    return manifest


def _check_var(src: Path, var: Path, checkpoint_file: Path) -> list[tuple[Path, Path]]:
    """The copies to make, refusing any that would replace a different existing file."""
    copies = []
    backup_var = src / "var"
    if backup_var.is_dir():
        for p in sorted(backup_var.rglob("*")):
            if p.is_file():
                copies.append((p, var / p.relative_to(backup_var)))
    if (src / CHECKPOINTS).is_file():
        copies.append((src / CHECKPOINTS, checkpoint_file))
    for source, target in copies:
        if target.exists() and target.stat().st_size and _sha256(target) != _sha256(source):
            raise BackupError(f"{target} 已存在且与备份不同；请恢复到新的运行数据目录")
    return copies


def restore_files(settings: dict[str, str], src: Path) -> Manifest:
    """Check the backup and put its var files in place (before the runtime reads its keys)."""
    src = Path(src)
    manifest = read_manifest(src)
    kind = _kind(settings["DATABASE_URL"])
    if manifest.database != kind:
        raise BackupError(f"备份来自 {manifest.database} 数据库，不能恢复到 {kind}（DATABASE_URL）")
    if kind == "postgresql" and not pg_tool("pg_restore"):
        raise BackupError("找不到 pg_restore，无法恢复 PostgreSQL 数据库")
    _refuse_nonempty(settings["DATABASE_URL"])
    copies = _check_var(src, Path(settings["PORTAL_VAR_DIR"]), Path(settings["PORTAL_AUDIT_CHECKPOINT_FILE"]))
    for source, target in copies:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    return manifest


def _refuse_nonempty(url: str) -> None:
    from .db import make_engine

    engine = make_engine(url)
    try:
        tables = inspect(engine).get_table_names()
    finally:
        engine.dispose()
    if tables:
        raise BackupError("目标数据库不是空库（已有数据表）；请恢复到新建的空数据库，以免覆盖现有数据")


def restore_database(settings: dict[str, str], engine, src: Path, manifest_schema: str = "") -> None:
    src = Path(src)
    if _kind(settings["DATABASE_URL"]) == "sqlite":
        source = sqlite3.connect(f"file:{src / 'portal.sqlite3'}?mode=ro", uri=True)
        raw = engine.raw_connection()
        try:
            source.backup(raw.driver_connection)
        finally:
            raw.close()
            source.close()
        engine.dispose()
        return
    uri, env = _libpq(settings["DATABASE_URL"])
    dump = str(src / "portal.pgdump")
    listing = subprocess.run([pg_tool("pg_restore"), "-l", dump], env=env, capture_output=True, text=True)
    if listing.returncode != 0:
        raise BackupError(f"pg_restore 无法读取备份：{listing.stderr.strip()[:500]}")
    schema = _current_schema(engine)
    if manifest_schema and schema != manifest_schema:
        raise BackupError(f"备份的是模式 {manifest_schema}，而 DATABASE_URL 指向模式 {schema}；"
                          f"请让 search_path 指向同名模式（新建的空数据库中）")
    with engine.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": schema}).first()
    # the target schema (public, or the one search_path names) usually exists already: skip its CREATE
    entries = [line for line in listing.stdout.splitlines()
               if not (exists and f" SCHEMA - {schema} " in line + " ")]
    list_file = src.parent / f".restore-{os.getpid()}.list" if not os.access(src, os.W_OK) else src / ".restore.list"
    list_file.write_text("\n".join(entries) + "\n")
    try:
        done = subprocess.run([pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
                               "--single-transaction", "-L", str(list_file), "-d", uri, dump],
                              env=env, capture_output=True, text=True)
    finally:
        list_file.unlink(missing_ok=True)
    if done.returncode != 0:
        raise BackupError(f"pg_restore 失败（未写入任何内容）：{done.stderr.strip()[:500]}"
                          f"{_direct_hint(settings['DATABASE_URL'])}")
    engine.dispose()
