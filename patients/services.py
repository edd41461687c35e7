from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from patients.models import Patient


def patient_archive(*, patient: Patient) -> Patient:
    """Archive a patient: kept with all their records, hidden from active lists."""
    with transaction.atomic():
        patient = Patient.objects.select_for_update().get(pk=patient.pk)
        if patient.archived_at is None:
            patient.archived_at = timezone.now()
            patient.save(update_fields=["archived_at", "updated_at"])
    return patient


def patient_restore(*, patient: Patient) -> Patient:
    with transaction.atomic():
        patient = Patient.objects.select_for_update().get(pk=patient.pk)
        if patient.archived_at is not None:
            patient.archived_at = None
            patient.save(update_fields=["archived_at", "updated_at"])
    return patient
