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
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL")
    if not url:
        sys.exit("Set DATABASE_URL to a PostgreSQL server where a scratch database may be made.")
    parts = urlsplit(url)
    scratch = f"bench_seed_{os.getpid()}"
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    env = os.environ | {"DATABASE_URL": urlunsplit(parts._replace(path=f"/{scratch}"))}
    manage = [sys.executable, str(ROOT / "manage.py")]
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(scratch)))
    try:
        subprocess.run([*manage, "migrate", "-v0"], env=env, check=True)  # noqa: S603
        started = time.perf_counter()
        subprocess.run(  # noqa: S603
            [*manage, "seed_demo", f"--patients={args.patients}", f"--seed={args.seed}"],
            env=env,
            check=True,
        )
        elapsed = time.perf_counter() - started
        with psycopg.connect(env["DATABASE_URL"]) as connection:
            rows = sum(
                connection.execute(
                    sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
                ).fetchone()[0]
                for table in (
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
            )
    finally:
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(scratch))
            )
    print(
        f"seed_demo --patients {args.patients}: {elapsed:.1f} s wall, "
        f"{rows} rows, {rows / elapsed:,.0f} rows/s, {args.patients / elapsed:,.0f} patients/s"
    )


if __name__ == "__main__":
    main()
