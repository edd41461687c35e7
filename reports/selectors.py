"""The clinic's reports, each one SQL aggregation in PostgreSQL: outcomes (change from baseline
and responders per instrument and time point), safety (side effects per 100 sessions), activity
(sessions per clinician and month, courses ended) and product recall (who received a lot).

Every report takes the same filters. Outcomes read the course changes the database keeps
(clinic.models.CourseChange: per course, instrument and time point the reading that counts and
its change from baseline; readings are outcome scores plus each completed session's
pre-procedure pain score as NPRS, and a reading dated rather than taken at a named time point
counts at the point its distance from the baseline falls in; of several at one point, an outcome
score counts before a session's pain score, and the latest of those). Their date filters select
by the date of the reading that counts.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

TIME_POINT_ORDER = ["2w", "6w", "3m", "6m", "12m", "24m"]


@dataclass(frozen=True)
class ReportFilters:
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    treatment: str | None = None  # a TreatmentKind value
    condition: str | None = None  # an ICD-10 code
    body_region: str | None = None
    clinician: int | None = None
    # Outcomes only: True keeps the changes measured from patients' own answers alone.
    patient_reported: bool | None = None

    def params(self) -> dict[str, Any]:
        return {
            "date_from": self.date_from,
            "date_to": self.date_to,
            "treatment": self.treatment,
            "condition": self.condition,
            "body_region": self.body_region,
            "clinician": self.clinician,
            "patient_reported": self.patient_reported,
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


# Courses within the filters (treatment, condition, body region, a session by the clinician).
_COURSES = """
    courses AS (
        SELECT c.id, c.patient_id, c.planned_treatment
        FROM treatments_treatmentcourse c
        JOIN patients_condition cd ON cd.id = c.condition_id
        WHERE (%(treatment)s::text IS NULL OR c.planned_treatment = %(treatment)s::text)
          AND (%(condition)s::text IS NULL OR cd.icd10_code = %(condition)s::text)
          AND (%(body_region)s::text IS NULL OR cd.body_region = %(body_region)s::text)
          AND (%(clinician)s::bigint IS NULL OR EXISTS (
              SELECT 1 FROM treatments_injectionsession s
              WHERE s.course_id = c.id AND s.clinician_id = %(clinician)s::bigint))
    )
"""
# Whether a change reaches the instrument's MCID: absolute points, or percent of baseline.
_RESPONDER = """
    CASE WHEN m.value IS NULL THEN NULL
         WHEN m.unit = 'percent' THEN
             CASE WHEN ch.baseline = 0 THEN NULL
                  ELSE ch.improvement * 100 / ch.baseline >= m.value END
         ELSE ch.improvement >= m.value END
"""


# The stored course changes (clinic.models.CourseChange, kept by the database) within the
# filters, with each one's MCID and whether it reaches it.
_CHANGES = f"""
    SELECT ch.course_id, ch.patient_id, ch.instrument, ch.time_point AS point, ch.change,
           {_RESPONDER} AS responder
    FROM clinic_coursechange ch
    LEFT JOIN patients_instrumentmcid m ON m.instrument = ch.instrument
    WHERE (%(treatment)s::text IS NULL OR ch.treatment = %(treatment)s::text)
      AND (%(condition)s::text IS NULL OR ch.icd10_code = %(condition)s::text)
      AND (%(body_region)s::text IS NULL OR ch.body_region = %(body_region)s::text)
      AND (%(clinician)s::bigint IS NULL OR EXISTS (
          SELECT 1 FROM treatments_injectionsession s
          WHERE s.course_id = ch.course_id AND s.clinician_id = %(clinician)s::bigint))
      AND (%(date_from)s::date IS NULL OR ch.measured_on >= %(date_from)s::date)
      AND (%(date_to)s::date IS NULL OR ch.measured_on <= %(date_to)s::date)
      AND (%(patient_reported)s::boolean IS NULL
           OR ch.patient_reported = %(patient_reported)s::boolean)
