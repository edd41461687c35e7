"""The load of `make bench`: staff clients of a clinic network, each with its role's mix.

bench/run.py starts it (``locust --headless``) with BENCH_PLAN naming the plan file. Each
simulated client waits 0.5 to 1.5 s between requests, as a person at a screen does; clinicians
and the front desk are 3 to 1. One more client is a clinic admin running a report every 20 to
40 s.
"""

from __future__ import annotations

import json
import os
import random
import sys
from pathlib import Path

from locust import FastHttpUser, between

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ops import OPS, Op, credentials  # noqa: E402 (bench/ops.py, beside this file)

PLAN = json.loads(Path(os.environ["BENCH_PLAN"]).read_text())


def weighted_tasks(role: str) -> dict:
    return {make_task(op): op.weight for op in OPS if op.role == role}


def make_task(op: Op):
    def run(user: StaffUser) -> None:
        request = op.build(PLAN, user.rng)
        user.client.request(
            request.method,
            request.path,
            params=request.params,
            json=request.body,
            # The operation's name is for the server's times (gunicorn's access log).
            headers=credentials(PLAN, user.role, request) | {"X-Bench-Op": op.name},
            name=op.name,
        )

    run.__name__ = op.name.replace(" ", "_")
    return run


class StaffUser(FastHttpUser):
    abstract = True
    wait_time = between(0.5, 1.5)
    role = ""

    def on_start(self) -> None:
        self.rng = random.Random()  # noqa: S311 (bench requests, not secrets)


class Clinician(StaffUser):
    weight = 3
    role = "clinician"
    tasks = weighted_tasks("clinician")


class FrontDesk(StaffUser):
    weight = 1
    role = "frontdesk"
    tasks = weighted_tasks("frontdesk")


class ClinicAdmin(StaffUser):
    fixed_count = 1
    wait_time = between(20, 40)
    role = "admin"
    tasks = weighted_tasks("admin")
