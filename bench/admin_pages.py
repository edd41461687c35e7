"""The admin's pages at bench scale: ``python bench/admin_pages.py``

Opens each page below in bench/load.py's database (``--database``, default bench_clinic) as
a superuser (every page and every change list), one request at a time in this process, and
prints the median, the slowest and the number of queries of --rounds requests each (the first
request of each page, which warms caches, is not counted). The lot searched is the most used
one, typed in lower case. The target is 300 ms a page.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGES = (
    ("reports", "/admin/reports/"),
    ("agenda", "/admin/treatments/followup/agenda/"),
    ("patient search", "/admin/patients/patient/?q=smith"),
    ("patient list", "/admin/patients/patient/"),
    ("session list", "/admin/treatments/injectionsession/"),
    ("injectate lot search", "/admin/treatments/injectate/?q={lot}"),
    ("side effect list", "/admin/treatments/sideeffect/"),
    ("follow-up list", "/admin/treatments/followup/"),
    ("outcome score list", "/admin/patients/outcomescore/"),
    ("course list", "/admin/treatments/treatmentcourse/"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", default="bench_clinic")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL")
    if not url:
        sys.exit("Set DATABASE_URL to the server that holds bench/load.py's database.")
    os.environ["DATABASE_URL"] = urlunsplit(urlsplit(url)._replace(path=f"/{args.database}"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    user, _ = get_user_model().objects.get_or_create(
        username="bench-admin-pages",
        defaults={"is_staff": True, "is_superuser": True, "first_name": "Bench"},
    )
    with connection.cursor() as cursor:  # the most used lot, typed in lower case
        cursor.execute(
            "SELECT lower(lot_number) FROM treatments_injectate WHERE lot_number <> ''"
            " GROUP BY lot_number ORDER BY count(*) DESC, lot_number LIMIT 1"
        )
        (lot,) = cursor.fetchone() or ("",)
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    print(f"{'page':<22} {'median':>8} {'slowest':>8} {'queries':>8}  status")
    for name, page in PAGES:
        path = page.format(lot=lot)
        answer = client.get(path)
        times = []
        for _ in range(args.rounds):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                answer = client.get(path)
                times.append((time.perf_counter() - started) * 1000)
        over = "  over 300 ms" if statistics.median(times) > 300 else ""
        print(
            f"{name:<22} {statistics.median(times):>8.0f} {max(times):>8.0f} "
            f"{len(captured.captured_queries):>8}  {answer.status_code}{over}"
        )
    print("ms, one request at a time, in this process (no network, no gunicorn)")


if __name__ == "__main__":
    main()
