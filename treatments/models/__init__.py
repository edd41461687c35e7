from __future__ import annotations

from treatments.models.courses import CourseStatus, TreatmentCourse, TreatmentKind
from treatments.models.follow_ups import FollowUp, FollowUpKind, FollowUpStatus
from treatments.models.sessions import (
    Activation,
    Addendum,
    Anaesthetic,
    Anticoagulant,
    ExosomeSource,
    Guidance,
    Injectate,
    InjectateKind,
    InjectionSession,
    InjectionSite,
    RichOrPoor,
    SessionStatus,
    Tissue,
)
from treatments.models.side_effects import (
    Grade,
    Relatedness,
    Reporter,
    SideEffect,
    SideEffectKind,
    SideEffectOutcome,
)

__all__ = [
    "Activation",
    "Addendum",
    "Anaesthetic",
    "Anticoagulant",
    "CourseStatus",
    "ExosomeSource",
    "FollowUp",
    "FollowUpKind",
    "FollowUpStatus",
    "Grade",
    "Guidance",
    "Injectate",
    "InjectateKind",
    "InjectionSession",
    "InjectionSite",
    "Relatedness",
    "Reporter",
    "RichOrPoor",
    "SessionStatus",
    "SideEffect",
    "SideEffectKind",
    "SideEffectOutcome",
    "Tissue",
    "TreatmentCourse",
    "TreatmentKind",
]
