"""The session screen on the server: what it offers, what it saves through the services, what
it says before saving (a site off the condition, an expired batch), errors beside their fields
with everything typed kept, repeating a session, and a session's own page (sign, addenda,
cancel)."""

from __future__ import annotations

import datetime
import itertools
import math
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from recordkeeping.choices import BodyRegion, Laterality
from recordkeeping.models import AccessLogEntry
from recordkeeping.roles import CLINIC_ADMIN, CLINICIAN, FRONT_DESK
from tests.factories import (
    AddendumFactory,
    ConditionFactory,
    CourseFactory,
    InjectateFactory,
    PatientFactory,
    SessionFactory,
    SiteFactory,
    UserFactory,
)
from treatments import services
from treatments.models import (
    FollowUp,
    InjectionSession,
    SessionStatus,
    SideEffect,
    TreatmentCourse,
)
from workspace.clinician import bodymap

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def management(prefix: str, total: int) -> dict[str, Any]:
    return {f"{prefix}-TOTAL_FORMS": total, f"{prefix}-INITIAL_FORMS": 0}


def readme_session(of: TreatmentCourse, clinician: Any, **changes: Any) -> dict[str, Any]:
    """The README's PRP + dextrose session with three right-knee sites and a pain flare, as the
    screen sends it."""
    now = timezone.localtime() - datetime.timedelta(minutes=5)
    data: dict[str, Any] = {
        "course": of.pk,
        "clinician": clinician.pk,
        "performed_at": now.strftime("%Y-%m-%dT%H:%M"),
        "status": "completed",
        "guidance": "ultrasound",
        "consent_obtained": "on",
        "pre_pain_score": 7,
        "notes": "",
        **management("injectates", 2),
        **management("sites", 3),
        **management("effects", 1),
        "injectates-0-line": 1,
        "injectates-0-kind": "prp",
        "injectates-0-volume_ml": "5",
        "injectates-0-lot_number": "K20931",
        "injectates-0-expiry_date": "2027-06-30",
        "injectates-0-whole_blood_ml": "30",
        "injectates-0-spins": 2,
        "injectates-0-anticoagulant": "acd_a",
        "injectates-0-activation": "none",
        "injectates-0-leukocytes": "poor",
        "injectates-0-platelet_count": 1100,
        "injectates-0-baseline_platelet_count": 240,
        "injectates-1-line": 2,
        "injectates-1-kind": "dextrose",
        "injectates-1-volume_ml": "10",
        "injectates-1-lot_number": "D5521",
        "injectates-1-expiry_date": "2027-01-31",
        "injectates-1-dextrose_pct": "15",
        "injectates-1-anaesthetic": "lidocaine",
        "injectates-1-anaesthetic_pct": "0.5",
        "effects-0-line": 1,
        "effects-0-kind": "pain_flare",
        "effects-0-grade": 1,
        "effects-0-onset_date": now.date().isoformat(),
        "effects-0-relatedness": "probable",
        "effects-0-outcome": "recovering",
        "effects-0-reported_by": "patient",
        "effects-0-site_line": 1,
    }
    sites = [
        ("Knee joint", "intra_articular", 1, "5", "22"),
        ("Medial collateral ligament", "ligament", 2, "4", ""),
        ("Pes anserinus", "enthesis", 2, "3", ""),
    ]
    for index, (structure, tissue, injectate, volume, gauge) in enumerate(sites):
        data |= {
            f"sites-{index}-line": index + 1,
            f"sites-{index}-body_region": "knee",
            f"sites-{index}-laterality": "right",
            f"sites-{index}-structure": structure,
            f"sites-{index}-tissue": tissue,
            f"sites-{index}-injectate_line": injectate,
            f"sites-{index}-volume_ml": volume,
            f"sites-{index}-needle_gauge": gauge,
        }
    return data | changes


@pytest.fixture
def course(db: Any) -> TreatmentCourse:
    patient = PatientFactory(given_name="Ines", family_name="Duarte")
    return CourseFactory(patient=patient, condition__laterality=Laterality.RIGHT)


def new_url(course: TreatmentCourse) -> str:
    return reverse("workspace:session-new", args=[course.patient_id])