"""


def course_responses(*, course_id: int) -> Rows:
    """The course's change from baseline per instrument and time point, and whether each
    reaches the MCID (absolute points, or percent of baseline, as the instrument's MCID says)."""
    sql = f"""
        SELECT ch.instrument, ch.time_point, ch.baseline, ch.baseline_on, ch.score,
               ch.measured_on, ch.change, ch.improvement, m.value AS mcid, m.unit AS mcid_unit,
               {_RESPONDER} AS responder
        FROM clinic_coursechange ch
        LEFT JOIN patients_instrumentmcid m ON m.instrument = ch.instrument
        WHERE ch.course_id = %(course)s
        ORDER BY ch.instrument, array_position(%(order)s::text[], ch.time_point)
    """
    return _rows(sql, {"course": course_id, "order": TIME_POINT_ORDER})


def outcomes(filters: ReportFilters) -> Rows:
    """Per instrument and time point: patients, median change from baseline, responder share.

    One pass counts courses per change value (the median is read off their running totals),
    another counts distinct patients (from an index when nothing narrows the courses)."""
    sql = f"""
        WITH changes AS NOT MATERIALIZED ({_CHANGES}),
        cells AS (
            SELECT instrument, point, change, count(*) AS n,
                   count(*) FILTER (WHERE responder) AS yes, count(responder) AS known
            FROM changes GROUP BY instrument, point, change
        ),
        running AS (
            SELECT *, sum(n) OVER (PARTITION BY instrument, point ORDER BY change) AS upto,
                   sum(n) OVER (PARTITION BY instrument, point) AS total
            FROM cells
        ),
        summary AS (
            SELECT instrument, point, max(total)::bigint AS courses,
                   (min(change) FILTER (WHERE upto >= floor((total + 1) / 2))
                    + min(change) FILTER (WHERE upto >= floor(total / 2) + 1)) / 2 AS median,
                   sum(yes) AS yes, sum(known) AS known
            FROM running GROUP BY instrument, point
        ),
        patients AS (
            SELECT instrument, point, count(DISTINCT patient_id) AS patients
            FROM changes GROUP BY instrument, point
        )
        SELECT s.instrument, s.point AS time_point, p.patients, s.courses,
               round(s.median, 1) AS median_change,
               round(100.0 * s.yes / nullif(s.known, 0), 1) AS responder_pct
        FROM summary s JOIN patients p USING (instrument, point)
        ORDER BY s.instrument, array_position(%(order)s::text[], s.point)
    """
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


def prom_completion(filters: ReportFilters, *, now: datetime.datetime | None = None) -> Rows:
    """Per treatment and time point: questionnaires due (sent or to be called; the date filters
    select by the day they were due), completed, missed and still open, and the share
    completed. Cancelled invitations (no longer in a course's schedule) are left out."""
    sql = f"""
        WITH {_COURSES}
        SELECT c.planned_treatment AS treatment, i.time_point, count(*) AS due,
               count(*) FILTER (WHERE i.status = 'completed') AS completed,
               count(*) FILTER (WHERE i.status = 'missed') AS missed,
               count(*) FILTER (WHERE i.status IN ('planned', 'sent', 'opened')) AS still_open,
               round(100.0 * count(*) FILTER (WHERE i.status = 'completed') / count(*), 1)
                   AS completion_pct
        FROM questionnaires_invitation i JOIN courses c ON c.id = i.course_id
        WHERE i.status <> 'cancelled' AND i.due_at <= %(now)s
          AND (%(date_from)s::date IS NULL
               OR i.due_at >= (%(date_from)s::date)::timestamp AT TIME ZONE %(tz)s)
          AND (%(date_to)s::date IS NULL
               OR i.due_at < (%(date_to)s::date + 1)::timestamp AT TIME ZONE %(tz)s)
        GROUP BY 1, 2
        ORDER BY 1, array_position(%(order)s::text[], i.time_point)
    """
    order = ["baseline", *TIME_POINT_ORDER]
    return _rows(sql, filters.params() | {"now": now or timezone.now(), "order": order})


def attendance(filters: ReportFilters) -> Rows:
    """Per month and clinician, of the follow-ups booked to start in the range (proposals left
    out): bookings, no-shows and their share of the visits that fell due (attended or missed),
    cancellations, and late ones (within ``LATE_CANCEL_HOURS`` of the start, by anyone) and
    their share of the bookings."""
    sql = """
        WITH booked AS (
            SELECT f.clinician_id, f.status,
                   date_trunc('month', f.starts_at AT TIME ZONE %(tz)s) AS month,
                   f.status = 'cancelled' AND f.cancelled_at IS NOT NULL
                       AND f.cancelled_at > f.starts_at - make_interval(hours => %(late)s)
                       AS late
            FROM treatments_followup f
            WHERE f.status <> 'proposed'
              AND (%(date_from)s::date IS NULL
                   OR f.starts_at >= (%(date_from)s::date)::timestamp AT TIME ZONE %(tz)s)
              AND (%(date_to)s::date IS NULL
                   OR f.starts_at < (%(date_to)s::date + 1)::timestamp AT TIME ZONE %(tz)s)
              AND (%(clinician)s::bigint IS NULL OR f.clinician_id = %(clinician)s::bigint)
        ),
        counted AS (
            SELECT month, clinician_id, count(*) AS bookings,
                   count(*) FILTER (WHERE status IN ('checked_in', 'completed', 'no_show'))
                       AS fell_due,
                   count(*) FILTER (WHERE status = 'no_show') AS no_shows,
                   count(*) FILTER (WHERE status = 'cancelled') AS cancellations,
                   count(*) FILTER (WHERE late) AS late_cancellations
            FROM booked GROUP BY 1, 2
        )
        SELECT to_char(c.month, 'YYYY-MM') AS month, c.clinician_id AS clinician,
               coalesce(nullif(trim(u.first_name || ' ' || u.last_name), ''), u.username)
                   AS clinician_name,
               c.bookings, c.no_shows,
               round(100.0 * c.no_shows / nullif(c.fell_due, 0), 1) AS no_show_pct,
               c.cancellations, c.late_cancellations,
               round(100.0 * c.late_cancellations / c.bookings, 1) AS late_cancel_pct
        FROM counted c JOIN auth_user u ON u.id = c.clinician_id
        ORDER BY c.month, clinician_name
    """
    return _rows(sql, filters.params() | {"late": settings.LATE_CANCEL_HOURS})


def waitlist_fills(filters: ReportFilters, *, today: datetime.date | None = None) -> Rows:
    """Per month patients were put on the waitlist (the date filters select by that day):
    entries, those booked from it, withdrawn, lapsed (their last day passed unbooked) and still
    waiting, the share booked and the median days from joining the list to being booked.
    ``clinician`` keeps the entries for that clinician or booked with them."""
    sql = """
        WITH entries AS (
            SELECT w.status, w.latest,
                   date_trunc('month', w.created_at AT TIME ZONE %(tz)s) AS month,
                   extract(epoch FROM f.created_at - w.created_at) / 86400 AS days_to_booking
            FROM treatments_waitlistentry w
            LEFT JOIN treatments_followup f ON f.id = w.follow_up_id
            WHERE (%(date_from)s::date IS NULL
                   OR w.created_at >= (%(date_from)s::date)::timestamp AT TIME ZONE %(tz)s)
              AND (%(date_to)s::date IS NULL
                   OR w.created_at < (%(date_to)s::date + 1)::timestamp AT TIME ZONE %(tz)s)
              AND (%(clinician)s::bigint IS NULL OR w.clinician_id = %(clinician)s::bigint
                   OR f.clinician_id = %(clinician)s::bigint)
        )
        SELECT to_char(month, 'YYYY-MM') AS month, count(*) AS entries,
               count(*) FILTER (WHERE status = 'booked') AS booked,
               count(*) FILTER (WHERE status = 'withdrawn') AS withdrawn,
               count(*) FILTER (WHERE status = 'waiting' AND latest < %(today)s) AS lapsed,
               count(*) FILTER (WHERE status = 'waiting' AND latest >= %(today)s) AS waiting,
               round(100.0 * count(*) FILTER (WHERE status = 'booked') / count(*), 1)
                   AS booked_pct,
               round((percentile_cont(0.5) WITHIN GROUP (ORDER BY days_to_booking))::numeric, 1)
                   AS median_days_to_booking
        FROM entries GROUP BY month ORDER BY month
    """
    return _rows(sql, filters.params() | {"today": today or timezone.localdate()})
