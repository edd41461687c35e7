"""The chart's questionnaire panel: ``{% questionnaire_panel patient %}``."""

from __future__ import annotations

from typing import Any

from django import template

from patients.models import Patient
from questionnaires import selectors

register = template.Library()


@register.inclusion_tag("questionnaires/chart_panel_body.html", takes_context=True)
def questionnaire_panel(context: dict[str, Any], patient: Patient) -> dict[str, Any]:
    """Per course, each time point's state, and the new problems the patient reported that a
    clinician has not reviewed yet."""
    request = context.get("request")
    return {
        "patient": patient,
        "courses": selectors.patient_time_points(patient=patient),
        "problems": selectors.problems_to_review(patient=patient),
        "csrf_token": context.get("csrf_token"),
        "back": request.get_full_path() if request is not None else "",
    }
