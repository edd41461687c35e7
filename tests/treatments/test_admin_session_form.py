"""A clinician logs a whole session (injectates, sites, side effects) in one admin save."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.clinic.test_admin_crawl import Page, as_post
from tests.factories import (
    InjectateFactory,
    PatientFactory,
    SessionFactory,
    SideEffectFactory,
    SiteFactory,
)
from treatments import services
from treatments.models import Injectate, InjectionSession, InjectionSite, SideEffect

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:treatments_injectionsession_add")


def management(prefix: str, total: int, initial: int = 0) -> dict[str, str]:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def rows(prefix: str, forms: list[dict[str, str]]) -> dict[str, str]:
    return {f"{prefix}-{i}-{k}": v for i, form in enumerate(forms) for k, v in form.items()}


def session_post(patient, clinician, *, injectates, sites, side_effects) -> dict[str, str]:
    when = timezone.localtime() - datetime.timedelta(hours=2)
    data = {
        "patient": str(patient.pk),
        "clinician": str(clinician.pk),
        "performed_at_0": when.strftime("%Y-%m-%d"),
        "performed_at_1": when.strftime("%H:%M"),
        "status": "completed",
        "guidance": "ultrasound",
        "consent_obtained": "on",
        "pre_pain_score": "7",
        "notes": "Right knee, medial side.",
    }
    for prefix, forms in (
        ("injectates", injectates),
        ("sites", sites),
        ("side_effects", side_effects),
    ):
        data |= management(prefix, len(forms)) | rows(prefix, forms)
    return data


def prp(line: str = "1") -> dict[str, str]:
    expiry = timezone.localdate() + datetime.timedelta(days=200)
    return {
        "line": line,
        "kind": "prp",
        "volume_ml": "5",
        "product_name": "PRP",
        "lot_number": "K123456",
        "expiry_date": expiry.isoformat(),
        "whole_blood_ml": "30",
        "prp_system": "ACP Double Syringe",
        "spins": "2",
        "anticoagulant": "acd_a",
        "leukocytes": "poor",
        "red_cells": "poor",
        "activation": "none",
        "platelet_count": "1100",
        "baseline_platelet_count": "240",
    }


def dextrose(line: str = "2", pct: str = "15") -> dict[str, str]:
    return {
        "line": line,
        "kind": "dextrose",
        "volume_ml": "10",
        "product_name": "Dextrose 50%",
        "lot_number": "D555",
        "expiry_date": (timezone.localdate() + datetime.timedelta(days=300)).isoformat(),
        "dextrose_pct": pct,
        "anaesthetic": "lidocaine",
        "anaesthetic_pct": "0.5",
        "diluent": "Sodium chloride 0.9%",
    }


def site(line: str, injectate_line: str, structure: str) -> dict[str, str]:
    return {
        "line": line,
        "injectate_line": injectate_line,
        "body_region": "knee",
        "structure": structure,
        "tissue": "ligament",
        "laterality": "right",
        "volume_ml": "2",
        "needle_gauge": "25",
    }


def side_effect(**overrides: str) -> dict[str, str]:
    today = timezone.localdate().isoformat()
    return {
        "kind": "pain_flare",
        "grade": "1",
        "onset_date": today,
        "relatedness": "probable",
        "outcome": "recovering",
        "reported_by": "patient",
        "site_line": "1",
    } | overrides


def test_session_with_two_injectates_three_sites_and_a_side_effect_saves_in_one_post(
    clinician, clinician_client
):
    patient = PatientFactory()
    data = session_post(
        patient,
        clinician,
        injectates=[prp("1"), dextrose("2")],
        sites=[
            site("1", "1", "Knee joint"),
            site("2", "2", "Medial collateral ligament"),
            site("3", "2", "Pes anserinus"),
        ],
        side_effects=[side_effect()],
    )
    response = clinician_client.post(ADD_URL, data)
    assert response.status_code == 302, response.context["errors"] if response.context else ""
    session = InjectionSession.objects.get(patient=patient)
    assert session.clinician == clinician
    injectates = {i.line: i for i in session.injectates.all()}
    assert {i.kind for i in injectates.values()} == {"prp", "dextrose"}
    assert injectates[1].concentration_factor == Decimal("4.6")  # 1100 / 240
    assert injectates[1].paw_platelet_band == "P3"
    sites = {s.structure: s.injectate.line for s in session.sites.all()}
    assert sites == {"Knee joint": 1, "Medial collateral ligament": 2, "Pes anserinus": 2}
    effect = session.side_effects.get()
    assert effect.site.structure == "Knee joint"
    assert effect.recorded_by == clinician


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            {"injectates-1-dextrose_pct": "80"},
            "dextrose_pct",
            "Ensure this value is less than or equal to 50",
        ),
        (
            {
                "side_effects-0-outcome": "resolved",
                "side_effects-0-resolved_date": "2001-01-01",
            },
            "resolved_date",
            "Resolved date cannot be before onset.",
        ),
        (
            {"side_effects-0-onset_date": "2001-01-01"},
            "onset_date",
            "Onset cannot be before the session",
        ),
        ({"sites-2-injectate_line": "3"}, "injectate_line", "There is no injectate no. 3"),
        ({"side_effects-0-site_line": "9"}, "site_line", "There is no site no. 9"),
        ({"side_effects-0-grade": "3"}, "serious", "Grade 3 and above is always serious."),
        (
            {"injectates-0-expiry_date": "2001-01-01"},
            "expiry_date",
            "it must not be given",
        ),
        ({"injectates-0-spins": ""}, "spins", "Required for PRP."),
        ({"consent_obtained": ""}, "consent_obtained", "Record the patient"),
    ],
)
def test_invalid_session_form_shows_the_field_error_and_stores_nothing(
    clinician, clinician_client, change, field, message
):
    patient = PatientFactory()
    data = session_post(
        patient,
        clinician,
        injectates=[prp("1"), dextrose("2")],
        sites=[site("1", "1", "Knee joint"), site("2", "2", "MCL"), site("3", "2", "Pes")],
        side_effects=[side_effect()],
    )
    data.update(change)
    if not change.get("consent_obtained", "on"):
        del data["consent_obtained"]
    response = clinician_client.post(ADD_URL, data)
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert f'id="id_{field}' in page or f'-{field}"' in page
    errors = [
        error
        for error_list in (
            [response.context["adminform"].form.errors]
            + [
                f.errors
                for inline in response.context["inline_admin_formsets"]
                for f in inline.formset.forms
            ]
        )
        for error in error_list
    ]
    assert field in errors
    for model in (InjectionSession, Injectate, InjectionSite, SideEffect):
        assert not model.objects.exists()


def test_sites_of_a_saved_session_can_be_renumbered_against_new_injectates(
    clinician, clinician_client
):
    site_row = SiteFactory(session__clinician=clinician, line=1, injectate__line=1)
    session = site_row.session
    url = reverse("admin:treatments_injectionsession_change", args=[session.pk])
    form = clinician_client.get(url).context["adminform"].form
    data = {
        "patient": str(session.patient_id),
        "clinician": str(clinician.pk),
        "performed_at_0": timezone.localtime(session.performed_at).strftime("%Y-%m-%d"),
        "performed_at_1": timezone.localtime(session.performed_at).strftime("%H:%M:%S"),
        "status": "completed",
        "guidance": "landmark",
        "consent_obtained": "on",
        "pre_pain_score": str(session.pre_pain_score),
    }
    injectate = site_row.injectate
    existing_injectate = {
        "id": str(injectate.pk),
        "session": str(session.pk),
        "line": "1",
        "kind": "dextrose",
        "volume_ml": "10",
        "lot_number": injectate.lot_number,
        "expiry_date": injectate.expiry_date.isoformat(),
        "dextrose_pct": "15",
        "anaesthetic": "lidocaine",
        "anaesthetic_pct": "0.5",
    }
    existing_site = site("1", "2", site_row.structure) | {
        "id": str(site_row.pk),
        "session": str(session.pk),
    }
    data |= management("injectates", 2, 1) | rows("injectates", [existing_injectate, prp("2")])
    data |= management("sites", 1, 1) | rows("sites", [existing_site])
    data |= management("side_effects", 0)
    assert form.instance == session
    response = clinician_client.post(url, data)
    assert response.status_code == 302
    site_row.refresh_from_db()
    assert site_row.injectate.line == 2
    assert site_row.injectate.kind == "prp"


def test_expired_batch_is_refused_when_the_session_date_moves(clinician, clinician_client):
    injectate = InjectateFactory(session=SessionFactory(clinician=clinician))
    session = injectate.session
    later = timezone.localtime() + datetime.timedelta(days=400)
    response = clinician_client.post(
        reverse("admin:treatments_injectionsession_change", args=[session.pk]),
        {
            "patient": str(session.patient_id),
            "clinician": str(clinician.pk),
            "performed_at_0": later.strftime("%Y-%m-%d"),
            "performed_at_1": "10:00",
            "status": "planned",
            "guidance": "landmark",
        }
        | management("injectates", 0)
        | management("sites", 0)
        | management("side_effects", 0),
    )
    assert response.status_code == 200
    assert "expires on" in response.content.decode()
    session.refresh_from_db()
    assert session.status == "completed"


def signed_session_with_numbered_parts(clinician):
    session = SessionFactory(clinician=clinician)
    first = InjectateFactory(session=session, line=1)
    second = InjectateFactory(session=session, line=2, exosome=True)
    SiteFactory(session=session, injectate=first, line=1, structure="Pes anserinus")
    knee = SiteFactory(session=session, injectate=second, line=2, structure="Knee joint")
    SideEffectFactory(session=session, site=knee)
    return session


def shown(page: str, css_class: str) -> list[str]:
    """The texts of the read-only cells or boxes of one field, as the page shows them."""
    return [
        text.strip()
        for text in re.findall(
            rf'class="(?:flex-container fieldBox )?{css_class}">\s*'
            r'(?:<label[^>]*>[^<]*</label>\s*)?(?:<p>|<div class="readonly">)([^<]*)<',
            page,
        )
    ]


@pytest.mark.parametrize("signed", [True, False])
def test_a_read_only_session_shows_each_sites_injectate_and_side_effects_site_by_number(
    clinician, clinic_admin, signed
):
    session = signed_session_with_numbered_parts(clinician)
    if signed:
        services.session_sign(session=session, clinician=clinician)
    viewer = Client()
    viewer.force_login(clinician if signed else clinic_admin)  # the clinic admin only reads
    url = reverse("admin:treatments_injectionsession_change", args=[session.pk])
    page = viewer.get(url).content.decode()
    assert "Injectate no." in page and "Site no." in page
    assert shown(page, "field-injectate_line") == ["1", "2"]
    assert shown(page, "field-site_line") == ["2"]


def form_as_sent(client, url: str) -> dict[str, list[str]]:
    """The change form of the page at ``url``, with every input as a browser sends it back."""
    page = Page(client.get(url).content.decode())
    form = next(f for f in page.forms if f.method == "post" and "logout" not in f.action)
    return as_post([*form.fields, ("_save", "Save")])


def test_a_session_with_several_of_each_part_saves_from_its_page(clinician, clinician_client):
    session = SessionFactory(clinician=clinician)
    for line in (1, 2):
        injectate = InjectateFactory(session=session, line=line)
        site_row = SiteFactory(session=session, injectate=injectate, line=line)
        SideEffectFactory(session=session, site=site_row)
    url = reverse("admin:treatments_injectionsession_change", args=[session.pk])
    data = form_as_sent(clinician_client, url)
    data["notes"] = ["Both knees, medial side."]
    response = clinician_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    session.refresh_from_db()
    assert session.notes == "Both knees, medial side."


def test_a_row_of_another_session_posted_on_this_page_is_refused(clinician, clinician_client):
    mine = InjectateFactory(session=SessionFactory(clinician=clinician), line=1)
    other = InjectateFactory(session=SessionFactory(clinician=clinician), line=1)
    url = reverse("admin:treatments_injectionsession_change", args=[mine.session_id])
    data = form_as_sent(clinician_client, url)
    data["injectates-0-id"] = [str(other.pk)]
    data["injectates-0-lot_number"] = ["SWAPPED1"]
    response = clinician_client.post(url, data)
    assert response.status_code == 200
    assert "Please correct the error below." in response.content.decode()
    other.refresh_from_db()
    mine.refresh_from_db()
    assert "SWAPPED1" not in (other.lot_number, mine.lot_number)
