"""One invitation dispatch pass over a large table: ``python bench/invitation_dispatch.py``

Fills a scratch database (beside DATABASE_URL's) with --courses treatment courses (on the demo
patients' conditions, started over the last four years) and their six invitations each
(baseline, 6 weeks, 3, 6, 12 and 24 months): those whose time has passed completed or missed,
some sent and waiting for a chaser, the rest planned for their time; then makes --due of the
planned ones due now (the demo courses' own invitations are left out of the pass). Times one
``invitations_dispatch()`` pass (email through Django's in-memory backend) and an idle pass
after it, and prints the plan of the claim query with the due rows in place. The generated
rows are bench data: loaded with the triggers off (session_replication_role = replica, so the
database's planning does not run for them); the dispatch pass itself runs with every trigger
on, as in production.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--courses", type=int, default=1_000_000, help="six invitations each")
    parser.add_argument("--due", type=int, default=1000)
    args = parser.parse_args()
    with scratch_database("bench_invitations") as url:
        os.environ["DATABASE_URL"] = url
        os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
        try:
            run(args.courses, args.due)
        finally:
            from django.db import connections

            connections.close_all()


def run(courses: int, due: int) -> None:
    import django

    django.setup()
    from django.core import mail
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from questionnaires.services import invitation_act_next, invitations_dispatch

    call_command("migrate", verbosity=0)
    call_command("seed_demo", patients=1000, seed=1, verbosity=0)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        fill(cursor, courses, due)
    print(f"loaded in {time.perf_counter() - started:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT status, count(*) FROM questionnaires_invitation GROUP BY 1 ORDER BY 1"
        )
        counts = dict(cursor.fetchall())
        cursor.execute(
            "SELECT count(*) FROM questionnaires_invitation WHERE next_attempt_at <= now()"
        )
        (due_now,) = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM treatments_treatmentcourse")
        (course_rows,) = cursor.fetchone()
    print(
        f"courses: {course_rows:,}; invitation rows: {sum(counts.values()):,} {counts}; "
        f"due now: {due_now:,}"
    )

    # The claim query as the dispatch pass sends it, planned with the due rows in place.
    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        invitation_act_next(now=timezone.now())
        transaction.set_rollback(True)
    claim = next(q["sql"] for q in captured.captured_queries if "SKIP LOCKED" in q["sql"])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {claim}")
        plan = "\n".join(f"    {row[0]}" for row in cursor.fetchall())
        transaction.set_rollback(True)
    mail.outbox = []

    started = time.perf_counter()
    summary = invitations_dispatch()
    elapsed = time.perf_counter() - started
    sent = summary.outcomes.get("sent", 0)
    print(
        f"dispatch pass: {summary.outcomes} in {elapsed:.2f} s "
        f"({elapsed / max(summary.total, 1) * 1000:.2f} ms per invitation); "
        f"emails in the outbox: {len(mail.outbox)}"
    )
    if not sent == len(mail.outbox) == due_now:
        sys.exit("not every due invitation was sent exactly once")
    started = time.perf_counter()
    empty = invitations_dispatch()
    idle_ms = (time.perf_counter() - started) * 1000
    print(f"next pass, nothing due: {empty.outcomes} in {idle_ms:.1f} ms")
    print(f"claim query:\n    {claim}\nplan:\n{plan}")


def fill(cursor, courses: int, due: int) -> None:
    cursor.execute("SET session_replication_role = replica")  # bench rows: no triggers
    cursor.execute(
        "UPDATE patients_patient SET reminder_consent = true, reminder_consent_on = CURRENT_DATE,"
        " reminder_channel = 'email', email = 'patient' || id || '@example.org'"
    )
    # The demo courses have their own invitations, planned as they were seeded: out of the
    # pass, so that it acts on the bench's rows only.
    cursor.execute("SELECT coalesce(max(id), 0) FROM treatments_treatmentcourse")
    (last_demo_course,) = cursor.fetchone()
    cursor.execute("UPDATE questionnaires_invitation SET next_attempt_at = NULL, chase_from = NULL")
    # Courses on the demo conditions, started evenly over the last four years.
    cursor.execute(
        """
        INSERT INTO treatments_treatmentcourse
            (patient_id, condition_id, planned_treatment, planned_sessions,
             planned_interval_weeks, start_date, status, stop_reason, created_at, updated_at)
        SELECT c.patient_ids[1 + mod(i, c.n)], c.ids[1 + mod(i, c.n)],
               (ARRAY['prp', 'dextrose', 'exosome', 'prp_dextrose'])[1 + mod(i, 4)], 3, 4,
               CURRENT_DATE - (i %% 1460), 'active', '', now(), now()
        FROM generate_series(0, %(n)s - 1) AS i,
             (SELECT array_agg(id ORDER BY id) AS ids,
                     array_agg(patient_id ORDER BY id) AS patient_ids,
                     count(*)::int AS n FROM patients_condition) AS c
        """,
        {"n": courses},
    )
    # Six invitations per course: past ones completed (two in three) or missed, recent ones
    # sent and waiting for a chaser, future ones planned for their time.
    cursor.execute(
        """
        INSERT INTO questionnaires_invitation
            (course_id, patient_id, time_point, due_at, closes_at, status, next_attempt_at,
             messages_sent, failed_attempts, sent_at, completed_at, ended_reason,
             created_at, updated_at)
        SELECT c.id, c.patient_id, p.point, d.due, d.due + interval '28 days',
               s.status,
               CASE s.status WHEN 'planned' THEN d.due
                             WHEN 'sent' THEN d.due + interval '3 days' END,
               CASE WHEN s.status = 'planned' THEN 0 ELSE 1 END, 0,
               CASE WHEN s.status = 'planned' THEN NULL ELSE d.due END,
               CASE WHEN s.status = 'completed' THEN d.due + interval '2 days' END,
               CASE WHEN s.status = 'missed' THEN 'Not answered before it closed.' ELSE '' END,
               now(), now()
        FROM treatments_treatmentcourse c
        CROSS JOIN (VALUES ('baseline', 0), ('6w', 42), ('3m', 91), ('6m', 182),
                           ('12m', 365), ('24m', 730)) AS p(point, days)
        CROSS JOIN LATERAL (
            SELECT (c.start_date + p.days + time '10:00')::timestamptz AS due
        ) d
        CROSS JOIN LATERAL (
            SELECT CASE WHEN d.due > now() THEN 'planned'
                        WHEN d.due > now() - interval '3 days' THEN 'sent'
                        WHEN mod(c.id, 3) = 0 THEN 'missed'
                        ELSE 'completed' END AS status
        ) s
        WHERE c.id > %s
        """,
        [last_demo_course],
    )
    # The due ones: planned invitations whose time came in the last minutes.
    cursor.execute(
        """
        UPDATE questionnaires_invitation
        SET due_at = now() - interval '1 minute', next_attempt_at = now() - interval '1 minute',
            closes_at = now() + interval '28 days'
        WHERE id IN (
            SELECT id FROM questionnaires_invitation
            WHERE status = 'planned' ORDER BY due_at LIMIT %s
        )
        """,
        [due],
    )
    cursor.execute("SET session_replication_role = origin")
    cursor.execute("ANALYZE questionnaires_invitation")
    cursor.execute("ANALYZE treatments_treatmentcourse")


if __name__ == "__main__":
    main()
