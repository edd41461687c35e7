"""Who opens the clinician's screens: the front desk and a user in no group get 403 on every
one, change nothing through them, and find nothing clinical in any page they can open (a crawl
of every link from where they land, scanned for values planted in the record)."""

from __future__ import annotations

import datetime
import re
from collections import deque
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from patients.models import OutcomeScore
from recordkeeping.choices import Laterality
from recordkeeping.roles import CLINICIAN, FRONT_DESK
from tests.factories import (
    AddendumFactory,
    ConditionFactory,
    CourseFactory,
    FollowUpFactory,
    InjectateFactory,
    PatientFactory,
    SessionFactory,
    SideEffectFactory,
    SiteFactory,
    UserFactory,
    clinic_slot,
)
from treatments import services
from treatments.models import Addendum, InjectionSession, SessionStatus

pytestmark = pytest.mark.django_db

# Values only the clinical record holds: none may reach a page the front desk can open.
PLANTED = {
    "allergy": "Planted allergy to quinine Q7X",
    "condition": "Planted tendinopathy Q7X",
    "notes": "Planted session note Q7X",
    "lot": "PLANTLOTQ7X",
    "structure": "Planted bursa Q7X",
    "effect": "Planted rash Q7X",
    "addendum": "Planted addendum Q7X",
}
# Nothing to follow: sign-out, the admin, the API and files.
NOT_FOLLOWED = ("/logout/", "/admin/", "/api/", "/static/", "/media/")


@pytest.fixture
def record() -> dict[str, Any]:
    """A patient with every clinical thing planted, booked today and next week so the front
    desk's own screens list them."""
    clinician = UserFactory(role=CLINICIAN, first_name="Ada", last_name="Hale")
    patient = PatientFactory(given_name="Ines", family_name="Duarte", allergies=PLANTED["allergy"])
    condition = ConditionFactory(
        patient=patient, label=PLANTED["condition"], laterality=Laterality.RIGHT
    )
    course = CourseFactory(patient=patient, condition=condition)
    signed = SessionFactory(
        patient=patient, course=course, clinician=clinician, notes=PLANTED["notes"]
    )
    injectate = InjectateFactory(session=signed, line=1, lot_number=PLANTED["lot"])
    site = SiteFactory(session=signed, injectate=injectate, line=1, structure=PLANTED["structure"])
    SideEffectFactory(session=signed, site=site, description=PLANTED["effect"])
    services.session_sign(session=signed, clinician=clinician)
    AddendumFactory(session=signed, author=clinician, text=PLANTED["addendum"])
    unsigned = SessionFactory(patient=patient, course=course, clinician=clinician)
    planned = SessionFactory(
        patient=patient,
        course=course,
        clinician=clinician,
        status=SessionStatus.PLANNED,
        consent_obtained=False,
        performed_at=timezone.now() + datetime.timedelta(days=3),
    )
    booked = FollowUpFactory(patient=patient, clinician=clinician, starts_at=clinic_slot(1, 10))
    return {
        "booked": booked,
        "patient": patient,
        "course": course,
        "signed": signed,
        "unsigned": unsigned,
        "planned": planned,
    }


