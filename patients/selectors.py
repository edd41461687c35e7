from __future__ import annotations

import datetime
import re

from django.contrib.postgres.search import TrigramSimilarity
from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Concat, Upper

from patients.models import Patient

MRN = re.compile(r"^MRN\d{1,8}$", re.IGNORECASE)
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y")


def birth_date_in(text: str) -> datetime.date | None:
    """A date of birth as staff type it: 1968-05-17, 17/05/1968, 17.05.1968 or 17-05-1968."""
    for pattern in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, pattern).date()  # noqa: DTZ007 - a day
        except ValueError:
            continue
    return None


def patients_matching(*, text: str, limit: int = 20) -> QuerySet[Patient]:
    """Active and archived patients matching what was typed: an MRN (whole, any case), a date
    of birth, or words each found in the given or family name (``okafor maria``, ``ok ma``).
    Words and a date together narrow each other. Ordered by family and given name."""
    words = text.split()
    if not words:
        return Patient.objects.none()
    query = Q()
    for word in words:
        born = birth_date_in(word)
        if MRN.match(word):
            query &= Q(mrn__iexact=word)
        elif born is not None:
            query &= Q(birth_date=born)
        else:
            query &= Q(family_name__icontains=word) | Q(given_name__icontains=word)
    # Sorted by keys no index holds, PostgreSQL finds the few matches through the trigram
    # indexes first (as the API's search does).
    return (
        Patient.objects.filter(query)
        .annotate(family_key=Upper("family_name"), given_key=Upper("given_name"))
        .order_by("family_key", "given_key", "id")[:limit]
    )


# Names at least this similar (pg_trgm, 0 to 1) with the same birth date may be one person:
# "Maria Okafor" and "Mariah Okafor" score 0.8, "Okafor Maria" 1.0, "John Okafor" 0.39.
SIMILAR_NAME = 0.5
SAME_NAME, SAME_PHONE, SAME_EMAIL = "name and date of birth", "phone", "email"


def patient_duplicates(
    *,
    given_name: str,
    family_name: str,
    birth_date: datetime.date | None,
    phone: str = "",
    email: str = "",
    exclude_id: int | None = None,
    limit: int = 10,
) -> list[Patient]:
    """Patients (archived ones too) who may be the person about to be registered: born the same
    day with a similar name, or with the same phone or email. Each carries ``matched_on``, the
    reasons in words."""
    name = f"{given_name} {family_name}".upper()
    query = Q(pk__in=[])
    if birth_date is not None and name.strip():
        query |= Q(birth_date=birth_date, name_similarity__gte=SIMILAR_NAME)
    if phone:
        query |= Q(phone=phone)
    if email:
        query |= Q(email__iexact=email)
    found = (
        Patient.objects.annotate(
            name_similarity=TrigramSimilarity(
                Concat(Upper("given_name"), Value(" "), Upper("family_name")),
                Value(name),  # type: ignore[arg-type]  # the stubs allow a field's name only
            )
        )
        .filter(query)
        .exclude(pk__in=[exclude_id] if exclude_id else [])
        .order_by("-name_similarity", "family_name", "given_name", "id")[:limit]
    )
    candidates: list[Patient] = list(found)
    for patient in candidates:
        patient.matched_on = [  # type: ignore[attr-defined]
            reason
            for reason, matched in (
                (
                    SAME_NAME,
                    patient.birth_date == birth_date and patient.name_similarity >= SIMILAR_NAME,  # type: ignore[attr-defined]
                ),
                (SAME_PHONE, bool(phone) and patient.phone == phone),
                (SAME_EMAIL, bool(email) and patient.email.upper() == email.upper()),
            )
            if matched
        ]
    return candidates
