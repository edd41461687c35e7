"""`make bench`: the API at clinic-network size, under gunicorn, against its floor.

1. The data: bench/load.py's database (``--database``, default bench_clinic beside
   DATABASE_URL's: 208,000 patients, about 1,000,000 sessions), loaded when it is not there.
2. A plan (var/bench/plan.json): a clinician and a front-desk account with API tokens (the
   API) and signed-in sessions (the screens), and ids and values sampled from the data
   (patients, the patients whose session count is nearest 20 for timelines, surnames and MRNs
   to search, clinicians' working days, booked agenda days, the most used lot number).
3. gunicorn serving bench/serve.py (the app, plus bench/floor.py under /floor/) on loopback
   with --workers processes of --threads threads each.
4. Quiet passes, one request at a time: each operation --samples times (reports 3), the
   read operations alternating with the floor's request for the same result, which gives the
   ratio of our median to the floor's and the queries per request (X-Queries). The floor runs
   the app's statements (token, data, access log) and must answer the same JSON; the data
   floor only the data's (as a clinician reads it). Then the session list's cursor walked to
   page 1000, and page 1 and page 1000 timed alternately.
5. The load: locust headless, --users clients (one clinic admin running a report every 20-40 s;
   the others clinicians and front desk 3 : 1, 0.5-1.5 s between requests) joining over about
   8 s, then for the rest of --duration seconds. Its table: throughput, p50/p95/p99 and errors
   per operation; the time each operation spent in the server; each worker's resident memory
   before and after.
6. The capacity pass (bench/capacity.py, when wrk is installed): the reads, the floor's and the
   data floor's same reads, and the mixed load, closed loop at 16 and 32 connections for
   --capacity-seconds each; requests a second, p50/p99, and the app's share of the floor.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clinic make bench
    .venv/bin/python bench/run.py --duration 600       # a soak

Exits non-zero when any request failed.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import capacity  # bench/capacity.py, beside this script
import load
from ops import OPS, credentials

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = ROOT / "var" / "bench"
ACCESS_LOG = OUT / "access.log"
BIN = Path(sys.executable).parent

SAMPLES_SQL = {
    "patients": "SELECT id FROM patients_patient ORDER BY random() LIMIT 2000",
    "timeline_patients": """
        SELECT patient_id FROM treatments_injectionsession GROUP BY patient_id
        ORDER BY abs(count(*) - 20), random() LIMIT 500""",
    "search": """
        (SELECT family_name FROM patients_patient ORDER BY random() LIMIT 300)
        UNION ALL (SELECT mrn FROM patients_patient ORDER BY random() LIMIT 100)""",
    # Loaded clinicians only, not the bench's own accounts.
    "clinician_days": """
        SELECT clinician_id, (performed_at AT TIME ZONE 'UTC')::date::text
        FROM treatments_injectionsession
        WHERE clinician_id NOT IN (SELECT id FROM auth_user WHERE username LIKE 'bench-%')
        ORDER BY random() LIMIT 500""",
    "agenda": """
        SELECT (starts_at AT TIME ZONE 'UTC')::date::text, clinician_id FROM treatments_followup
        WHERE status <> 'cancelled' AND starts_at BETWEEN now() - interval '30 days'
          AND now() + interval '30 days'
          AND clinician_id NOT IN (SELECT id FROM auth_user WHERE username LIKE 'bench-%')
        ORDER BY random() LIMIT 500""",
}
TIMELINE_SESSIONS_SQL = """
    SELECT avg(n) FROM (SELECT count(*) AS n FROM treatments_injectionsession
    WHERE patient_id = ANY(%s) GROUP BY patient_id) AS counts
"""
LOT_SQL = """
    SELECT lot_number FROM treatments_injectate WHERE lot_number <> ''
    GROUP BY lot_number ORDER BY count(*) DESC, lot_number LIMIT 1
