from __future__ import annotations

from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from treatments.models import (
    Injectate,
    InjectateKind,
    InjectionSession,
    InjectionSite,
    TreatmentKind,
)

# What each treatment means in terms of the injectates a session received.
TREATMENT_INJECTATES: dict[str, tuple[str, ...]] = {
    TreatmentKind.PRP: (InjectateKind.PRP,),
    TreatmentKind.DEXTROSE: (InjectateKind.DEXTROSE,),
    TreatmentKind.EXOSOME: (InjectateKind.EXOSOME,),
    TreatmentKind.PRP_DEXTROSE: (InjectateKind.PRP, InjectateKind.DEXTROSE),
    TreatmentKind.PRP_EXOSOME: (InjectateKind.PRP, InjectateKind.EXOSOME),
}


def sessions_given(
    queryset: QuerySet[InjectionSession], *, treatment: str
) -> QuerySet[InjectionSession]:
    """Sessions in which every injectate kind of ``treatment`` was given."""
    for kind in TREATMENT_INJECTATES.get(treatment, ()):
        queryset = queryset.filter(
            Exists(Injectate.objects.filter(session=OuterRef("pk"), kind=kind))
        )
    return queryset


def sessions_with_parts(queryset: QuerySet[InjectionSession]) -> QuerySet[InjectionSession]:
    """Sessions with their injectates and sites, in a fixed number of queries."""
    return queryset.select_related("clinician").prefetch_related(
        "injectates",
        Prefetch("sites", InjectionSite.objects.select_related("injectate")),
        "addenda",
    )
