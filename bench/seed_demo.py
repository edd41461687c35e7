"""Time ``seed_demo`` on an empty database: ``python bench/seed_demo.py [--patients N]``.

Uses a scratch database beside the one ``DATABASE_URL`` names (dropped afterwards), so it needs
``DATABASE_URL`` and a user that may create databases.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from psycopg import sql
from scratch import scratch_database  # bench/scratch.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
TABLES = (
    "patients_patient",
    "patients_condition",
    "patients_outcomescore",
    "treatments_treatmentcourse",
    "treatments_injectionsession",
    "treatments_injectate",
    "treatments_injectionsite",
    "treatments_sideeffect",
    "treatments_followup",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    manage = [sys.executable, str(ROOT / "manage.py")]
    with scratch_database("bench_seed") as url:
        env = os.environ | {"DATABASE_URL": url}
        subprocess.run([*manage, "migrate", "-v0"], env=env, check=True)  # noqa: S603
        started = time.perf_counter()
        subprocess.run(  # noqa: S603
            [*manage, "seed_demo", f"--patients={args.patients}", f"--seed={args.seed}"],
            env=env,
            check=True,
        )
        elapsed = time.perf_counter() - started
        with psycopg.connect(url) as connection:
            rows = sum(
                connection.execute(
                    sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
                ).fetchone()[0]
                for table in TABLES
            )
    print(
        f"seed_demo --patients {args.patients}: {elapsed:.1f} s wall, "
        f"{rows} rows, {rows / elapsed:,.0f} rows/s, {args.patients / elapsed:,.0f} patients/s"
    )


if __name__ == "__main__":
    main()
