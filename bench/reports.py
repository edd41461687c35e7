"""How long each clinic report takes at a million injection sessions: ``python bench/reports.py``

Makes a scratch database beside DATABASE_URL's (dropped afterwards), migrates it and seeds it
with ``seed_demo --patients 2000 --seed 1`` (about 10,000 sessions). Then it multiplies the
seeded records in SQL until there are at least --sessions injection sessions: patients,
conditions, courses, sessions, injectates, sites, side effects and outcome scores are copied k
times (k = 1, 2, ...) with new ids (old id + k * the table's largest id, foreign keys moved the
same way), every date and time moved back k * --shift-days days (birth dates stay), and new
MRNs from the MRN sequence. The copies are bench data: they are loaded with
session_replication_role = replica, so no trigger runs for them (no history events, no audit
chain entries, no signed-session or date protection, no foreign key checks); the copies keep
every check constraint and unique index. Afterwards the role is back to origin and the tables
are vacuumed and analysed, as autovacuum would have done on a live database.

Each report of clinic/reports.py then runs --rounds times with no filters and with typical
filters (treatment PRP; the last 12 months); recall asks for the most frequent lot number (no
filters; the last 12 months) and course_responses for the course with the most outcome scores.
It prints the median, fastest and slowest time and the number of rows, and exits non-zero if a
report raises. With --explain it also prints EXPLAIN (ANALYZE, BUFFERS) of the slowest case of
every report whose median is above --slow seconds.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clinic python bench/reports.py --explain

With --keep NAME the loaded database is kept under that name and reused by the next run (it is
migrated, not loaded again): for timing the reports again after changing them.
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import statistics
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from scratch import scratch_database  # bench/scratch.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The tables copied, in the order their rows refer to each other.
COPIED = (
    "patients_patient",
    "patients_condition",
    "treatments_treatmentcourse",
    "treatments_injectionsession",
    "treatments_injectate",
    "treatments_injectionsite",
    "treatments_sideeffect",
    "patients_outcomescore",
)
SESSIONS_TABLE = "treatments_injectionsession"
# Unique columns the copies take from their column default instead (a new MRN each).
REGENERATED = {"patients_patient": frozenset({"mrn"})}
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
MOST_FREQUENT_LOT_SQL = """
    SELECT lot_number, count(*) FROM treatments_injectate WHERE lot_number <> ''
    GROUP BY lot_number ORDER BY count(*) DESC, lot_number LIMIT 1
"""
BUSIEST_COURSE_SQL = """
    SELECT o.course_id, count(*) FROM patients_outcomescore o WHERE o.course_id IS NOT NULL
    GROUP BY o.course_id ORDER BY count(*) DESC, o.course_id LIMIT 1
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
    parser.add_argument("--sessions", type=int, default=1_000_000, help="at least this many")
    parser.add_argument("--patients", type=int, default=2000, help="seeded before copying")
    parser.add_argument("--shift-days", type=int, default=7, help="dates move back per copy")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each report")
    parser.add_argument("--slow", type=float, default=1.0, help="seconds; flagged above this")
    parser.add_argument("--explain", action="store_true", help="plans of the slow reports")
    parser.add_argument(
        "--keep",
        metavar="NAME",
        help="load into database NAME beside DATABASE_URL's and keep it; reuse it when it is "
        "there already (no seeding), to time reports again after a change",
    )
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    if args.keep:
        url, fresh = kept_database(args.keep)
        failures = timed(args, url, fresh)
    else:
        with scratch_database("bench_reports") as url:
            failures = timed(args, url, fresh=True)
    if failures:
        sys.exit(f"{failures} report run(s) raised")


