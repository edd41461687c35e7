"""The clinic's reports, each one SQL aggregation in PostgreSQL: outcomes (change from baseline
and responders per instrument and time point), safety (side effects per 100 sessions), activity
(sessions per clinician and month, courses ended) and product recall (who received a lot).

Every report takes the same filters. Readings are outcome scores plus the pre-procedure pain
score of each completed session (an NPRS reading). A reading dated rather than taken at a named
time point counts at the time point nearest its distance from the baseline.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from patients.models import INSTRUMENTS

# Days after baseline that a dated reading counts as each time point.
TIME_POINT_DAYS = [
    ("2w", 7, 27),
    ("6w", 28, 62),
    ("3m", 63, 135),
    ("6m", 136, 270),
    ("12m", 271, 450),
]
TIME_POINT_ORDER = ["2w", "6w", "3m", "6m", "12m"]


@dataclass(frozen=True)
class ReportFilters:
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    treatment: str | None = None  # a TreatmentKind value
    condition: str | None = None  # an ICD-10 code
    body_region: str | None = None
    clinician: int | None = None

    def params(self) -> dict[str, Any]:
        return {
            "date_from": self.date_from,
            "date_to": self.date_to,
            "treatment": self.treatment,
            "condition": self.condition,
            "body_region": self.body_region,
            "clinician": self.clinician,
            "course": None,
            "tz": settings.TIME_ZONE,
        }


class Rows(list[dict[str, Any]]):
    """A report's rows, with its column names (also when there are no rows)."""

    def __init__(self, columns: list[str], rows: list[dict[str, Any]]) -> None:
        super().__init__(rows)
        self.columns = columns


def _rows(sql: str, params: dict[str, Any]) -> Rows:
    with transaction.atomic(), connection.cursor() as cursor:
        # One aggregation over many rows: sort in memory, and skip JIT compilation, which
        # costs more than it saves at this size.
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        return Rows(names, [dict(zip(names, row, strict=True)) for row in cursor.fetchall()])


_DIRECTIONS = ", ".join(f"('{code}', '{spec.better}')" for code, spec in INSTRUMENTS.items())
_TIME_POINTS = " ".join(
    f"WHEN r.measured_on - b.measured_on BETWEEN {low} AND {high} THEN '{point}'"
    for point, low, high in TIME_POINT_DAYS
)
# Courses within the filters (treatment, condition, body region, a session by the clinician).
_COURSES = """
    courses AS (
        SELECT c.id, c.patient_id, c.planned_treatment
        FROM treatments_treatmentcourse c
        JOIN patients_condition cd ON cd.id = c.condition_id
        WHERE (%(treatment)s::text IS NULL OR c.planned_treatment = %(treatment)s::text)
          AND (%(condition)s::text IS NULL OR cd.icd10_code = %(condition)s::text)
          AND (%(body_region)s::text IS NULL OR cd.body_region = %(body_region)s::text)
          AND (%(course)s::bigint IS NULL OR c.id = %(course)s::bigint)
          AND (%(clinician)s::bigint IS NULL OR EXISTS (
              SELECT 1 FROM treatments_injectionsession s
              WHERE s.course_id = c.id AND s.clinician_id = %(clinician)s::bigint))
    )
"""

