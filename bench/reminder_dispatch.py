"""One reminder dispatch pass over a large table: ``python bench/reminder_dispatch.py``

Fills a scratch database (beside DATABASE_URL's) with --follow-ups bookings (20 clinicians,
back to back, from about 400 days ago to a few months ahead) and two reminders each (48 and 24
hours before), of which --due are pending and due now; the rest are sent or waiting for their
time. Then times one ``reminders_dispatch()`` pass (email through Django's in-memory backend),
and prints the plan of the claim query with the due rows in place. The generated rows are bench
data: they are loaded with the history triggers off (session_replication_role = replica), and
the dispatch pass itself runs with every trigger on, as in production.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from scratch import scratch_database  # bench/scratch.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CLINICIANS = 20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--follow-ups", type=int, default=500_000, help="two reminders each")
    parser.add_argument("--due", type=int, default=1000)
    args = parser.parse_args()
    with scratch_database("bench_reminders") as url:
        os.environ["DATABASE_URL"] = url
        os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
        try:
            run(args.follow_ups, args.due)
        finally:
            from django.db import connections

            connections.close_all()


def run(follow_ups: int, due: int) -> None:
    import django

    django.setup()
    from django.core import mail
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from treatments.services import reminders_dispatch
    from treatments.services.reminders import reminder_send_next

    call_command("migrate", verbosity=0)
    call_command("seed_demo", patients=1000, seed=1, verbosity=0)
    mail.outbox = []
    started = time.perf_counter()
    with connection.cursor() as cursor:
        fill(cursor, follow_ups, due)
    print(f"loaded in {time.perf_counter() - started:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("SELECT status, count(*) FROM treatments_reminder GROUP BY 1 ORDER BY 1")
        counts = dict(cursor.fetchall())
        cursor.execute(
            "SELECT count(*) FROM treatments_reminder "
            "WHERE status = 'pending' AND next_attempt_at <= now()"
        )
        (due_now,) = cursor.fetchone()
    print(f"reminder rows: {sum(counts.values()):,} {counts}; due now: {due_now:,}")

    # The claim query as the dispatch pass sends it, planned with the due rows in place.
    from django.utils import timezone

    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        reminder_send_next(now=timezone.now())
        transaction.set_rollback(True)
    claim = next(q["sql"] for q in captured.captured_queries if "SKIP LOCKED" in q["sql"])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {claim}")
        plan = "\n".join(f"    {row[0]}" for row in cursor.fetchall())
        transaction.set_rollback(True)
    mail.outbox = []

    started = time.perf_counter()
    summary = reminders_dispatch()
    elapsed = time.perf_counter() - started
    sent = summary.outcomes.get("sent", 0)
    print(
        f"dispatch pass: {summary.outcomes} in {elapsed:.2f} s "
        f"({elapsed / max(summary.total, 1) * 1000:.2f} ms per reminder); "
        f"emails in the outbox: {len(mail.outbox)}"
    )
    if not sent == len(mail.outbox) == due_now:
        sys.exit("not every due reminder was sent exactly once")
    started = time.perf_counter()
    empty = reminders_dispatch()
    idle_ms = (time.perf_counter() - started) * 1000
    print(f"next pass, nothing due: {empty.outcomes} in {idle_ms:.1f} ms")
    print(f"claim query:\n    {claim}\nplan:\n{plan}")


def fill(cursor, follow_ups: int, due: int) -> None:
    cursor.execute("SET session_replication_role = replica")  # bench rows: no history
    cursor.execute(
        "UPDATE patients_patient SET reminder_consent = true, reminder_consent_on = CURRENT_DATE,"
        " reminder_channel = 'email', email = 'patient' || id || '@example.org'"
    )
    cursor.execute(
        "SELECT u.id FROM auth_user u JOIN auth_user_groups ug ON ug.user_id = u.id "
        "JOIN auth_group g ON g.id = ug.group_id WHERE g.name = 'Clinician' ORDER BY u.id"
    )
    clinicians = [row[0] for row in cursor.fetchall()]
    while len(clinicians) < CLINICIANS:
        cursor.execute(
            "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name,"
            " email, is_staff, is_active, date_joined) VALUES ('!', false, %s, 'Bench', %s, '',"
            " true, true, now()) RETURNING id",
            [f"bench{len(clinicians)}", f"Clinician {len(clinicians)}"],
        )
        clinicians.append(cursor.fetchone()[0])
    cursor.execute("UPDATE treatments_followup SET status = 'cancelled'")  # demo bookings aside
    # Back-to-back half hours per clinician, starting about 400 days ago; past ones attended.
    cursor.execute(
        """
        INSERT INTO treatments_followup
            (patient_id, clinician_id, kind, starts_at, ends_at, status, notes,
             created_at, updated_at)
        SELECT p.ids[1 + mod(i, array_length(p.ids, 1))],
               c.ids[1 + mod(i, %(clinicians)s)],
               'review',
               date_trunc('hour', now()) - interval '400 days'
                   + (i / %(clinicians)s) * interval '30 minutes',
               date_trunc('hour', now()) - interval '400 days'
                   + (i / %(clinicians)s + 1) * interval '30 minutes',
               'scheduled', '', now(), now()
        FROM generate_series(0, %(n)s - 1) AS i,
             (SELECT array_agg(id ORDER BY id) AS ids FROM patients_patient) AS p,
             (SELECT %(clinician_ids)s::bigint[] AS ids) AS c
        """,
        {"n": follow_ups, "clinicians": CLINICIANS, "clinician_ids": clinicians[:CLINICIANS]},
    )
    cursor.execute(
        "UPDATE treatments_followup SET status = 'completed' "
        "WHERE status = 'scheduled' AND ends_at < now()"
    )
    # Two reminders per booking: long past ones sent, later ones waiting for their time.
    cursor.execute(
        """
        INSERT INTO treatments_reminder
            (follow_up_id, hours_before, appointment_at, due_at, next_attempt_at, attempts,
             status, created_at, updated_at)
        SELECT f.id, h.hours, f.starts_at, f.starts_at - h.hours * interval '1 hour',
               f.starts_at - h.hours * interval '1 hour',
               CASE WHEN f.starts_at - h.hours * interval '1 hour' < now() THEN 1 ELSE 0 END,
               CASE WHEN f.starts_at - h.hours * interval '1 hour' < now()
                    THEN 'sent' ELSE 'pending' END,
               now(), now()
        FROM treatments_followup f, (VALUES (48), (24)) AS h(hours)
        WHERE f.status <> 'cancelled'
        """
    )
    # The due ones: reminders of upcoming bookings whose time came in the last minutes.
    cursor.execute(
        """
        UPDATE treatments_reminder SET status = 'pending', attempts = 0
        WHERE id IN (
            SELECT id FROM treatments_reminder
            WHERE status = 'sent' AND appointment_at > now() + interval '1 hour'
            ORDER BY due_at DESC LIMIT %s
        )
        """,
        [due],
    )
    cursor.execute("SET session_replication_role = origin")
    cursor.execute("ANALYZE treatments_reminder")
    cursor.execute("ANALYZE treatments_followup")


if __name__ == "__main__":
    main()