def kept_database(name: str) -> tuple[str, bool]:
    """The URL of database ``name`` beside DATABASE_URL's, and whether it was just made."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(os.environ["DATABASE_URL"])
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return urlunsplit(parts._replace(path=f"/{name}")), not exists


def timed(args: argparse.Namespace, url: str, fresh: bool) -> int:
    os.environ["DATABASE_URL"] = url
    try:
        return run(args, fresh)
    finally:
        from django.db import connections

        connections.close_all()


def run(args: argparse.Namespace, fresh: bool = True) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    if not fresh:
        with connection.cursor() as cursor:
            print(f"reusing the loaded database: {row_counts(cursor)}")
        results = [time_case(case, args.rounds) for case in cases()]
        print_table(results, args.rounds, args.slow)
        if args.explain:
            explain_slow(results, args.slow)
        return sum(1 for result in results if result.error)
    started = time.perf_counter()
    call_command("seed_demo", patients=args.patients, seed=1, verbosity=0)
    print(f"seed_demo --patients {args.patients} --seed 1: {time.perf_counter() - started:.1f} s")
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
        f"(of which VACUUM ANALYZE {vacuum_s:.1f} s)"
    )
    print(f"{'table':<30}{'seeded':>12}{'rows now':>14}")
    for table in COPIED:
        print(f"{table:<30}{before[table]:>12,}{after[table]:>14,}")
    print(
        f"PostgreSQL {version}, work_mem {work_mem}, shared_buffers {shared_buffers}, "
        f"jit {jit}, max_parallel_workers_per_gather {workers}"
    )
    print()
    results = [time_case(case, args.rounds) for case in cases()]
    print_table(results, args.rounds, args.slow)
    if args.explain:
        explain_slow(results, args.slow)
    return sum(1 for result in results if result.error)


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
    for table in COPIED:
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
        if column == "id":
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


@dataclass
class Case:
    report: str
    filters: str
    call: Callable[[], list[dict[str, Any]]]


@dataclass
class Result:
    case: Case
    seconds: list[float] = field(default_factory=list)
    rows: int = 0
    error: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.seconds) if self.seconds else math.inf


def cases() -> list[Case]:
    from django.db import connection
    from django.utils import timezone

    from clinic import reports
    from clinic.reports import ReportFilters

    today = timezone.localdate()
    filter_sets = [
        ("none", ReportFilters()),
        ("treatment=prp", ReportFilters(treatment="prp")),
        (
            "last 12 months",
            ReportFilters(date_from=today - datetime.timedelta(days=365), date_to=today),
        ),
    ]
    with connection.cursor() as cursor:
        cursor.execute(MOST_FREQUENT_LOT_SQL)
        lot, lot_count = cursor.fetchone()
        cursor.execute(BUSIEST_COURSE_SQL)
        course, course_scores = cursor.fetchone()
    print(f"recall: lot {lot!r} ({lot_count:,} injectates, the most frequent non-empty lot)")
    print(f"course_responses: course {course} ({course_scores} outcome scores, the most)")
    print()
    found: list[Case] = []
    for name in ("outcomes", "safety", "serious_events", "activity", "courses_ended"):
        report = getattr(reports, name)
        for label, filters in filter_sets:
            found.append(Case(name, label, lambda r=report, f=filters: r(f)))
    for label, filters in (filter_sets[0], filter_sets[2]):  # the lot is no PRP product
        found.append(
            Case(
                "recall",
                f"lot, {label}" if label != "none" else "lot",
                lambda f=filters: reports.recall(lot_number=lot, filters=f),
            )
        )
    found.append(
        Case(
            "course_responses",
            f"course {course}",
            lambda: reports.course_responses(course_id=course),
        )
    )
    return found


def time_case(case: Case, rounds: int) -> Result:
    result = Result(case)
    for _ in range(rounds):
        started = time.perf_counter()
        try:
            rows = case.call()
        except Exception:
            result.error = traceback.format_exc(limit=3)
            print(f"{case.report} ({case.filters}) raised:\n{result.error}", file=sys.stderr)
            return result
        result.seconds.append(time.perf_counter() - started)
        result.rows = len(rows)
    return result


def print_table(results: list[Result], rounds: int, slow: float) -> None:
    print(f"each report run {rounds} times; times in ms")
    header = f"{'report':<18}{'filters':<26}{'median':>10}{'fastest':>10}{'slowest':>10}"
    print(f"{header}{'rows':>9}")
    print("-" * (len(header) + 9))
    for result in results:
        case = result.case
        if result.error:
            print(f"{case.report:<18}{case.filters:<26}{'ERROR':>10}")
            continue
        flag = f"  > {slow:g} s" if result.median > slow else ""
        print(
            f"{case.report:<18}{case.filters:<26}{result.median * 1000:>10.1f}"
            f"{min(result.seconds) * 1000:>10.1f}{max(result.seconds) * 1000:>10.1f}"
            f"{result.rows:>9,}{flag}"
        )


def explain_slow(results: list[Result], slow: float) -> None:
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    slowest: dict[str, Result] = {}
    for result in results:
        if result.error or result.median <= slow:
            continue
        if result.case.report not in slowest or result.median > slowest[result.case.report].median:
            slowest[result.case.report] = result
    for result in slowest.values():
        with CaptureQueriesContext(connection) as captured:
            result.case.call()
        query = max(captured.captured_queries, key=lambda q: float(q["time"]))["sql"]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {query}")
            plan = "\n".join(f"    {row[0]}" for row in cursor.fetchall())
            transaction.set_rollback(True)
        print(
            f"\nEXPLAIN (ANALYZE, BUFFERS) of {result.case.report} ({result.case.filters}), "
            f"median {result.median:.2f} s:\n{plan}"
        )


if __name__ == "__main__":
    main()
