"""How long each clinic report takes at a million injection sessions: ``python bench/reports.py``

Runs on the benchmark database of bench/load.py (``--database``, default bench_clinic beside
DATABASE_URL's; loaded first when it is not there: 208,000 patients, about 1,000,000 sessions).

Each report of clinic/reports.py runs --rounds times with no filters and with typical
filters (treatment PRP; the last 12 months); recall asks for the most frequent lot number (no
filters; the last 12 months) and course_responses for the course with the most outcome scores.
It prints the median, fastest and slowest time and the number of rows, and exits non-zero if a
report raises. With --explain it also prints EXPLAIN (ANALYZE, BUFFERS) of the slowest case of
every report whose median is above --slow seconds.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clinic python bench/reports.py --explain
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
from typing import Any

import load  # bench/load.py, beside this script

MOST_FREQUENT_LOT_SQL = """
    SELECT lot_number, count(*) FROM treatments_injectate WHERE lot_number <> ''
    GROUP BY lot_number ORDER BY count(*) DESC, lot_number LIMIT 1
"""
BUSIEST_COURSE_SQL = """
    SELECT o.course_id, count(*) FROM patients_outcomescore o WHERE o.course_id IS NOT NULL
    GROUP BY o.course_id ORDER BY count(*) DESC, o.course_id LIMIT 1
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default="bench_clinic", help="bench/load.py's database")
    load.add_arguments(parser)
    parser.add_argument("--rounds", type=int, default=3, help="runs of each report")
    parser.add_argument("--slow", type=float, default=1.0, help="seconds; flagged above this")
    parser.add_argument("--explain", action="store_true", help="plans of the slow reports")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    load.loaded_database(args.database, args)
    results = [time_case(case, args.rounds) for case in cases()]
    print_table(results, args.rounds, args.slow)
    if args.explain:
        explain_slow(results, args.slow)
    failures = sum(1 for result in results if result.error)
    if failures:
        sys.exit(f"{failures} report run(s) raised")


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

    from reports import selectors as reports
    from reports.selectors import ReportFilters

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
