"""A signed session never changes, through the API or the admin; corrections are addenda."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import (
    ClinicianFactory,
    SessionFactory,
    SideEffectFactory,
    SiteFactory,
)
from treatments.models import InjectionSession

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed(api, clinician):
    site = SiteFactory(session__clinician=clinician)
    effect = SideEffectFactory(session=site.session, site=site)
    response = api.post(f"/api/v1/sessions/{site.session_id}/sign/")
    assert response.status_code == 200, response.json()
    assert response.json()["signed_by"] == clinician.pk
    return site.session, effect


def test_signed_session_refuses_every_change_through_the_api(api, signed):
    session, _ = signed
    url = f"/api/v1/sessions/{session.pk}/"
    before = api.get(url).json()
    for change in ({"notes": "changed"}, {"sites": []}, {"injectates": []}):
        response = api.patch(url, change, format="json")
        assert response.status_code == 409
        assert "signed" in response.json()["detail"]
        assert "addendum" in response.json()["detail"]
    assert api.put(url, before, format="json").status_code == 409
    assert api.post(f"{url}sign/").status_code == 409
    assert api.get(url).json() == before


def test_addendum_is_added_to_a_signed_session(api, clinician, signed):
    session, _ = signed
    response = api.post(
        f"/api/v1/sessions/{session.pk}/addenda/", {"text": "Site 1 volume was 4 mL."}
    )
    assert response.status_code == 201
    assert response.json()["author"] == clinician.pk
    addenda = api.get(f"/api/v1/sessions/{session.pk}/").json()["addenda"]
    assert [a["text"] for a in addenda] == ["Site 1 volume was 4 mL."]
    empty = api.post(f"/api/v1/sessions/{session.pk}/addenda/", {"text": ""})
    assert empty.status_code == 400
    assert "text" in empty.json()["errors"]


def test_addendum_needs_a_signed_session(api):
    session = SessionFactory()
    response = api.post(f"/api/v1/sessions/{session.pk}/addenda/", {"text": "x"})
    assert response.status_code == 400
    assert response.json()["errors"]["text"] == ["The session is not signed; change it directly."]


def test_only_the_sessions_clinician_signs_a_completed_session(api, clinician):
    other = SessionFactory(clinician=ClinicianFactory())
    refused = api.post(f"/api/v1/sessions/{other.pk}/sign/")
    assert refused.status_code == 403
    assert refused.json()["detail"] == "Only the session's clinician can sign it."
    planned = SessionFactory(clinician=clinician, status="planned", consent_obtained=False)
    response = api.post(f"/api/v1/sessions/{planned.pk}/sign/")
    assert response.status_code == 400
    assert "status" in response.json()["errors"]
    assert not InjectionSession.objects.filter(signed_at__isnull=False).exists()


def test_side_effects_found_later_are_still_recorded(api, signed):
    session, at_visit = signed
    frozen = api.patch(f"/api/v1/side-effects/{at_visit.pk}/", {"grade": 2}, format="json")
    assert frozen.status_code == 409
    later = api.post(
        "/api/v1/side-effects/",
        {
            "session": session.pk,
            "kind": "bruising",
            "grade": 1,
            "onset_date": at_visit.onset_date.isoformat(),
            "relatedness": "probable",
            "outcome": "recovering",
            "reported_by": "patient",
        },
        format="json",
    )
    assert later.status_code == 201, later.json()
    update = api.patch(
        f"/api/v1/side-effects/{later.json()['id']}/",
        {"outcome": "resolved", "resolved_date": at_visit.onset_date.isoformat()},
        format="json",
    )
    assert update.status_code == 200


def test_signed_session_is_read_only_in_the_admin(clinician, clinician_client):
    session = SessionFactory(clinician=clinician, notes="as signed", signed=True)
    url = reverse("admin:treatments_injectionsession_change", args=[session.pk])
    page = clinician_client.get(url).content.decode()
    assert 'name="notes"' not in page
    assert 'name="addenda-0-text"' in page
    response = clinician_client.post(
        url,
        {
            "notes": "rewritten",
            "addenda-TOTAL_FORMS": "1",
            "addenda-INITIAL_FORMS": "0",
            "addenda-MIN_NUM_FORMS": "0",
            "addenda-MAX_NUM_FORMS": "1000",
            "addenda-0-text": "Pain score was 5, not 6.",
            "injectates-TOTAL_FORMS": "0",
            "injectates-INITIAL_FORMS": "0",
            "sites-TOTAL_FORMS": "0",
            "sites-INITIAL_FORMS": "0",
            "side_effects-TOTAL_FORMS": "0",
            "side_effects-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.notes == "as signed"
    assert [a.text for a in session.addenda.all()] == ["Pain score was 5, not 6."]
    assert session.addenda.get().author == clinician


def test_sign_action_in_the_admin(clinician, clinician_client):
    session = SessionFactory(clinician=clinician)
    response = clinician_client.post(
        reverse("admin:treatments_injectionsession_changelist"),
        {"action": "sign", "_selected_action": [session.pk]},
        follow=True,
    )
    assert "Signed: 1." in response.content.decode()
    session.refresh_from_db()
    assert session.signed_by == clinician
