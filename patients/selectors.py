from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from patients.models import Instrument, Patient
from treatments.models import FollowUp, SessionStatus, SideEffect


@dataclass(frozen=True)
class TimelineEvent:
    kind: str  # "session", "side_effect", "follow_up" or "outcome"
    at: datetime.datetime
    record: Any


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _end_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(23, 59, 59)))


def patient_timeline(*, patient: Patient) -> list[TimelineEvent]:
    """Everything that happened to a patient, oldest first, in six queries however long the
    history: sessions, their injectates, their sites, side effects, follow-ups, scores.

    Side effects and scores carry a date, not a time: a side effect is placed at the end of its
    day (after that day's session), a score at its start (a baseline before the injection).
    """
    sessions = patient.sessions.with_parts()
    side_effects = SideEffect.objects.filter(session__patient=patient)
    follow_ups = FollowUp.objects.filter(patient=patient).select_related("patient")
    scores = patient.outcome_scores.all()
    events = [
        *(TimelineEvent("session", s.performed_at, s) for s in sessions),
        *(TimelineEvent("side_effect", _end_of(e.onset_date), e) for e in side_effects),
        *(TimelineEvent("follow_up", f.starts_at, f) for f in follow_ups),
        *(TimelineEvent("outcome", _start_of(o.measured_on), o) for o in scores),
    ]
    return sorted(events, key=lambda event: (event.at, event.kind, event.record.pk))


def _epoch_ms(moment: datetime.datetime) -> int:
    return int(moment.timestamp() * 1000)


def patient_score_series(*, patient: Patient) -> dict[str, Any]:
    """A patient's readings per instrument as chart points (x: epoch milliseconds), the
    pre-procedure pain of completed sessions counting as NPRS, and the sessions' times."""
    series: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for instrument, score, measured_on in patient.outcome_scores.values_list(
        "instrument", "score", "measured_on"
    ):
        series[instrument].append((_epoch_ms(_start_of(measured_on)), float(score)))
    sessions = list(
        patient.sessions.filter(status=SessionStatus.COMPLETED)
        .order_by("performed_at")
        .values_list("performed_at", "pre_pain_score")
    )
    for performed_at, pain in sessions:
        if pain is not None:
            series[Instrument.NPRS].append((_epoch_ms(performed_at), float(pain)))
    names = dict(Instrument.choices)
    return {
        "datasets": [
            {"label": names[code], "data": [{"x": x, "y": y} for x, y in sorted(points)]}
            for code, points in sorted(series.items())
        ],
        "sessions": [_epoch_ms(performed_at) for performed_at, _ in sessions],
    }