"""
TARGET_P95_MS = {
    "patient detail": 50,
    "timeline": 50,
    "session list": 50,
    "agenda": 50,
    "session create": 100,
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default="bench_clinic", help="bench/load.py's database")
    load.add_arguments(parser)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn processes")
    parser.add_argument(
        "--threads", type=int, default=1, help="threads per process (>1: a connection pool)"
    )
    parser.add_argument("--port", type=int, default=8710)
    parser.add_argument("--users", type=int, default=16, help="concurrent clients")
    parser.add_argument("--duration", type=int, default=60, help="seconds of load")
    parser.add_argument("--samples", type=int, default=100, help="quiet requests per operation")
    parser.add_argument(
        "--capacity-seconds", type=int, default=20, help="per mix and connection count; 0: none"
    )
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    OUT.mkdir(parents=True, exist_ok=True)
    url = load.loaded_database(args.database, args)
    plan = make_plan()
    plan_path = OUT / "plan.json"
    plan_path.write_text(json.dumps(plan))
    base = f"http://127.0.0.1:{args.port}"
    with gunicorn(url, args) as server:
        quiet = quiet_passes(base, plan, args.samples)
        cursor = cursor_pass(base, plan)
        memory_before = worker_memory(server)
        load_stats = locust(base, plan_path, args)
        memory_after = worker_memory(server)
        carried = []
        if args.capacity_seconds and capacity.available():
            carried = capacity.run(base, plan, OUT, args.capacity_seconds)
    errors = print_tables(args, quiet, cursor, load_stats, memory_before, memory_after)
    if carried:
        errors += capacity.print_table(carried, args.workers)
    elif args.capacity_seconds:
        print("\ncapacity pass skipped: wrk is not installed (apt-get install wrk)")
    if errors:
        sys.exit(f"{errors} request(s) failed")


def make_plan() -> dict[str, Any]:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test import Client
    from knox.models import AuthToken

    User = get_user_model()
    plan: dict[str, Any] = {
        "tokens": {},
        "sessions": {},
        "session_cookie": settings.SESSION_COOKIE_NAME,
    }
    roles = (("clinician", "Clinician"), ("frontdesk", "Front desk"), ("admin", "Clinic admin"))
    for role, group in roles:
        user, _ = User.objects.update_or_create(
            username=f"bench-{role}",
            defaults={"first_name": "Bench", "last_name": group, "is_staff": True},
        )
        user.groups.set([Group.objects.get(name=group)])
        AuthToken.objects.filter(user=user).delete()
        plan["tokens"][role] = AuthToken.objects.create(user=user)[1]
        browser = Client()
        browser.force_login(user)
        plan["sessions"][role] = browser.cookies[settings.SESSION_COOKIE_NAME].value
    with connection.cursor() as cursor:
        for name, query in SAMPLES_SQL.items():
            cursor.execute(query)
            rows = cursor.fetchall()
            plan[name] = [row[0] if len(row) == 1 else list(row) for row in rows]
        cursor.execute(TIMELINE_SESSIONS_SQL, [plan["timeline_patients"]])
        plan["timeline_sessions"] = float(cursor.fetchone()[0])
        cursor.execute(LOT_SQL)
        plan["lot"] = cursor.fetchone()[0]
    return plan


@contextmanager
def gunicorn(url: str, args: argparse.Namespace):
    env = os.environ | {
        "DATABASE_URL": url,
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(BENCH),
    }
    if args.threads > 1:
        env["DATABASE_POOL_SIZE"] = str(args.threads)
    command = [
        str(BIN / "gunicorn"),
        "serve:application",
        f"--workers={args.workers}",
        f"--threads={args.threads}",
        f"--bind=127.0.0.1:{args.port}",
        "--log-level=warning",
        # Each load request's time in the server (microseconds) and its operation (locustfile)
        f"--access-logfile={ACCESS_LOG}",
        "--access-logformat=%(D)s %({x-bench-op}i)s",
    ]
    ACCESS_LOG.unlink(missing_ok=True)
    server = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)  # noqa: S603
    try:
        wait_until_up(f"http://127.0.0.1:{args.port}/healthz/", server)
        yield server
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def wait_until_up(url: str, server: subprocess.Popen) -> None:
    import requests

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"gunicorn exited with {server.returncode}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):  # workers still booting
            pass
        time.sleep(0.3)
    sys.exit("gunicorn did not answer /healthz/ within 60 s")


@dataclass
class Quiet:
    ours: list[float] = field(default_factory=list)
    floor: list[float] = field(default_factory=list)
    data_floor: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float | None:
        return _ratio(self.ours, self.floor)

    @property
    def data_ratio(self) -> float | None:
        return _ratio(self.ours, self.data_floor)


def _ratio(ours: list[float], floor: list[float]) -> float | None:
    return statistics.median(ours) / statistics.median(floor) if floor else None


def quiet_passes(base: str, plan: dict[str, Any], samples: int) -> dict[str, Quiet]:
    import requests

    client = requests.Session()
    results = {}
    for op in OPS:
        rng = random.Random(op.name)  # noqa: S311 (bench requests, not secrets)
        result = results[op.name] = Quiet()
        headers = {"Authorization": f"Token {plan['tokens'][op.role]}"}
        for _ in range(3 if op.name.startswith("report") else samples):
            request = op.build(plan, rng)
            started = time.perf_counter()
            response = client.request(
                request.method,
                base + request.path,
                params=request.params,
                json=request.body,
                headers=credentials(plan, op.role, request),
            )
            result.ours.append((time.perf_counter() - started) * 1000)
            result.queries.append(int(response.headers.get("X-Queries", -1)))
            if response.status_code >= 400:
                result.failures.append(f"{response.status_code} {response.text[:300]}")
            if request.floor:
                floors = ((result.floor, headers), (result.data_floor, {"X-Floor": "data"}))
                for times, floor_headers in floors:
                    started = time.perf_counter()
                    floor = client.get(
                        base + request.floor, params=request.params, headers=floor_headers
                    )
                    times.append((time.perf_counter() - started) * 1000)
                    if floor.status_code != 200:
                        result.failures.append(f"floor {floor.status_code} {floor.text[:300]}")
                    elif times is result.floor and not same_answer(response.json(), floor.json()):
                        result.failures.append(f"floor answered otherwise: {request.params}")
        print(f"  quiet pass: {op.name}: median {statistics.median(result.ours):.1f} ms")
    return results


def same_answer(ours: Any, floor: Any) -> bool:
    """The same JSON; of a list page, the same records (the floor links no next page)."""
    if isinstance(ours, dict) and "results" in ours and isinstance(floor, dict):
        return bool(ours["results"] == floor.get("results"))
    return bool(ours == floor)


def cursor_pass(base: str, plan: dict[str, Any], rounds: int = 20) -> dict[str, float]:
    """The list of completed sessions (pages of 50, newest first, each with its injectates and
    sites) walked to page 1000; then page 1 and page 1000 fetched alternately ``rounds``
    times each."""
    import requests

    client = requests.Session()
    client.headers["Authorization"] = f"Token {plan['tokens']['clinician']}"
    first = f"{base}/api/v1/sessions/?status=completed&page_size=50"
    page = first
    for _ in range(999):  # to page 1000, or the last page of a smaller load
        following = client.get(page).json()["next"]
        if following is None:
            break
        page = following
    times: dict[str, list[float]] = {"page 1": [], "page 1000": []}
    for _ in range(rounds):
        for label, url in (("page 1", first), ("page 1000", page)):
            started = time.perf_counter()
            response = client.get(url)
            times[label].append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
    return {label: statistics.median(values) for label, values in times.items()}


def worker_memory(server: subprocess.Popen) -> dict[int, int]:
    """Resident memory in MiB of each gunicorn worker (the master's children)."""
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    memory = {}
    for pid in map(int, children):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                memory[pid] = int(line.split()[1]) // 1024
    return memory


def locust(base: str, plan_path: Path, args: argparse.Namespace) -> dict[str, dict[str, str]]:
    prefix = OUT / "locust"
    command = [
        str(BIN / "locust"),
        "--locustfile",
        str(BENCH / "locustfile.py"),
        "--headless",
        f"--users={args.users}",
        # Clients join over about 8 s, as staff do, and the table counts from when all are in.
        # Started in the same instant, their first requests queued together behind the
        # workers: that burst was the whole p99 of a 60 s run.
        f"--spawn-rate={max(1, args.users // 8)}",
        "--reset-stats",
        f"--run-time={args.duration}s",
        f"--host={base}",
        f"--csv={prefix}",
        "--only-summary",
        "--loglevel=WARNING",
    ]
    print(f"  load: {args.users} clients for {args.duration} s ...", flush=True)
    with open(OUT / "locust.log", "w") as log:
        subprocess.run(  # noqa: S603 (our own command line)
            command,
            env=os.environ | {"BENCH_PLAN": str(plan_path)},
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,
        )
    with open(f"{prefix}_stats.csv", newline="") as stats:
        return {row["Name"]: row for row in csv.DictReader(stats)}


def server_times() -> dict[str, list[float]]:
    """Milliseconds each load request spent in gunicorn (from the request read to the response
    written), by operation, from the access log; the quiet passes' requests carry no name."""
    times: dict[str, list[float]] = {}
    for line in ACCESS_LOG.read_text().splitlines():
        micros, _, name = line.partition(" ")
        if name != "-":
            times.setdefault(name, []).append(int(micros) / 1000)
    return times


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def print_tables(
    args: argparse.Namespace,
    quiet: dict[str, Quiet],
    cursor: dict[str, float],
    load_stats: dict[str, dict[str, str]],
    memory_before: dict[int, int],
    memory_after: dict[int, int],
) -> int:
    print()
    print(
        f"load: {args.users} clients, {args.duration} s, gunicorn {args.workers} workers x "
        f"{args.threads} threads, {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC"
    )
    header = (
        f"{'operation':<24}{'req/s':>7}{'p50':>7}{'p95':>7}{'p99':>7}{'errors':>8}"
        f"{'queries':>9}{'quiet':>8}{'floor':>8}{'ratio':>7}{'data floor':>12}{'ratio':>7}"
    )
    print(header)
    print("-" * len(header))
    errors = 0
    for op in OPS:
        row = load_stats.get(op.name, {})
        failures = int(row.get("Failure Count", 0)) + len(quiet[op.name].failures)
        errors += failures
        result = quiet[op.name]
        queries = statistics.median(result.queries)
        floor = f"{statistics.median(result.floor):8.1f}" if result.floor else f"{'':8}"
        ratio = f"{result.ratio:7.2f}" if result.ratio else f"{'':7}"
        if result.data_floor:
            floor_ratio = f"{statistics.median(result.data_floor):12.1f}{result.data_ratio:7.2f}"
        else:
            floor_ratio = f"{'':19}"
        target = TARGET_P95_MS.get(op.name)
        flag = "  over p95 target" if target and float(row.get("95%", 0)) > target else ""
        print(
            f"{op.name:<24}{float(row.get('Requests/s', 0)):>7.1f}{row.get('50%', '-'):>7}"
            f"{row.get('95%', '-'):>7}{row.get('99%', '-'):>7}{failures:>8}{queries:>9g}"
            f"{statistics.median(result.ours):>8.1f}{floor}{ratio}{floor_ratio}{flag}"
        )
    total = load_stats.get("Aggregated", {})
    print(
        f"{'all':<24}{float(total.get('Requests/s', 0)):>7.1f}{total.get('50%', '-'):>7}"
        f"{total.get('95%', '-'):>7}{total.get('99%', '-'):>7}"
    )
    print(
        "times in ms; req/s and p50/p95/p99 under load (locust); queries, quiet (median) and "
        "floors (median) one request at a time; ratio = quiet / floor. The floor runs the app's "
        "statements (token and roles, clinician check, data, access-log row) through psycopg "
        "and orjson; the data floor the data statements only"
    )
    for op in OPS:
        for failure in quiet[op.name].failures[:3]:
            print(f"  {op.name}: {failure}")
    print(
        f"cursor, completed sessions, pages of 50: page 1 {cursor['page 1']:.1f} ms, page 1000 "
        f"{cursor['page 1000']:.1f} ms ({cursor['page 1000'] / cursor['page 1']:.2f} x)"
    )
    print("time in the server under the load (gunicorn's access log), ms:")
    for name, times in sorted(server_times().items()):
        print(
            f"  {name:<22} p50 {percentile(times, 0.5):6.1f}  p95 {percentile(times, 0.95):6.1f}"
            f"  p99 {percentile(times, 0.99):6.1f}  max {max(times):6.1f}"
        )
    memory = ", ".join(
        f"{memory_before.get(pid, '?')} -> {after}" for pid, after in sorted(memory_after.items())
    )
    print(f"worker memory (MiB, before -> after the load): {memory}")
    return errors


if __name__ == "__main__":
    main()
