from __future__ import annotations

import datetime
import re

from django.db.models import Q, QuerySet
from django.db.models.functions import Upper

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
