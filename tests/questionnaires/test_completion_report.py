"""Completion per time point and treatment in the reports (API, CSV and the reports page), and
the outcomes report limited to patient-reported changes."""

from __future__ import annotations

import pytest
from django.test import Client

from questionnaires import services
from questionnaires.models import Invitation
from tests.conftest import token_client
from tests.questionnaires.conftest import due_six_week_invitation

pytestmark = pytest.mark.django_db


@pytest.fixture
def six_weeks():
    """Three PRP courses and a dextrose one at 6 weeks: two completed, one missed, one open."""
    done = [due_six_week_invitation() for _ in range(2)]
    for invitation in done:
        services.invitation_complete(invitation=invitation, new_problem=False)
    missed = due_six_week_invitation()
    Invitation.objects.filter(pk=missed.pk).update(
        status="missed", next_attempt_at=None, ended_reason="Not answered before it closed."
    )
    due_six_week_invitation(treatment="dextrose")


def test_completion_per_treatment_and_time_point(six_weeks, clinician):
    body = token_client(clinician).get("/api/v1/reports/prom-completion/").json()
    assert body["columns"] == [
        "treatment",
        "time_point",
        "due",
        "completed",
        "missed",
        "still_open",
        "completion_pct",
    ]
    rows = {(r["treatment"], r["time_point"]): r for r in body["rows"]}
    assert rows[("prp", "6w")] | {
        "completion_pct": float(rows[("prp", "6w")]["completion_pct"])
    } == {
        "treatment": "prp",
        "time_point": "6w",
        "due": 3,
        "completed": 2,
        "missed": 1,
        "still_open": 0,
        "completion_pct": 66.7,
    }
    assert rows[("dextrose", "6w")]["still_open"] == 1
    treatment = token_client(clinician).get("/api/v1/reports/prom-completion/?treatment=dextrose")
    assert [r["treatment"] for r in treatment.json()["rows"]] == ["dextrose"]
    csv = token_client(clinician).get("/api/v1/reports/prom-completion/?format=csv")
    assert csv.content.decode().splitlines()[0].startswith("treatment,time_point,due")


def test_the_front_desk_does_not_run_the_completion_report(six_weeks, front_desk):
    assert token_client(front_desk).get("/api/v1/reports/prom-completion/").status_code == 403


def test_the_reports_page_charts_completion(six_weeks, clinician):
    client = Client()
    client.force_login(clinician)
    page = client.get("/admin/reports/").content.decode()
    assert 'id="completion-chart"' in page and "Patient questionnaires" in page
    assert (
        "<td>PRP</td><td>6 weeks</td><td>3</td><td>2</td><td>1</td><td>0</td><td>66.7</td>" in page
    )


def test_the_outcomes_report_takes_a_patient_reported_filter_and_refuses_other_values(
    clinician,
):
    api = token_client(clinician)
    assert api.get("/api/v1/reports/outcomes/?patient_reported=true").status_code == 200
    refused = api.get("/api/v1/reports/outcomes/?patient_reported=yes")
    assert refused.status_code == 400 and "patient_reported" in refused.json()["errors"]
    client = Client()
    client.force_login(clinician)
    page = client.get("/admin/reports/?patient_reported=on").content.decode()
    assert "patient_reported=true" in page  # the CSV links ask the API the same