def test_the_course_picker_lists_only_this_patients_courses_in_words(clinician_client, course):
    CourseFactory()  # another patient's
    page = clinician_client.get(new_url(course)).content.decode()
    assert page.count('<option value="') >= 3
    assert f'<option value="{course.pk}"' in page
    assert "Right knee: Primary osteoarthritis of knee (M17.1) · PRP · 0 of 3 sessions done" in page
    assert "New course…" in page
    assert page.count("Primary osteoarthritis of knee (M17.1) · PRP") == 1
    assert 'name="cancel_reason"' not in page


def test_the_clinician_is_you_and_only_clinicians_are_offered_by_full_name(client, course):
    me = UserFactory(role=CLINICIAN, first_name="Ada", last_name="Hale")
    UserFactory(role=CLINICIAN, first_name="Ben", last_name="Okoro")
    UserFactory(username="frontdesk", role=FRONT_DESK, first_name="Fay", last_name="Desk")
    UserFactory(username="admin", role=CLINIC_ADMIN, first_name="Al", last_name="Admin")
    client.force_login(me)
    page = client.get(new_url(course)).content.decode()
    assert f'<option value="{me.pk}" selected>Ada Hale</option>' in page
    assert "Ben Okoro" in page
    assert "Fay Desk" not in page and "Al Admin" not in page


@pytest.mark.parametrize("role", [FRONT_DESK, CLINIC_ADMIN, "inactive clinician", "unknown"])
def test_a_session_given_to_anyone_but_an_active_clinician_is_refused_beside_the_field(
    clinician_client, clinician, course, role
):
    if role == "unknown":
        chosen = 999999
    elif role == "inactive clinician":
        chosen = UserFactory(role=CLINICIAN, is_active=False).pk
    else:
        chosen = UserFactory(role=role).pk
    data = readme_session(course, clinician) | {"clinician": chosen}
    page = clinician_client.post(new_url(course), data, **HTMX).content.decode()
    field = page[page.index('id="id_clinician"') :]
    assert f"Select a valid choice. {chosen} is not one of the available choices." in page
    assert page.index("Select a valid choice.") > page.index('<label for="id_clinician"')
    assert f'<option value="{clinician.pk}">' in field
    assert InjectionSession.objects.count() == 0


def test_saving_records_the_readme_session_through_the_services(
    clinician_client, clinician, course
):
    answer = clinician_client.post(new_url(course), readme_session(course, clinician))
    session = InjectionSession.objects.get()
    assert answer.status_code == 302
    assert answer["Location"] == reverse("workspace:session", args=[session.pk])
    assert (session.course, session.clinician, session.status) == (course, clinician, "completed")
    assert session.treatment == "prp_dextrose"  # kept by the database from the injectates
    assert [(s.line, s.injectate.line) for s in session.sites.all()] == [(1, 1), (2, 2), (3, 2)]
    effect = SideEffect.objects.get()
    assert (effect.site.line, effect.recorded_by) == (1, clinician)
    assert not session.is_signed
    assert FollowUp.objects.filter(session=session).exists()  # the rules' proposals
    assert AccessLogEntry.objects.filter(action="workspace.session.add", status=201).exists()


def test_save_and_sign_signs_the_session_in_the_same_request(clinician_client, clinician, course):
    data = readme_session(course, clinician, sign="1")
    answer = clinician_client.post(new_url(course), data, **HTMX)
    session = InjectionSession.objects.get()
    assert session.signed_by == clinician
    page = answer.content.decode()
    assert "Saved and signed." in page and f"Signed by {clinician.get_full_name()}" in page
    assert answer["HX-Push-Url"] == reverse("workspace:session", args=[session.pk])
    assert f'data-clear-draft="clinic.session-draft.{course.patient_id}"' in page


def test_signing_a_colleagues_session_is_refused_and_nothing_is_saved(
    clinician_client, clinician, course
):
    colleague = UserFactory(role=CLINICIAN, first_name="Ben", last_name="Okoro")
    data = readme_session(course, colleague, sign="1")
    answer = clinician_client.post(new_url(course), data, **HTMX)
    assert "Only the session&#x27;s clinician can sign it." in answer.content.decode()
    assert InjectionSession.objects.count() == 0
    assert 'value="K20931"' in answer.content.decode()  # nothing typed is lost


