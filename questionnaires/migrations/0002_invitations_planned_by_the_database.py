"""Invitations planned by the database: when a course is recorded, when its treatment or start
changes, and when its first session is added, moved or cancelled, whatever wrote it (API,
admin, a script, the demo's bulk load).

questionnaires_plan(course, at) makes the course's invitations agree with the schedule of its
treatment (questionnaires_schedulepoint), as of ``at``: the time the change was written (the
rows' updated_at, which the application sets), so the plan follows the application's clock.

- The anchor is the first session that is not cancelled (its day in the clinic's time zone),
  or the course's start date while it has none.
- The baseline is due at once and open until the end of the first injection's day; every
  other point is due at 10:00 on the anchor's day plus its days, and open ``window_days``.
- A point whose window has closed by then is not planned. An open invitation moves with the
  plan: an unsent one is due at its new time, and none is acted on after it closes (the
  dispatch pass then closes it). An unsent invitation whose point left the schedule is
  cancelled.
"""

from django.db import migrations

WANTED = """
CREATE OR REPLACE FUNCTION questionnaires_wanted(course bigint, at timestamptz)
RETURNS TABLE (time_point text, due_at timestamptz, closes_at timestamptz) AS $$
    WITH c AS (
        SELECT c.planned_treatment,
               coalesce(
                   (SELECT (min(s.performed_at) AT TIME ZONE clinic_time_zone())::date
                    FROM treatments_injectionsession s
                    WHERE s.course_id = c.id AND s.status <> 'cancelled'),
                   c.start_date) AS anchor
        FROM treatments_treatmentcourse c WHERE c.id = course
    )
    SELECT p.time_point,
           CASE WHEN p.time_point = 'baseline' THEN at
                ELSE ((c.anchor + p.days_after) + time '10:00') AT TIME ZONE clinic_time_zone()
           END,
           CASE WHEN p.time_point = 'baseline'
                THEN (c.anchor + 1)::timestamp AT TIME ZONE clinic_time_zone()
                ELSE ((c.anchor + p.days_after + p.window_days) + time '10:00')
                     AT TIME ZONE clinic_time_zone()
           END
    FROM c JOIN questionnaires_schedulepoint p
        ON p.treatment = c.planned_treatment AND p.active
$$ LANGUAGE sql STABLE;
"""

PLAN = """
CREATE OR REPLACE FUNCTION questionnaires_plan(course bigint, at timestamptz) RETURNS void AS $$
BEGIN
    -- Open invitations follow the plan (a baseline keeps the time it was first due).
    UPDATE questionnaires_invitation i
    SET due_at = CASE WHEN i.time_point = 'baseline' THEN i.due_at ELSE w.due_at END,
        closes_at = w.closes_at,
        next_attempt_at = CASE
            WHEN i.messages_sent = 0 AND i.chase_from IS NULL AND i.failed_attempts = 0
                THEN least(CASE WHEN i.time_point = 'baseline' THEN i.due_at ELSE w.due_at END,
                           w.closes_at)
            ELSE least(i.next_attempt_at, w.closes_at) END,
        updated_at = at
    FROM questionnaires_wanted(course, at) w
    WHERE i.course_id = course AND i.time_point = w.time_point
      AND i.status IN ('planned', 'sent', 'opened')
      AND (i.due_at, i.closes_at) IS DISTINCT FROM
          (CASE WHEN i.time_point = 'baseline' THEN i.due_at ELSE w.due_at END, w.closes_at);

    INSERT INTO questionnaires_invitation
        (course_id, patient_id, time_point, due_at, closes_at, status, next_attempt_at,
         messages_sent, failed_attempts, ended_reason, created_at, updated_at)
    SELECT course, c.patient_id, w.time_point, w.due_at, w.closes_at, 'planned', w.due_at,
           0, 0, '', at, at
    FROM questionnaires_wanted(course, at) w
    JOIN treatments_treatmentcourse c ON c.id = course
    WHERE w.closes_at > at
    ON CONFLICT (course_id, time_point) DO NOTHING;

    UPDATE questionnaires_invitation i
    SET status = 'cancelled', next_attempt_at = NULL, chase_from = NULL, updated_at = at,
        ended_reason = 'No longer in the schedule of the course''s treatment.'
    WHERE i.course_id = course AND i.status = 'planned' AND i.messages_sent = 0
      AND i.time_point NOT IN (SELECT w.time_point FROM questionnaires_wanted(course, at) w);
END
$$ LANGUAGE plpgsql;
"""

