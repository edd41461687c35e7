"""Benchmark data at clinic-network size: ``python bench/load.py --database NAME``.

Makes database NAME beside DATABASE_URL's (kept; a second run finds it loaded and only
migrates it), migrates it and seeds it with ``seed_demo --patients 2000 --seed 1`` (about
10,000 sessions, 3 clinicians, distributions as seed_demo draws them). Then it multiplies the
seeded records in SQL until there are at least --sessions injection sessions: users and their
groups, patients, conditions, courses, sessions, injectates, sites, side effects, follow-ups and
outcome scores are copied k times (k = 1, 2, ...) with new ids (old id + k * the table's
largest id, foreign keys moved the same way), every date and time moved back k * --shift-days
days (birth dates stay), new MRNs from the MRN sequence and usernames with "-k" added. Each copy
is another clinic of the network: its own 3 clinicians with 1,000 patients each, so no copied
booking overlaps another of the same clinician. The defaults give 208,000 patients and about
1,000,000 sessions.

The copies are bench data: they are loaded with session_replication_role = replica, so no
trigger runs for them (no history events, no audit chain entries, no signed-session or date
protection, no foreign key checks); the copies keep every check, exclusion and unique
constraint, and the course changes the outcomes reports read are worked out for all of them
afterwards, as the triggers would have. Reminders are not copied. Afterwards the tables are
vacuumed and analysed, as autovacuum would have done on a live database.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The tables copied, in the order their rows refer to each other.
COPIED = (
    "auth_user",
    "auth_user_groups",
    "patients_patient",
    "patients_condition",
    "treatments_treatmentcourse",
    "treatments_injectionsession",
    "treatments_injectate",
    "treatments_injectionsite",
    "treatments_sideeffect",
    "treatments_followup",
    "patients_outcomescore",
)
VACUUMED = (*COPIED, "clinic_coursechange")
SESSIONS_TABLE = "treatments_injectionsession"
# Unique columns the copies take from their column default instead (a new MRN each).
REGENERATED = {"patients_patient": frozenset({"mrn"})}
# Unique columns the copies write another way.
REWRITTEN = {"auth_user": {"username": "t.username || '-' || k.n"}}
# Dates that stay as they are in the copies.
UNSHIFTED = frozenset({"birth_date"})

COLUMNS_SQL = """
    SELECT a.attname, format_type(a.atttypid, NULL)
    FROM pg_attribute a
    WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped
      AND a.attgenerated = ''
    ORDER BY a.attnum
"""
FOREIGN_KEYS_SQL = """
    SELECT a.attname, c.confrelid::regclass::text
    FROM pg_constraint c
    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
    WHERE c.contype = 'f' AND c.conrelid = %s::regclass AND cardinality(c.conkey) = 1
"""
SETTINGS_SQL = """
    SELECT current_setting('server_version'), current_setting('work_mem'),
           current_setting('shared_buffers'), current_setting('jit'),
           current_setting('max_parallel_workers_per_gather')
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default="bench_clinic", help="kept under this name")
    add_arguments(parser)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    loaded_database(args.database, args)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sessions", type=int, default=1_000_000, help="at least this many")
    parser.add_argument("--patients", type=int, default=2000, help="seeded before copying")
    parser.add_argument("--shift-days", type=int, default=7, help="dates move back per copy")


def loaded_database(name: str, args: argparse.Namespace) -> str:
    """Point DATABASE_URL at database ``name`` (made and loaded unless it is there already),
    migrate it, set up Django, and return its URL."""
    url, fresh = kept_database(name)
    os.environ["DATABASE_URL"] = url
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    if not fresh:
        with connection.cursor() as cursor:
            counts = row_counts(cursor)
        summary = ", ".join(f"{table} {count:,}" for table, count in counts.items())
        print(f"reusing loaded database {name}: {summary}")
        return url
    started = time.perf_counter()
    call_command("seed_demo", patients=args.patients, seed=1, verbosity=0)
    seeded_s = time.perf_counter() - started
    print(f"seed_demo --patients {args.patients} --seed 1: {seeded_s:.1f} s")
    with connection.cursor() as cursor:
        before = row_counts(cursor)
        started = time.perf_counter()
        copies, vacuum_s = load(cursor, args.sessions, args.shift_days)
        load_s = time.perf_counter() - started
        after = row_counts(cursor)
        cursor.execute(SETTINGS_SQL)
        version, work_mem, shared_buffers, jit, workers = cursor.fetchone()
    print(
        f"loaded {copies} copies of the seeded records in {load_s:.1f} s "
        f"(of which VACUUM ANALYZE {vacuum_s:.1f} s); with seeding {seeded_s + load_s:.1f} s"
    )
    print(f"{'table':<30}{'seeded':>12}{'rows now':>14}")
    for table in COPIED:
        print(f"{table:<30}{before[table]:>12,}{after[table]:>14,}")
    print(
        f"PostgreSQL {version}, work_mem {work_mem}, shared_buffers {shared_buffers}, "
        f"jit {jit}, max_parallel_workers_per_gather {workers}"
    )
    print()
    return url


