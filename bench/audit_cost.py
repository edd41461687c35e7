"""What the audit trail costs: the same list request and session write, with the audit trail
on (history triggers, hash chain, access log) and off. ``python bench/audit_cost.py``

Runs in-process (Django's test client) on a scratch database beside DATABASE_URL's, seeded
with demo data, and drops it afterwards.
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import time
from pathlib import Path

from scratch import scratch_database  # bench/scratch.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 3
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    with scratch_database("bench_audit") as url:
        os.environ["DATABASE_URL"] = url
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
        try:
            run(args.patients, args.requests)
        finally:
            from django.db import connections

            connections.close_all()


def run(patients: int, requests: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    call_command("migrate", verbosity=0)
    call_command("seed_demo", patients=patients, seed=1, verbosity=0)
    from django.contrib.auth import get_user_model

    from recordkeeping.roles import CLINICIAN

    clinician = get_user_model().objects.filter(groups__name=CLINICIAN).first()
    client = Client()
    client.force_login(clinician)
    patient_ids = list(
        __import__("patients.models", fromlist=["Patient"]).Patient.objects.values_list(
            "pk", flat=True
        )[:requests]
    )

    def list_request(i: int) -> None:
        response = client.get("/api/v1/sessions/", {"page_size": 50})
        check(response, 200)

    def session_write(i: int) -> None:
        when = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=i + 1)
        expiry = (when + datetime.timedelta(days=200)).date().isoformat()
        response = client.post(
            "/api/v1/sessions/",
            {
                "patient": patient_ids[i % len(patient_ids)],
                "performed_at": when.isoformat(),
                "status": "completed",
                "consent_obtained": True,
                "injectates": [
                    {"line": 1, "kind": "saline", "volume_ml": "2", "expiry_date": expiry},
                    {"line": 2, "kind": "dextrose", "volume_ml": "10", "dextrose_pct": "15"},
                ],
                "sites": [
                    {
                        "line": n,
                        "injectate_line": 1 + n % 2,
                        "body_region": "knee",
                        "structure": "MCL",
                        "tissue": "ligament",
                        "laterality": "left",
                        "volume_ml": "1",
                    }
                    for n in (1, 2, 3)
                ],
            },
            content_type="application/json",
        )
        check(response, 201)

    print(f"{patients} demo patients, {requests} requests per figure, median (p95) in ms")
    print(f"{'operation':<28}{'audit on':>16}{'audit off':>16}{'extra':>10}")
    for name, operation in (
        ("GET sessions page of 50", list_request),
        ("POST session (2+3)", session_write),
    ):
        on: list[float] = []
        off: list[float] = []
        for _ in range(ROUNDS):  # alternate, so neither side is favoured by a warmer cache
            on += timed(operation, requests // ROUNDS)
            with audit_off():
                off += timed(operation, requests // ROUNDS)
        extra = statistics.median(on) - statistics.median(off)
        print(f"{name:<28}{fmt(on):>16}{fmt(off):>16}{extra:>9.2f}")


def check(response, status: int) -> None:
    if response.status_code != status:
        raise RuntimeError(f"{response.status_code}: {response.content[:300]!r}")


def timed(operation, count: int) -> list[float]:
    for i in range(10):  # warm up
        operation(50_000 + i)
    samples = []
    for i in range(count):
        started = time.perf_counter()
        operation(i + 1)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def fmt(samples: list[float]) -> str:
    p95 = statistics.quantiles(samples, n=20)[-1]
    return f"{statistics.median(samples):.2f} ({p95:.2f})"


class audit_off:
    """History and chain triggers disabled, access logging skipped."""

    def __enter__(self) -> None:
        from django.db import connection

        from recordkeeping import audit

        self.record = audit.access_record
        audit.access_record = lambda **kwargs: None
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
            # Keep the clinic's own rules on: only history, chain and protection go quiet.
            cursor.execute(
                "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
                " WHERE NOT t.tgisinternal AND t.tgname NOT SIMILAR TO "
                "'pgtrigger_(insert_insert|update_update|delete_delete)_%%' "
                "AND t.tgname <> 'clinic_audit_chain'"
            )
            for table, trigger in cursor.fetchall():
                cursor.execute(f'ALTER TABLE "{table}" ENABLE ALWAYS TRIGGER "{trigger}"')

    def __exit__(self, *exc: object) -> None:
        from django.db import connection

        from recordkeeping import audit

        audit.access_record = self.record
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = origin")


if __name__ == "__main__":
    main()