def test_errors_show_beside_their_fields_and_keep_what_was_typed(
    clinician_client, clinician, course
):
    data = readme_session(
        course,
        clinician,
        consent_obtained="",
        **{"sites-1-volume_ml": "0", "injectates-1-dextrose_pct": "60", "notes": "Kept note"},
    )
    answer = clinician_client.post(new_url(course), data, **HTMX)
    page = answer.content.decode()
    assert answer.status_code == 200
    assert "Nothing was saved" in page
    assert "Record the patient&#x27;s consent before completing." in page
    assert "Ensure this value is greater than or equal to 0.01." in page
    assert "Ensure this value is less than or equal to 50." in page
    for typed in ('value="K20931"', 'value="D5521"', "Kept note", '"" selected>Pes anserinus'):
        assert typed in page, typed
    assert InjectionSession.objects.count() == 0
    plain = clinician_client.post(new_url(course), data)
    assert plain.status_code == 400 and "Nothing was saved" in plain.content.decode()


def test_bad_input_names_the_field_and_never_fails(clinician_client, clinician, course):
    data = readme_session(
        course,
        clinician,
        performed_at="yesterday",
        **{"sites-0-injectate_line": "7", "effects-0-site_line": "9", "injectates-0-spins": "x"},
    )
    answer = clinician_client.post(new_url(course), data, **HTMX)
    page = answer.content.decode()
    assert answer.status_code == 200
    assert "Enter a valid date/time." in page and "Enter a whole number." in page
    assert InjectionSession.objects.count() == 0


def test_a_site_off_the_courses_condition_is_warned_and_still_saved(
    clinician_client, clinician, course
):
    data = readme_session(course, clinician, **{"sites-2-laterality": "left"})
    check = clinician_client.post(
        reverse("workspace:session-check", args=[course.patient_id]), data, **HTMX
    )
    warning = check.content.decode()
    assert "Site 3 is on the left knee" in warning
    assert "Primary osteoarthritis of knee (M17.1) of the right knee" in warning
    hip = clinician_client.post(
        reverse("workspace:session-check", args=[course.patient_id]),
        readme_session(course, clinician, **{"sites-0-body_region": "hip"}),
        **HTMX,
    ).content.decode()
    assert "Site 1 is on the right hip" in hip
    fine = clinician_client.post(
        reverse("workspace:session-check", args=[course.patient_id]),
        readme_session(course, clinician),
        **HTMX,
    ).content.decode()
    assert "Warning" not in fine
    clinician_client.post(new_url(course), data)
    assert InjectionSession.objects.get().sites.get(line=3).laterality == "left"


def test_an_expired_batch_is_refused_beside_its_expiry_before_saving(
    clinician_client, clinician, course
):
    data = readme_session(course, clinician, **{"injectates-1-expiry_date": "2020-01-01"})
    data["injectates-1-volume_ml"] = ""  # half typed: checked all the same
    check = clinician_client.post(
        reverse("workspace:session-check", args=[course.patient_id]), data, **HTMX
    ).content.decode()
    assert (
        'id="injectates-1-expiry-check" hx-swap-oob="true">This batch expired on 01 Jan 2020'
        in check
    )
    assert 'id="injectates-0-expiry-check" hx-swap-oob="true"></span>' in check
    saved = clinician_client.post(new_url(course), data, **HTMX).content.decode()
    assert "This batch expired on 01 Jan 2020" in saved
    assert InjectionSession.objects.count() == 0


def test_a_new_course_is_started_inline(clinician_client, clinician, course):
    condition = ConditionFactory(
        patient=course.patient, body_region="elbow", laterality="left", label="Tennis elbow"
    )
    data = readme_session(
        course,
        clinician,
        course="new",
        new_condition=condition.pk,
        new_treatment="prp",
        new_sessions=3,
        new_interval=6,
    )
    missing = clinician_client.post(new_url(course), data | {"new_condition": ""}, **HTMX)
    assert "Needed for the new course." in missing.content.decode()
    clinician_client.post(new_url(course), data)
    session = InjectionSession.objects.get()
    assert session.course.condition == condition
    assert session.course.planned_interval_weeks == 6


