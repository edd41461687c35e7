"""The demo clinic's courses get their invitations from the database as they are loaded; of
those due, some were answered (patient-reported scores), some chased and listed for a call,
some declined on the phone; the rest wait for the dispatch pass."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from patients.models import OutcomeScore
from questionnaires.models import Invitation
from questionnaires.selectors import call_list
from treatments.models import TreatmentCourse

pytestmark = pytest.mark.django_db


def test_demo_courses_get_invitations_answered_chased_and_missed(capsys):
    call_command("seed_demo", patients=150, seed=2, verbosity=0)
    assert "invitations answered" in capsys.readouterr().out
    courses = TreatmentCourse.objects.count()
    planned = Invitation.objects.values("course").distinct().count()
    assert planned > courses * 0.8  # every course with a time point still open
    statuses = set(Invitation.objects.values_list("status", flat=True))
    assert {"planned", "sent", "completed", "missed"} <= statuses
    answered = OutcomeScore.objects.filter(patient_reported=True)
    assert answered.filter(instrument="nprs").exists()
    assert answered.filter(instrument__startswith="koos_").exists()
    assert call_list().exists()
    assert Invitation.objects.filter(status="missed", calls__outcome="declined").exists()