def clinician_screens(record: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """Every clinician's screen, as (method, URL, data)."""
    patient, signed = record["patient"].pk, record["signed"].pk
    unsigned, planned = record["unsigned"].pk, record["planned"].pk
    return [
        ("get", reverse("workspace:chart", args=[patient]), {}),
        (
            "post",
            reverse("workspace:score-add", args=[patient]),
            {"instrument": "nprs", "score": "3", "time_point": "other"},
        ),
        ("get", reverse("workspace:session-new", args=[patient]), {}),
        (
            "get",
            reverse("workspace:session-new", args=[patient]) + f"?course={record['course'].pk}"
            "&repeat=1",
            {},
        ),
        ("post", reverse("workspace:session-new", args=[patient]), {"course": "new"}),
        ("post", reverse("workspace:session-check", args=[patient]), {}),
        ("get", reverse("workspace:session", args=[signed]), {}),
        ("get", reverse("workspace:session-edit", args=[unsigned]), {}),
        ("post", reverse("workspace:session-edit", args=[unsigned]), {"notes": "changed"}),
        ("post", reverse("workspace:session-sign", args=[unsigned]), {}),
        ("post", reverse("workspace:session-cancel", args=[planned]), {"reason": "No"}),
        ("post", reverse("workspace:addendum-add", args=[signed]), {"text": "Changed"}),
        ("get", reverse("workspace:gs1") + "?code=0109506000134352172702001012", {}),
    ]


def links_in(html: str) -> list[str]:
    found = re.findall(r'(?:href|hx-get|data-[a-z-]*url)="(/[^"#]*)"', html)
    return [link.replace("&amp;", "&") for link in found]


def crawl(client: Client, starts: list[str], limit: int = 150) -> dict[str, tuple[int, str]]:
    """Every page reachable by GET from ``starts`` through links and htmx reads."""
    seen: dict[str, tuple[int, str]] = {}
    queue = deque(starts)
    while queue and len(seen) < limit:
        url = queue.popleft()
        if url in seen or url.startswith(NOT_FOLLOWED):
            continue
        answer = client.get(url, follow=True)
        body = answer.content.decode(errors="replace")
        seen[url] = (answer.status_code, body)
        if answer.status_code == 200:
            queue.extend(link for link in links_in(body) if link not in seen)
    return seen


def planted_in(pages: dict[str, tuple[int, str]]) -> list[tuple[str, str]]:
    return [
        (url, what)
        for url, (_, body) in pages.items()
        for what, value in PLANTED.items()
        if value in body
    ]


@pytest.mark.parametrize("role", [FRONT_DESK, None], ids=["front desk", "no group"])
def test_the_front_desk_and_a_user_in_no_group_get_403_on_every_clinician_screen(role, record):
    client = Client()
    client.force_login(UserFactory(role=role))
    scores, addenda = OutcomeScore.objects.count(), Addendum.objects.count()
    for method, url, data in clinician_screens(record):
        answer = getattr(client, method)(url, data)
        assert answer.status_code == 403, (method, url, answer.status_code)
        body = answer.content.decode()
        assert not [what for what, value in PLANTED.items() if value in body], url
    record["unsigned"].refresh_from_db()
    record["planned"].refresh_from_db()
    assert record["unsigned"].signed_by is None and record["unsigned"].notes != "changed"
    assert record["planned"].status == SessionStatus.PLANNED
    assert InjectionSession.objects.count() == 3
    assert (OutcomeScore.objects.count(), Addendum.objects.count()) == (scores, addenda)


def test_nothing_clinical_appears_in_any_page_the_front_desk_can_open(record):
    client = Client()
    client.force_login(UserFactory(role=FRONT_DESK))
    patient = record["patient"]
    searches = [
        reverse("workspace:search") + f"?q={patient.family_name}",
        reverse("workspace:search") + f"?q={patient.mrn}",
        reverse("workspace:desk-patients") + f"?q={patient.family_name}",
    ]
    booked = record["booked"]
    grid = f"/desk/?date={timezone.localdate(booked.starts_at)}&clinician={booked.clinician_id}"
    pages = crawl(client, ["/", grid, *searches])
    opened = {url for url, (status, _) in pages.items() if status == 200}
    # The crawl reached the desk's screens and a page naming the planted patient.
    detail = reverse("workspace:desk-follow-up", args=[booked.pk])
    assert {"/", "/today/", "/desk/", grid, detail} <= opened, sorted(opened)
    assert any(patient.family_name in body for status, body in pages.values() if status == 200)
    assert len(opened) >= 8, sorted(opened)
    # The desk finds the patient, and is offered no chart it would be refused.
    found = pages[searches[0]][1]
    assert "Duarte, Ines" in found
    assert reverse("workspace:chart", args=[patient.pk]) not in found
    assert planted_in(pages) == []
    # The clinician, crawling the same way, does see them: the scan can find what is there.
    doctor = Client()
    doctor.force_login(UserFactory(role=CLINICIAN))
    seen = crawl(doctor, [reverse("workspace:chart", args=[patient.pk])], limit=12)
    assert {what for _, what in planted_in(seen)} >= {"allergy", "condition", "structure"}


def test_a_user_in_no_group_opens_nothing(record):
    client = Client()
    client.force_login(UserFactory(role=None))
    pages = crawl(client, ["/", "/today/", reverse("workspace:search") + "?q=Duarte", "/desk/"])
    assert {status for status, _ in pages.values()} == {403}
    assert planted_in(pages) == []