def test_rows_removed_on_the_screen_leave_no_gaps(clinician_client, clinician, course):
    data = readme_session(course, clinician)
    # Site 1 and injectate 1 were removed on the screen: sites 2 and 3 remain, on injectate 2.
    for name in list(data):
        if name.startswith(("sites-", "injectates-")) and "TOTAL" not in name:
            del data[name]
    data |= management("sites", 1) | management("injectates", 1) | {"effects-0-site_line": 3}
    data |= {
        "injectates-0-line": 2,
        "injectates-0-kind": "dextrose",
        "injectates-0-volume_ml": "10",
        "injectates-0-dextrose_pct": "15",
        "sites-0-line": 3,
        "sites-0-body_region": "knee",
        "sites-0-laterality": "right",
        "sites-0-structure": "__other__",
        "sites-0-structure_other": "Medial joint line",
        "sites-0-tissue": "other",
        "sites-0-injectate_line": 2,
        "sites-0-volume_ml": "3",
    }
    clinician_client.post(new_url(course), data)
    session = InjectionSession.objects.get()
    assert list(session.injectates.values_list("line", flat=True)) == [1]
    assert list(session.sites.values_list("line", "structure")) == [(1, "Medial joint line")]
    assert SideEffect.objects.get().site.line == 1


def test_repeat_copies_the_last_completed_session_of_the_course_without_its_lots(
    clinician_client, clinician, course
):
    last = SessionFactory(patient=course.patient, course=course, clinician=clinician)
    prp = InjectateFactory(session=last, line=1, prp=True, lot_number="OLDLOT1")
    SiteFactory(session=last, injectate=prp, line=1, structure="Patellar tendon")
    SessionFactory(  # planned later: not what was given
        patient=course.patient,
        course=course,
        status=SessionStatus.PLANNED,
        consent_obtained=False,
        performed_at=timezone.now() + datetime.timedelta(days=20),
    )
    other = SessionFactory(patient=course.patient)  # no course
    SiteFactory(session=other, structure="Supraspinatus tendon")
    page = clinician_client.get(new_url(course), {"course": course.pk, "repeat": 1}).content
    page = page.decode()
    assert "Repeated from the session of" in page
    assert 'name="injectates-0-kind"' in page and "OLDLOT1" not in page
    assert 'value="Patellar tendon" data-snomed="18033002"' in page
    assert "Supraspinatus" not in page.split('id="session-form"')[1].split("<template")[0]
    assert 'name="injectates-0-platelet_count"' in page  # measured anew on the day
    assert not re.search(r'name="injectates-0-platelet_count"[^>]*value=', page)


def test_a_signed_session_reads_as_a_record_with_who_signed_and_its_addenda(
    clinician_client, clinician
):
    addendum = AddendumFactory(session__clinician=clinician)
    session = addendum.session
    page = clinician_client.get(reverse("workspace:session", args=[session.pk])).content.decode()
    record = page.split('id="session-screen"')[1]
    assert f"Signed by {clinician.get_full_name()} on" in record
    assert addendum.text in record
    form_fields = record.count("<input") - record.count('type="hidden"')
    assert form_fields == 0 and record.count("<select") == 0
    assert record.count("<textarea") == 1  # the addendum's
    assert "Change it" not in record and "Sign the session" not in record
    edit = clinician_client.get(reverse("workspace:session-edit", args=[session.pk]))
    assert edit.status_code == 302
    added = clinician_client.post(
        reverse("workspace:addendum-add", args=[session.pk]), {"text": "Site 2 was 3 mL."}, **HTMX
    )
    assert "Site 2 was 3 mL." in added.content.decode()
    empty = clinician_client.post(
        reverse("workspace:addendum-add", args=[session.pk]), {"text": " "}, **HTMX
    )
    assert "Write the addendum first." in empty.content.decode()