def kept_database(name: str) -> tuple[str, bool]:
    """The URL of database ``name`` beside DATABASE_URL's, and whether it was just made."""
    import psycopg
    from psycopg import sql

    if "DATABASE_URL" not in os.environ:
        sys.exit("Set DATABASE_URL to a PostgreSQL server where a bench database may be made.")
    parts = urlsplit(os.environ["DATABASE_URL"])
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return urlunsplit(parts._replace(path=f"/{name}")), not exists


def row_counts(cursor: Any) -> dict[str, int]:
    counts = {}
    for table in COPIED:
        cursor.execute(f"SELECT count(*) FROM {quoted(table)}")  # noqa: S608 (a constant name)
        counts[table] = cursor.fetchone()[0]
    return counts


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def load(cursor: Any, sessions: int, shift_days: int) -> tuple[int, float]:
    """Copy the seeded records until there are at least ``sessions`` sessions; return the
    number of copies and the seconds VACUUM ANALYZE took."""
    offsets = {}
    for table in COPIED:
        cursor.execute(f"SELECT coalesce(max(id), 0) FROM {quoted(table)}")  # noqa: S608 (constant)
        offsets[table] = int(cursor.fetchone()[0])
    cursor.execute(f"SELECT count(*) FROM {quoted(SESSIONS_TABLE)}")  # noqa: S608 (constant)
    seeded = int(cursor.fetchone()[0])
    if not seeded:
        raise RuntimeError("seed_demo made no sessions")
    copies = max(0, math.ceil(sessions / seeded) - 1)
    params = {"copies": copies, "shift": shift_days} | {
        f"off_{table}": offset for table, offset in offsets.items()
    }
    cursor.execute("SET session_replication_role = replica")  # bench rows: no triggers
    try:
        for table in COPIED:
            started = time.perf_counter()
            cursor.execute(copy_sql(cursor, table), params)
            elapsed = time.perf_counter() - started
            print(f"  {table}: {cursor.rowcount:,} rows copied in {elapsed:.1f} s")
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)",
                [table, offsets[table] * (copies + 1) or 1],
            )
    finally:
        cursor.execute("SET session_replication_role = origin")
    started = time.perf_counter()
    cursor.execute("SELECT clinic_course_changes_refresh(NULL)")  # what the triggers would do
    print(f"  clinic_coursechange: worked out in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    for table in VACUUMED:
        cursor.execute(f"VACUUM (ANALYZE) {quoted(table)}")
    return copies, time.perf_counter() - started


def copy_sql(cursor: Any, table: str) -> str:
    """INSERT ... SELECT of every copy of the table's seeded rows (ids up to its offset).

    Identifiers come from the catalog of the tables above; every number is a bound parameter.
    """
    cursor.execute(FOREIGN_KEYS_SQL, [table])
    references = {column: target for column, target in cursor.fetchall() if target in COPIED}
    cursor.execute(COLUMNS_SQL, [table])
    names, values = [], []
    for column, kind in cursor.fetchall():
        if column in REGENERATED.get(table, ()):
            continue
        source = f"t.{quoted(column)}"
        if column in REWRITTEN.get(table, {}):
            value = REWRITTEN[table][column]
        elif column == "id":
            value = f"{source} + k.n * %(off_{table})s::bigint"
        elif column in references:
            value = f"{source} + k.n * %(off_{references[column]})s::bigint"
        elif kind == "date" and column not in UNSHIFTED:
            value = f"{source} - k.n * %(shift)s::int"
        elif kind.startswith("timestamp") and column not in UNSHIFTED:
            value = f"{source} - k.n * %(shift)s::int * interval '1 day'"
        else:
            value = source
        names.append(quoted(column))
        values.append(value)
    return (
        f"INSERT INTO {quoted(table)} ({', '.join(names)}) "  # noqa: S608 (catalog names)
        f"SELECT {', '.join(values)} "
        f"FROM generate_series(1, %(copies)s::int) AS k(n) CROSS JOIN {quoted(table)} AS t "
        f"WHERE t.id <= %(off_{table})s ORDER BY k.n, t.id"
    )


if __name__ == "__main__":
    main()
