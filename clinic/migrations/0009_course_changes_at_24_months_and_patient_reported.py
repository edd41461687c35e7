"""The course changes the outcomes reports read, with the 24-month time point (a dated reading
451-900 days from the baseline counts there), HOOS and the global rating of change among the
instruments, and whether a change was measured from the patient's own answers alone (its
baseline and its reading both patient-reported outcome scores)."""

import importlib

from django.db import migrations, models

BEFORE = importlib.import_module("clinic.migrations.0005_course_changes_kept_by_the_database")

VIEW = """
DROP VIEW IF EXISTS clinic_course_changes;
CREATE VIEW clinic_course_changes AS
WITH readings AS NOT MATERIALIZED (
    SELECT o.course_id, o.patient_id, o.instrument, o.score, o.time_point, o.measured_on,
           0 AS source, o.patient_reported AS reported
    FROM patients_outcomescore o WHERE o.course_id IS NOT NULL
    UNION ALL
    SELECT s.course_id, s.patient_id, 'nprs', s.pre_pain_score,
           CASE WHEN s.performed_at = min(s.performed_at) OVER (PARTITION BY s.course_id)
                THEN 'baseline' ELSE 'date' END,
           (s.performed_at AT TIME ZONE clinic_time_zone())::date, 1, false
    FROM treatments_injectionsession s
    WHERE s.course_id IS NOT NULL AND s.status = 'completed' AND s.pre_pain_score IS NOT NULL
),
baselines AS NOT MATERIALIZED (
    SELECT DISTINCT ON (course_id, instrument) course_id, instrument, score, measured_on, reported
    FROM readings WHERE time_point = 'baseline'
    ORDER BY course_id, instrument, source, measured_on
),
later AS NOT MATERIALIZED (
    SELECT DISTINCT ON (r.course_id, r.instrument, point)
           r.course_id, r.patient_id, r.instrument, r.score, r.measured_on,
           b.score AS baseline, b.measured_on AS baseline_on,
           r.reported AND b.reported AS patient_reported,
           CASE WHEN r.time_point <> 'date' THEN r.time_point
                WHEN r.measured_on - b.measured_on BETWEEN 7 AND 27 THEN '2w'
                WHEN r.measured_on - b.measured_on BETWEEN 28 AND 62 THEN '6w'
                WHEN r.measured_on - b.measured_on BETWEEN 63 AND 135 THEN '3m'
                WHEN r.measured_on - b.measured_on BETWEEN 136 AND 270 THEN '6m'
                WHEN r.measured_on - b.measured_on BETWEEN 271 AND 450 THEN '12m'
                WHEN r.measured_on - b.measured_on BETWEEN 451 AND 900 THEN '24m'
           END AS point
    FROM readings r JOIN baselines b USING (course_id, instrument)
    WHERE r.time_point <> 'baseline'
    ORDER BY r.course_id, r.instrument, point, r.source, r.measured_on DESC
)
SELECT l.course_id, l.patient_id, c.planned_treatment AS treatment, cd.icd10_code,
       cd.body_region, l.instrument, l.point AS time_point, l.baseline, l.baseline_on, l.score,
       l.measured_on, l.score - l.baseline AS change,
       CASE d.better WHEN 'lower' THEN l.baseline - l.score ELSE l.score - l.baseline END
           AS improvement,
       l.patient_reported
FROM later l
JOIN treatments_treatmentcourse c ON c.id = l.course_id
JOIN patients_condition cd ON cd.id = c.condition_id
JOIN (VALUES ('nprs', 'lower'), ('vas', 'lower'), ('womac', 'lower'),
             ('koos_pain', 'higher'), ('koos_symptoms', 'higher'), ('koos_adl', 'higher'),
             ('koos_sport', 'higher'), ('koos_qol', 'higher'), ('odi', 'lower'),
             ('quickdash', 'lower'), ('prtee', 'lower'), ('visa_a', 'higher'),
             ('visa_p', 'higher'), ('hoos_pain', 'higher'), ('hoos_symptoms', 'higher'),
             ('hoos_adl', 'higher'), ('hoos_sport', 'higher'), ('hoos_qol', 'higher'),
             ('grc', 'higher')) AS d(instrument, better) USING (instrument)
WHERE l.point IS NOT NULL;
"""

COLUMNS = f"{BEFORE.COLUMNS}, patient_reported"
REFRESH = BEFORE.REFRESH.replace(BEFORE.COLUMNS, COLUMNS)
OLD_VIEW = "DROP VIEW IF EXISTS clinic_course_changes;" + BEFORE.VIEW


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0008_plain_api_tokens_removed"),
        ("patients", "0007_patient_reported_scores_hoos_grc_and_24_months"),
    ]

    operations = [
        migrations.AddField(
            model_name="coursechange",
            name="patient_reported",
            field=models.BooleanField(
                default=False,
                help_text="The baseline and the reading both scored from the patient's own "
                "answers.",
            ),
        ),
        migrations.RunSQL(VIEW, OLD_VIEW),
        migrations.RunSQL(REFRESH, BEFORE.REFRESH),
        migrations.RunSQL(
            "SELECT clinic_course_changes_refresh(NULL)",
            "SELECT clinic_course_changes_refresh(NULL)",
        ),
    ]
