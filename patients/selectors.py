from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from patients.models import Patient
from treatments.models import FollowUp, SideEffect
from treatments.selectors import sessions_with_parts


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
    sessions = sessions_with_parts(patient.sessions.all())
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