TRIGGER_FUNCTION = """
CREATE OR REPLACE FUNCTION questionnaires_plan_trigger() RETURNS trigger AS $$
DECLARE
    r record;
BEGIN
    IF TG_TABLE_NAME = 'treatments_treatmentcourse' AND TG_OP = 'INSERT' THEN
        FOR r IN SELECT id AS course, updated_at AS at FROM new_rows ORDER BY id LOOP
            PERFORM questionnaires_plan(r.course, r.at);
        END LOOP;
    ELSIF TG_TABLE_NAME = 'treatments_treatmentcourse' THEN
        FOR r IN
            SELECT n.id AS course, n.updated_at AS at
            FROM new_rows n JOIN old_rows o ON o.id = n.id
            WHERE (n.planned_treatment, n.start_date) IS DISTINCT FROM
                  (o.planned_treatment, o.start_date)
            ORDER BY n.id
        LOOP
            PERFORM questionnaires_plan(r.course, r.at);
        END LOOP;
    ELSIF TG_OP = 'INSERT' THEN
        FOR r IN
            SELECT course_id AS course, max(updated_at) AS at FROM new_rows
            WHERE course_id IS NOT NULL GROUP BY course_id ORDER BY course_id
        LOOP
            PERFORM questionnaires_plan(r.course, r.at);
        END LOOP;
    ELSE
        -- A session moved, cancelled or given to another course: its courses, old and new.
        FOR r IN
            SELECT changed.course, max(changed.at) AS at FROM (
                SELECT n.course_id AS course, n.updated_at AS at
                FROM new_rows n JOIN old_rows o ON o.id = n.id
                WHERE (n.course_id, n.performed_at, n.status) IS DISTINCT FROM
                      (o.course_id, o.performed_at, o.status)
                UNION ALL
                SELECT o.course_id, n.updated_at
                FROM new_rows n JOIN old_rows o ON o.id = n.id
                WHERE n.course_id IS DISTINCT FROM o.course_id
            ) changed
            WHERE changed.course IS NOT NULL
            GROUP BY changed.course ORDER BY changed.course
        LOOP
            PERFORM questionnaires_plan(r.course, r.at);
        END LOOP;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
"""

# Transition tables allow one event per trigger.
TRIGGERED = [
    ("treatments_treatmentcourse", "INSERT", "NEW TABLE AS new_rows"),
    ("treatments_treatmentcourse", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    ("treatments_injectionsession", "INSERT", "NEW TABLE AS new_rows"),
    ("treatments_injectionsession", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
]
TRIGGERS = "".join(
    f"""
CREATE TRIGGER questionnaires_plan_{op.lower()} AFTER {op} ON {table}
REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION questionnaires_plan_trigger();
"""
    for table, op, referencing in TRIGGERED
)
DROP_TRIGGERS = "".join(
    f"DROP TRIGGER IF EXISTS questionnaires_plan_{op.lower()} ON {table};"
    for table, op, _ in TRIGGERED
)


class Migration(migrations.Migration):
    dependencies = [
        ("questionnaires", "0001_questionnaires_invitations_and_answers"),
        ("clinic", "0005_course_changes_kept_by_the_database"),
    ]

    operations = [
        migrations.RunSQL(
            WANTED, "DROP FUNCTION IF EXISTS questionnaires_wanted(bigint, timestamptz)"
        ),
        migrations.RunSQL(PLAN, "DROP FUNCTION IF EXISTS questionnaires_plan(bigint, timestamptz)"),
        migrations.RunSQL(
            TRIGGER_FUNCTION, "DROP FUNCTION IF EXISTS questionnaires_plan_trigger()"
        ),
        migrations.RunSQL(TRIGGERS, DROP_TRIGGERS),
    ]