# Per course, instrument and time point: the baseline, the latest reading, change and whether
# the improvement reaches the instrument's MCID.
_CHANGES = f"""
    WITH {_COURSES},
    readings AS (
        SELECT o.course_id, o.patient_id, o.instrument, o.score, o.time_point, o.measured_on,
               0 AS source
        FROM patients_outcomescore o JOIN courses c ON c.id = o.course_id
        UNION ALL
        SELECT s.course_id, s.patient_id, 'nprs', s.pre_pain_score,
               CASE WHEN s.performed_at = min(s.performed_at) OVER (PARTITION BY s.course_id)
                    THEN 'baseline' ELSE 'date' END,
               (s.performed_at AT TIME ZONE %(tz)s)::date, 1
        FROM treatments_injectionsession s JOIN courses c ON c.id = s.course_id
        WHERE s.status = 'completed' AND s.pre_pain_score IS NOT NULL
    ),
    baselines AS (
        SELECT DISTINCT ON (course_id, instrument) course_id, instrument, score, measured_on
        FROM readings WHERE time_point = 'baseline'
        ORDER BY course_id, instrument, source, measured_on
    ),
    later AS (
        SELECT DISTINCT ON (r.course_id, r.instrument, point)
               r.course_id, r.patient_id, r.instrument, r.score, r.measured_on,
               b.score AS baseline, b.measured_on AS baseline_on,
               CASE WHEN r.time_point <> 'date' THEN r.time_point
                    ELSE CASE {_TIME_POINTS} END END AS point
        FROM readings r JOIN baselines b USING (course_id, instrument)
        WHERE r.time_point <> 'baseline'
          AND (%(date_from)s::date IS NULL OR r.measured_on >= %(date_from)s::date)
          AND (%(date_to)s::date IS NULL OR r.measured_on <= %(date_to)s::date)
        ORDER BY r.course_id, r.instrument, point, r.source, r.measured_on DESC
    ),
    changes AS (
        SELECT l.*, l.score - l.baseline AS change,
               CASE d.better WHEN 'lower' THEN l.baseline - l.score
                             ELSE l.score - l.baseline END AS improvement,
               m.value AS mcid, m.unit AS mcid_unit
        FROM later l
        JOIN (VALUES {_DIRECTIONS}) AS d(instrument, better) USING (instrument)
        LEFT JOIN patients_instrumentmcid m USING (instrument)
        WHERE l.point IS NOT NULL
    ),
    responders AS (
        SELECT c.*,
               CASE WHEN c.mcid IS NULL THEN NULL
                    WHEN c.mcid_unit = 'percent' THEN
                        CASE WHEN c.baseline = 0 THEN NULL
                             ELSE c.improvement * 100 / c.baseline >= c.mcid END
                    ELSE c.improvement >= c.mcid END AS responder
        FROM changes c
    )
"""


def course_responses(*, course_id: int) -> Rows:
    """The course's change from baseline per instrument and time point, and whether each
    reaches the MCID (absolute points, or percent of baseline, as the instrument's MCID says)."""
    sql = (
        _CHANGES
        + """
        SELECT instrument, point AS time_point, baseline, baseline_on, score, measured_on,
               change, improvement, mcid, mcid_unit, responder
        FROM responders
        ORDER BY instrument, array_position(%(order)s::text[], point)
    """
    )
    return _rows(sql, ReportFilters().params() | {"course": course_id, "order": TIME_POINT_ORDER})


def outcomes(filters: ReportFilters) -> Rows:
    """Per instrument and time point: patients, median change from baseline, responder share."""
    sql = (
        _CHANGES
        + """
        SELECT instrument, point AS time_point,
               count(DISTINCT patient_id) AS patients,
               count(*) AS courses,
               round(percentile_cont(0.5) WITHIN GROUP (ORDER BY change)::numeric, 1)
                   AS median_change,
               round(100.0 * count(*) FILTER (WHERE responder)
                     / nullif(count(responder), 0), 1) AS responder_pct
        FROM responders
        GROUP BY instrument, point
        ORDER BY instrument, array_position(%(order)s::text[], point)
    """
    )
    return _rows(sql, filters.params() | {"order": TIME_POINT_ORDER})


# Completed sessions within the filters; ``treatment`` is what their injectates add up to
# (kept on the session by the database), "none" for a session without injectates.
_SESSIONS = """
    sessions AS NOT MATERIALIZED (
        SELECT s.id, s.clinician_id, s.performed_at, s.patient_id,
               coalesce(nullif(s.treatment, ''), 'none') AS treatment
        FROM treatments_injectionsession s
        LEFT JOIN treatments_treatmentcourse c ON c.id = s.course_id
        LEFT JOIN patients_condition cd ON cd.id = c.condition_id
        WHERE s.status = 'completed'
          AND (%(date_from)s::date IS NULL
               OR s.performed_at >= (%(date_from)s::date)::timestamp AT TIME ZONE %(tz)s)
          AND (%(date_to)s::date IS NULL
               OR s.performed_at < (%(date_to)s::date + 1)::timestamp AT TIME ZONE %(tz)s)
          AND (%(clinician)s::bigint IS NULL OR s.clinician_id = %(clinician)s::bigint)
          AND (%(condition)s::text IS NULL OR cd.icd10_code = %(condition)s::text)
          AND (%(body_region)s::text IS NULL OR cd.body_region = %(body_region)s::text)
          AND (%(treatment)s::text IS NULL OR s.treatment = %(treatment)s::text)
    )
"""