def test_a_clinician_signs_their_own_completed_session_from_its_page(clinician_client, clinician):
    own = SessionFactory(clinician=clinician)
    theirs = SessionFactory()
    page = clinician_client.get(reverse("workspace:session", args=[own.pk])).content.decode()
    assert "Not signed yet." in page and "Sign the session" in page
    other = clinician_client.get(reverse("workspace:session", args=[theirs.pk])).content.decode()
    assert "Sign the session" not in other
    refused = clinician_client.post(
        reverse("workspace:session-sign", args=[theirs.pk]), **HTMX
    ).content.decode()
    assert "Only the session&#x27;s clinician can sign it." in refused
    clinician_client.post(reverse("workspace:session-sign", args=[own.pk]))
    own.refresh_from_db()
    assert own.signed_by == clinician


def test_a_planned_session_is_cancelled_with_a_reason(clinician_client):
    planned = SessionFactory(
        status=SessionStatus.PLANNED,
        consent_obtained=False,
        performed_at=timezone.now() + datetime.timedelta(days=3),
    )
    url = reverse("workspace:session-cancel", args=[planned.pk])
    assert "Say why" in clinician_client.post(url, {"reason": ""}, **HTMX).content.decode()
    clinician_client.post(url, {"reason": "Patient unwell"})
    planned.refresh_from_db()
    assert (planned.status, planned.cancel_reason) == ("cancelled", "Patient unwell")


def test_an_unsigned_session_is_changed_on_the_same_screen(clinician_client, clinician, course):
    clinician_client.post(new_url(course), readme_session(course, clinician))
    session = InjectionSession.objects.get()
    edit_url = reverse("workspace:session-edit", args=[session.pk])
    page = clinician_client.get(edit_url).content.decode()
    assert (
        'value="K20931"' in page
        and f"clinic.session-draft.{course.patient_id}.{session.pk}" in page
    )
    data = readme_session(course, clinician, pre_pain_score=4)
    data |= management("effects", 0)
    changed = clinician_client.post(edit_url, data)
    assert changed.status_code == 302, changed.content.decode()[:3000]
    session.refresh_from_db()
    assert session.pre_pain_score == 4 and session.sites.count() == 3
    services.session_sign(session=session, clinician=clinician)
    assert clinician_client.post(edit_url, data).status_code == 302
    session.refresh_from_db()
    assert session.pre_pain_score == 4


def test_every_screen_read_is_in_the_access_log(clinician_client, clinician, course):
    session = SessionFactory(patient=course.patient, clinician=clinician)
    clinician_client.get(new_url(course))
    clinician_client.get(reverse("workspace:session", args=[session.pk]))
    logged = set(
        AccessLogEntry.objects.filter(patient_ids__contains=[course.patient_id]).values_list(
            "action", flat=True
        )
    )
    assert {"workspace.session.new", "workspace.session.view"} <= logged


def test_the_front_desk_cannot_save_a_session(course):
    desk = Client()
    desk.force_login(UserFactory(role=FRONT_DESK))
    answer = desk.post(new_url(course), readme_session(course, UserFactory(role=CLINICIAN)))
    assert answer.status_code == 403
    assert InjectionSession.objects.count() == 0


def test_the_body_map_offers_every_region_on_both_sides_each_spot_apart(clinician_client, course):
    page = clinician_client.get(new_url(course)).content.decode()
    for region in BodyRegion:
        for side in ("left", "right"):
            assert f'data-region="{region}" data-laterality="{side}"' in page, (region, side)
    # 44 of the figure's 200 units are a spot's 24 px at the width it is drawn: no two overlap.
    for one, other in itertools.combinations(bodymap.SPOTS, 2):
        if one.view == other.view:
            assert math.dist((one.x, one.y), (other.x, other.y)) >= 44, (one.key, other.key)


def test_the_charts_map_draws_a_places_sites_in_order_on_their_own_side(clinician):
    session = SessionFactory(clinician=clinician)
    sites = [SiteFactory(session=session, line=n, laterality="right") for n in (1, 2, 3, 4)]
    drawn = bodymap.dots(sites)
    assert [dot["line"] for dot in drawn] == [1, 2, 3, 4]
    assert [dot["y"] for dot in drawn[:3]] == sorted(dot["y"] for dot in drawn[:3])
    # The patient's right knee is on the viewer's left of the front figure: every dot stays
    # left of the middle, the fourth in a column further out.
    assert all(dot["x"] < bodymap.WIDTH / 2 for dot in drawn)
    assert drawn[3]["x"] < drawn[0]["x"]
