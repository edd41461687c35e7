"""How much one server carries: the reads, the floor's same reads, the data floor, and the mixed
load (reads plus one session create in ten), closed loop (no think time) at 16 and 32
connections, driven by wrk (Debian's package: a C load generator, so the cores stay with the
server). bench/run.py runs it after the latency table; it prints requests a second, p50 and p99
per mix, and the app's share of the floor.

Each mix is a Lua file of requests built by bench/ops.py from the plan (the same requests the
latency passes send), cycled through by every wrk thread from a random start.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ops import OPS, Request, credentials

READS = ("patient search", "agenda", "patient detail", "timeline", "session list")
REQUESTS_PER_MIX = 3000
CONNECTIONS = (16, 32)

# wrk's Lua: each thread starts at a random place in the list and reports its own counts; the
# done() hook prints the whole run's figures as one JSON line.
SCRIPT = """
local counter = 0
function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
  counter = math.random(#requests) - 1
end
function request()
  counter = counter % #requests + 1
  local r = requests[counter]
  return wrk.format(r[1], r[2], r[3], r[4])
end
function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    '{"requests": %d, "seconds": %f, "errors": %d, "status_errors": %d, '
    .. '"p50": %f, "p99": %f}\\n',
    summary.requests, summary.duration / 1e6, errors, summary.errors.status,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""


@dataclass
class Result:
    mix: str
    connections: int
    per_second: float
    p50: float
    p99: float
    errors: int


WRK = shutil.which("wrk")


def available() -> bool:
    return WRK is not None


def lua_string(text: str) -> str:
    """``text`` as a Lua long string, whatever it holds."""
    level = "="
    while f"]{level}]" in text:
        level += "="
    return f"[{level}[{text}]{level}]"


def lua_request(method: str, path: str, headers: dict[str, str], body: str | None) -> str:
    header_table = ", ".join(f"[ {lua_string(k)} ] = {lua_string(v)}" for k, v in headers.items())
    body_text = lua_string(body) if body is not None else "nil"
    return f"{{{lua_string(method)}, {lua_string(path)}, {{{header_table}}}, {body_text}}}"


def with_query(path: str, params: dict[str, Any] | None) -> str:
    from urllib.parse import urlencode

    return f"{path}?{urlencode(params)}" if params else path


def app_request(plan: dict[str, Any], role: str, request: Request) -> str:
    headers = credentials(plan, role, request)
    body = None
    if request.body is not None:
        headers = headers | {"Content-Type": "application/json"}
        body = json.dumps(request.body)
    return lua_request(request.method, with_query(request.path, request.params), headers, body)


def floor_request(plan: dict[str, Any], role: str, request: Request, data_only: bool) -> str:
    floor = request.floor or ""  # every read of READS has one
    headers = {"X-Floor": "data"} if data_only else credentials(plan, role, request)
    return lua_request("GET", with_query(floor, request.params), headers, None)


def mixes(plan: dict[str, Any]) -> dict[str, list[str]]:
    """Each mix's requests: the reads in equal parts; the floor's and the data floor's same
    reads; the reads with every tenth request a session create."""
    rng = random.Random(7)  # noqa: S311 (bench requests, not secrets)
    reads = [op for op in OPS if op.name in READS]
    create = next(op for op in OPS if op.name == "session create")
    built: dict[str, list[str]] = {"reads": [], "floor": [], "data floor": [], "mixed": []}
    for index in range(REQUESTS_PER_MIX):
        op = reads[index % len(reads)]
        request = op.build(plan, rng)
        built["reads"].append(app_request(plan, op.role, request))
        built["floor"].append(floor_request(plan, op.role, request, data_only=False))
        built["data floor"].append(floor_request(plan, op.role, request, data_only=True))
        if index % 10 == 9:
            built["mixed"].append(app_request(plan, create.role, create.build(plan, rng)))
        else:
            built["mixed"].append(app_request(plan, op.role, request))
    return built


def run(base: str, plan: dict[str, Any], out: Path, seconds: int, threads: int = 2) -> list[Result]:
    results = []
    for mix, requests in mixes(plan).items():
        script = out / f"capacity-{mix.replace(' ', '-')}.lua"
        script.write_text("requests = {\n" + ",\n".join(requests) + "\n}\n" + SCRIPT)
        for connections in CONNECTIONS:
            print(f"  capacity: {mix}, {connections} connections, {seconds} s")
            finished = subprocess.run(  # noqa: S603 (the bench's own arguments)
                [
                    str(WRK),
                    f"--threads={threads}",
                    f"--connections={connections}",
                    f"--duration={seconds}s",
                    "--timeout=10s",
                    f"--script={script}",
                    base,
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            figures = json.loads(finished.stdout.strip().splitlines()[-1])
            results.append(
                Result(
                    mix=mix,
                    connections=connections,
                    per_second=figures["requests"] / figures["seconds"],
                    p50=figures["p50"],
                    p99=figures["p99"],
                    errors=figures["errors"],
                )
            )
    return results


def print_table(results: list[Result], workers: int) -> int:
    """The capacity table; returns the number of failed requests."""
    print(f"\ncapacity: closed loop (no think time), wrk, gunicorn {workers} workers")
    print(f"{'mix':<12} {'connections':>11} {'req/s':>8} {'p50':>7} {'p99':>7} {'errors':>7}")
    print("-" * 57)
    for r in results:
        print(
            f"{r.mix:<12} {r.connections:>11} {r.per_second:>8.1f} {r.p50:>7.1f} {r.p99:>7.1f}"
            f" {r.errors:>7}"
        )
    by = {(r.mix, r.connections): r.per_second for r in results}
    for connections in CONNECTIONS:
        reads, floor = by[("reads", connections)], by[("floor", connections)]
        data = by[("data floor", connections)]
        print(
            f"the app's share at {connections} connections: {reads / floor:.0%} of the floor, "
            f"{reads / data:.0%} of the data floor"
        )
    print(
        "times in ms; reads: patient search, agenda, patient detail, timeline and session list "
        "in equal parts; mixed: the reads with one session create in ten"
    )
    return sum(r.errors for r in results)