def safety(filters: ReportFilters) -> Rows:
    """Side effects per 100 sessions, by what was injected, kind of effect and grade."""
    sql = f"""
        WITH {_SESSIONS},
        totals AS (SELECT treatment, count(*) AS sessions FROM sessions GROUP BY treatment),
        effects AS (
            SELECT s.treatment, e.kind, e.grade, count(*) AS events,
                   count(*) FILTER (WHERE e.serious) AS serious
            FROM treatments_sideeffect e JOIN sessions s ON s.id = e.session_id
            GROUP BY s.treatment, e.kind, e.grade
        )
        SELECT t.treatment, t.sessions, e.kind, e.grade, coalesce(e.events, 0) AS events,
               coalesce(e.serious, 0) AS serious,
               round(100.0 * coalesce(e.events, 0) / t.sessions, 2) AS per_100_sessions
        FROM totals t LEFT JOIN effects e USING (treatment)
        ORDER BY t.treatment, e.kind NULLS FIRST, e.grade
    """
    return _rows(sql, filters.params())


def serious_events(filters: ReportFilters) -> Rows:
    """Every side effect recorded as serious (all of grade 3 and above) in scope."""
    sql = f"""
        WITH {_SESSIONS}
        SELECT e.id AS side_effect, s.id AS session,
               (s.performed_at AT TIME ZONE %(tz)s)::date AS session_date, s.treatment,
               p.id AS patient, p.mrn, e.kind, e.grade, e.onset_date, e.outcome, e.relatedness
        FROM sessions s
        JOIN treatments_sideeffect e ON e.session_id = s.id AND e.serious
        JOIN patients_patient p ON p.id = s.patient_id
        ORDER BY e.onset_date DESC, e.id DESC
    """
    return _rows(sql, filters.params())


def activity(filters: ReportFilters) -> Rows:
    """Sessions per clinician and month."""
    sql = f"""
        WITH {_SESSIONS},
        counted AS (
            SELECT date_trunc('month', s.performed_at AT TIME ZONE %(tz)s) AS month,
                   s.clinician_id, count(*) AS sessions
            FROM sessions s GROUP BY 1, 2
        )
        SELECT to_char(c.month, 'YYYY-MM') AS month, c.clinician_id AS clinician,
               coalesce(nullif(trim(u.first_name || ' ' || u.last_name), ''), u.username)
                   AS clinician_name,
               c.sessions
        FROM counted c JOIN auth_user u ON u.id = c.clinician_id
        ORDER BY c.month, clinician_name
    """
    return _rows(sql, filters.params())


def courses_ended(filters: ReportFilters) -> Rows:
    """Courses completed or stopped (by the day they ended), with the reasons for stopping."""
    sql = f"""
        WITH {_COURSES}
        SELECT t.status, c.planned_treatment AS treatment,
               CASE WHEN t.status = 'stopped' THEN t.stop_reason ELSE '' END AS reason,
               count(*) AS courses
        FROM courses c JOIN treatments_treatmentcourse t ON t.id = c.id
        WHERE t.status IN ('completed', 'stopped')
          AND (%(date_from)s::date IS NULL OR t.ended_on >= %(date_from)s::date)
          AND (%(date_to)s::date IS NULL OR t.ended_on <= %(date_to)s::date)
        GROUP BY 1, 2, 3
        ORDER BY 1, 2, count(*) DESC, 3
    """
    return _rows(sql, filters.params())


def recall(*, lot_number: str, filters: ReportFilters) -> Rows:
    """Every patient who received the lot: session date, product, sites and how to reach them."""
    sql = f"""
        WITH {_SESSIONS}
        SELECT p.id AS patient, p.mrn, p.given_name, p.family_name, p.phone, p.email,
               s.id AS session, (s.performed_at AT TIME ZONE %(tz)s)::date AS session_date,
               i.product_name, i.kind AS injectate, i.lot_number, i.expiry_date,
               coalesce(string_agg(
                   concat_ws(' ', site.laterality, site.body_region, site.structure), '; '
                   ORDER BY site.line), '') AS sites
        FROM treatments_injectate i
        JOIN sessions s ON s.id = i.session_id
        JOIN patients_patient p ON p.id = s.patient_id
        LEFT JOIN treatments_injectionsite site ON site.injectate_id = i.id
        WHERE i.lot_number = %(lot)s
        GROUP BY p.id, s.id, s.performed_at, i.id
        ORDER BY p.family_name, p.given_name, s.performed_at
    """
    return _rows(sql, filters.params() | {"lot": lot_number.strip()})
