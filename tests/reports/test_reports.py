"""The reports on a small fixed clinic, against values worked out by hand.

Three courses (dates in 2025):
- C1, PRP, right... knee (M17.1), clinician A. NPRS 8 -> 5 at 6 weeks (-3, MCID 2: responder)
  -> 7 at 3 months (-1: no). WOMAC (MCID 12 % of baseline) 50 -> 45 (10 %: no) -> 40 (20 %:
  yes). KOOS pain (higher is better, MCID 8) 40 -> 47 (+7: no) -> 50 (+10: yes). Sessions
  3 Mar (PRP lot PRP-LOT-7, left knee MCL; bruising grade 1 and infection grade 3) and 14 Apr.
- C2, PRP, knee (M17.1), clinician A, stopped ("Moved away", ended 1 May). NPRS 6 -> 5 at 6
  weeks (-1: no). Session 13 Mar (PRP lot PRP-LOT-7, no site).
- C3, dextrose, elbow (M77.1), clinician B, completed 1 May. No scores: the sessions' pre-
  procedure pain counts as NPRS, 7 on 3 Mar (baseline) and 4 on 14 Apr (42 days: 6 weeks; -3,
  responder). Pain flare grade 2 at the first session.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from decimal import Decimal

import pytest
from django.test import Client
from rest_framework.test import APIClient

from patients.models import InstrumentMcid
from recordkeeping.roles import CLINICIAN
from reports import selectors as reports
from tests.conftest import token_client as api_for
from tests.factories import (
    ConditionFactory,
    CourseFactory,
    InjectateFactory,
    OutcomeScoreFactory,
    PatientFactory,
    SessionFactory,
    SideEffectFactory,
    SiteFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
D = datetime.date
ALL = reports.ReportFilters()


def at(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(10), tzinfo=datetime.UTC)


def scores(course, instrument, *readings):
    for time_point, value, day in readings:
        OutcomeScoreFactory(
            patient=course.patient,
            course=course,
            instrument=instrument,
            time_point=time_point,
            score=Decimal(value),
            measured_on=day,
        )


@pytest.fixture
def clinic():
    a = UserFactory(username="dr.a", first_name="Ada", last_name="Alvarez", role=CLINICIAN)
    b = UserFactory(username="dr.b", first_name="Ben", last_name="Brooks", role=CLINICIAN)
    knee = {"icd10_code": "M17.1", "body_region": "knee"}
    elbow = {"icd10_code": "M77.1", "label": "Lateral epicondylitis", "body_region": "elbow"}

    p1 = PatientFactory(given_name="Ines", family_name="Moreau", phone="+33612345678")
    c1 = CourseFactory(
        patient=p1, condition=ConditionFactory(patient=p1, **knee), start_date=D(2025, 3, 3)
    )
    scores(
        c1,
        "nprs",
        ("baseline", 8, D(2025, 3, 3)),
        ("6w", 5, D(2025, 4, 14)),
        ("3m", 7, D(2025, 6, 2)),
    )
    scores(
        c1,
        "womac",
        ("baseline", 50, D(2025, 3, 3)),
        ("6w", 45, D(2025, 4, 14)),
        ("3m", 40, D(2025, 6, 2)),
    )
    scores(
        c1,
        "koos_pain",
        ("baseline", 40, D(2025, 3, 3)),
        ("6w", 47, D(2025, 4, 14)),
        ("3m", 50, D(2025, 6, 2)),
    )
    s1a = SessionFactory(
        patient=p1, course=c1, clinician=a, performed_at=at(D(2025, 3, 3)), pre_pain_score=None
    )
    lot = InjectateFactory(session=s1a, prp=True, lot_number="PRP-LOT-7", line=1)
    SiteFactory(session=s1a, injectate=lot, laterality="left", line=1)
    SideEffectFactory(session=s1a, kind="bruising", grade=1)
    SideEffectFactory(session=s1a, kind="infection", grade=3, serious=True)
    s1b = SessionFactory(
        patient=p1, course=c1, clinician=a, performed_at=at(D(2025, 4, 14)), pre_pain_score=None
    )
    InjectateFactory(session=s1b, prp=True, lot_number="PRP-LOT-8", line=1)

    p2 = PatientFactory(given_name="Omar", family_name="Haddad", phone="+447700900555")
    c2 = CourseFactory(
        patient=p2,
        condition=ConditionFactory(patient=p2, **knee),
        start_date=D(2025, 3, 13),
        status="stopped",
        stop_reason="Moved away",
        ended_on=D(2025, 5, 1),
    )
    scores(c2, "nprs", ("baseline", 6, D(2025, 3, 13)), ("6w", 5, D(2025, 4, 24)))
    s2 = SessionFactory(
        patient=p2, course=c2, clinician=a, performed_at=at(D(2025, 3, 13)), pre_pain_score=None
    )
    InjectateFactory(session=s2, prp=True, lot_number="PRP-LOT-7", line=1)

    p3 = PatientFactory(given_name="Yuki", family_name="Sato")
    c3 = CourseFactory(
        patient=p3,
        condition=ConditionFactory(patient=p3, **elbow),
        planned_treatment="dextrose",
        start_date=D(2025, 3, 3),
        status="completed",
        ended_on=D(2025, 5, 1),
    )
    s3a = SessionFactory(
        patient=p3, course=c3, clinician=b, performed_at=at(D(2025, 3, 3)), pre_pain_score=7
    )
    InjectateFactory(session=s3a, line=1)
    SideEffectFactory(session=s3a, kind="pain_flare", grade=2)
    s3b = SessionFactory(
        patient=p3, course=c3, clinician=b, performed_at=at(D(2025, 4, 14)), pre_pain_score=4
    )
    InjectateFactory(session=s3b, line=1)
    return {"a": a, "b": b, "c1": c1, "c2": c2, "c3": c3, "p1": p1, "p2": p2, "s1a": s1a, "s2": s2}


def responses(course) -> dict[tuple[str, str], tuple]:
    return {
        (row["instrument"], row["time_point"]): (row["change"], row["responder"])
        for row in reports.course_responses(course_id=course.pk)
    }


def test_responders_with_absolute_and_percent_mcids_both_directions(clinic):
    assert responses(clinic["c1"]) == {
        ("nprs", "6w"): (Decimal("-3.0"), True),
        ("nprs", "3m"): (Decimal("-1.0"), False),
        ("womac", "6w"): (Decimal("-5.0"), False),  # 10 % of 50 < 12 %
        ("womac", "3m"): (Decimal("-10.0"), True),  # 20 %
        ("koos_pain", "6w"): (Decimal("7.0"), False),  # higher is better, MCID 8
        ("koos_pain", "3m"): (Decimal("10.0"), True),
    }


def test_session_pain_scores_count_as_nprs_readings(clinic):
    assert responses(clinic["c3"]) == {("nprs", "6w"): (Decimal("-3.0"), True)}


def test_nprs_response_takes_the_scored_baseline_and_each_time_point_reading(clinician):
    """One course worked by hand with the rules of README's "Outcomes and reports".

    Baseline: the NPRS scored on 3 Mar (7), not the first session's pre-procedure pain (8 on
    6 Mar: a session gives the baseline only when none was scored).
    2 weeks: only the session of 17 Mar (14 days, pain 5) falls there: -2, a responder (MCID 2).
    6 weeks: the NPRS scored at 6 weeks (4, 14 Apr), not the sessions whose days fall in the
    window (31 Mar, 28 days, pain 6; 28 Apr, 56 days, pain 6): -3, a responder. Counting the
    next session's pain instead would give -1, not a responder.
    3 months: the NPRS scored on 16 Jun (105 days, 6) over the session of 2 Jun (91 days,
    pain 3): -1, not a responder.
    """
    course = CourseFactory(start_date=D(2025, 3, 3))
    scores(
        course,
        "nprs",
        ("baseline", 7, D(2025, 3, 3)),
        ("6w", 4, D(2025, 4, 14)),
        ("date", 6, D(2025, 6, 16)),
    )
    for day, pain in (
        (D(2025, 3, 6), 8),
        (D(2025, 3, 17), 5),
        (D(2025, 3, 31), 6),
        (D(2025, 4, 28), 6),
        (D(2025, 6, 2), 3),
    ):
        SessionFactory(
            patient=course.patient, course=course, performed_at=at(day), pre_pain_score=pain
        )

    seen = api_for(clinician).get(f"/api/v1/courses/{course.pk}/responses/").json()
    assert [
        (r["time_point"], r["baseline"], r["score"], r["measured_on"], r["responder"]) for r in seen
    ] == [
        ("2w", "7.0", "5.0", "2025-03-17", True),
        ("6w", "7.0", "4.0", "2025-04-14", True),
        ("3m", "7.0", "6.0", "2025-06-16", False),
    ]
    assert outcome_rows() == {
        ("nprs", "2w"): (1, Decimal("-2.0"), Decimal("100.0")),
        ("nprs", "6w"): (1, Decimal("-3.0"), Decimal("100.0")),
        ("nprs", "3m"): (1, Decimal("-1.0"), Decimal("0.0")),
    }


def test_mcids_are_data_the_clinic_admin_changes(clinic):
    InstrumentMcid.objects.filter(instrument="nprs").update(value=Decimal("4"))
    assert responses(clinic["c1"])[("nprs", "6w")] == (Decimal("-3.0"), False)


def outcome_rows(filters=ALL):
    return {
        (r["instrument"], r["time_point"]): (
            r["patients"],
            r["median_change"],
            r["responder_pct"],
        )
        for r in reports.outcomes(filters)
    }


def test_outcomes_report(clinic):
    rows = outcome_rows()
    assert rows[("nprs", "6w")] == (3, Decimal("-3.0"), Decimal("66.7"))  # -3, -1, -3
    assert rows[("nprs", "3m")] == (1, Decimal("-1.0"), Decimal("0.0"))
    assert rows[("womac", "3m")] == (1, Decimal("-10.0"), Decimal("100.0"))
    prp = outcome_rows(reports.ReportFilters(treatment="prp"))
    assert prp[("nprs", "6w")] == (2, Decimal("-2.0"), Decimal("50.0"))
    elbow = outcome_rows(reports.ReportFilters(body_region="elbow"))
    assert elbow == {("nprs", "6w"): (1, Decimal("-3.0"), Decimal("100.0"))}
    by_b = outcome_rows(reports.ReportFilters(clinician=clinic["b"].pk))
    assert by_b == elbow
    before_june = outcome_rows(reports.ReportFilters(date_to=D(2025, 5, 31)))
    assert ("nprs", "3m") not in before_june and ("nprs", "6w") in before_june


def test_safety_report(clinic):
    rows = {(r["treatment"], r["kind"], r["grade"]): r for r in reports.safety(ALL)}
    assert {
        key: (r["sessions"], r["events"], r["per_100_sessions"]) for key, r in rows.items()
    } == {
        ("prp", "bruising", 1): (3, 1, Decimal("33.33")),
        ("prp", "infection", 3): (3, 1, Decimal("33.33")),
        ("dextrose", "pain_flare", 2): (2, 1, Decimal("50.00")),
    }
    assert rows[("prp", "infection", 3)]["serious"] == 1
    dextrose = reports.safety(reports.ReportFilters(treatment="dextrose"))
    assert [(r["treatment"], r["kind"]) for r in dextrose] == [("dextrose", "pain_flare")]
    march = reports.safety(reports.ReportFilters(date_from=D(2025, 3, 10), date_to=D(2025, 3, 31)))
    assert [(r["treatment"], r["sessions"], r["kind"]) for r in march] == [("prp", 1, None)]
    serious = reports.serious_events(ALL)
    assert [(r["mrn"], r["kind"], r["grade"], r["session_date"]) for r in serious] == [
        (clinic["p1"].mrn, "infection", 3, D(2025, 3, 3))
    ]


def test_activity_report(clinic):
    rows = [(r["month"], r["clinician_name"], r["sessions"]) for r in reports.activity(ALL)]
    assert rows == [
        ("2025-03", "Ada Alvarez", 2),
        ("2025-03", "Ben Brooks", 1),
        ("2025-04", "Ada Alvarez", 1),
        ("2025-04", "Ben Brooks", 1),
    ]
    ended = [
        (r["status"], r["treatment"], r["reason"], r["courses"]) for r in reports.courses_ended(ALL)
    ]
    assert ended == [("completed", "dextrose", "", 1), ("stopped", "prp", "Moved away", 1)]


def test_recall_report(clinic):
    rows = reports.recall(lot_number="PRP-LOT-7", filters=ALL)
    assert [(r["family_name"], r["phone"], r["session_date"], r["sites"]) for r in rows] == [
        ("Haddad", "+447700900555", D(2025, 3, 13), ""),
        ("Moreau", "+33612345678", D(2025, 3, 3), "left knee Medial collateral ligament"),
    ]
    assert reports.recall(lot_number="NO-SUCH-LOT", filters=ALL) == []


REVIEW_REPORTS = ["outcomes", "safety", "serious-events", "activity", "courses-ended"]


def test_front_desk_runs_only_the_recall_contact_list(clinic, front_desk):
    desk = api_for(front_desk)
    for name in REVIEW_REPORTS:
        assert desk.get(f"/api/v1/reports/{name}/").status_code == 403, name
    response = desk.get("/api/v1/reports/recall/", {"lot_number": "PRP-LOT-7"})
    assert response.status_code == 200
    rows = response.json()["rows"]
    assert {r["family_name"] for r in rows} == {"Haddad", "Moreau"}
    assert set(rows[0]) == {
        "patient", "mrn", "given_name", "family_name", "phone", "email", "session",
        "session_date",
    }  # fmt: skip
    for clinical in ({"treatment": "prp"}, {"condition": "M17.1"}, {"body_region": "knee"}):
        refused = desk.get("/api/v1/reports/recall/", {"lot_number": "PRP-LOT-7", **clinical})
        assert refused.status_code == 403, clinical
    assert desk.get(f"/api/v1/courses/{clinic['c1'].pk}/responses/").status_code == 403


def test_clinic_admin_and_clinicians_run_every_report(clinic, clinic_admin):
    for user in (clinic_admin, clinic["a"]):
        client = api_for(user)
        for name in REVIEW_REPORTS:
            assert client.get(f"/api/v1/reports/{name}/").status_code == 200, name
        recall = client.get("/api/v1/reports/recall/", {"lot_number": "PRP-LOT-7"}).json()
        assert "sites" in recall["rows"][0] and "product_name" in recall["rows"][0]
    responses = api_for(clinic_admin).get(f"/api/v1/courses/{clinic['c1'].pk}/responses/")
    assert {(r["instrument"], r["time_point"], r["responder"]) for r in responses.json()} >= {
        ("nprs", "6w", True),
        ("womac", "6w", False),
    }


def test_reports_download_as_csv(clinic):
    response = api_for(clinic["a"]).get("/api/v1/reports/safety/", {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="safety.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert {(r["treatment"], r["kind"], r["per_100_sessions"]) for r in rows} == {
        ("prp", "bruising", "33.33"),
        ("prp", "infection", "33.33"),
        ("dextrose", "pain_flare", "50.00"),
    }


@pytest.mark.parametrize(
    ("report", "query", "field"),
    [
        ("outcomes", {"date_from": "last week"}, "date_from"),
        ("safety", {"treatment": "tea"}, "treatment"),
        ("activity", {"date_from": "2025-05-01", "date_to": "2025-01-01"}, "date_to"),
        ("outcomes", {"clinician": "999999"}, "clinician"),
        ("recall", {}, "lot_number"),
    ],
)
def test_bad_report_filters_name_the_field(clinic, report, query, field):
    response = api_for(clinic["a"]).get(f"/api/v1/reports/{report}/", query)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_no_role_no_reports(clinic):
    assert APIClient().get("/api/v1/reports/recall/", {"lot_number": "X"}).status_code == 401
    nobody = api_for(UserFactory(username="no-role"))
    assert nobody.get("/api/v1/reports/recall/", {"lot_number": "X"}).status_code == 403


def test_reports_page_in_the_admin(clinic, front_desk):
    client = Client()
    client.force_login(clinic["a"])
    page = client.get("/admin/reports/", {"lot_number": "PRP-LOT-7"})
    assert page.status_code == 200
    html = page.content.decode()
    for anchor in ('id="outcome-chart"', 'id="safety-chart"', "Moved away", "Haddad"):
        assert anchor in html
    assert page.context["safety_chart"]["labels"] == ["Dextrose prolotherapy", "PRP"]
    desk = Client()
    desk.force_login(front_desk)
    page = desk.get("/admin/reports/", {"lot_number": "PRP-LOT-7"}).content.decode()
    assert "Haddad" in page and 'id="outcome-chart"' not in page and "Medial" not in page


def cells(html: str) -> list[str]:
    """The text of every table cell and heading of the reports (not the admin's side bar)."""
    reports_part = html[html.index('class="report-filters"') :]
    found = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", reports_part, flags=re.S)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in found]


def test_reports_page_tables_show_labels_not_codes(clinic):
    client = Client()
    client.force_login(clinic["a"])
    shown = cells(client.get("/admin/reports/", {"lot_number": "PRP-LOT-7"}).content.decode())
    for label in (
        "NPRS pain (0-10)",  # outcomes
        "KOOS pain (0-100)",
        "6 weeks",
        "Dextrose prolotherapy",  # safety
        "Soreness / pain flare",
        "3 - severe or hospitalisation",
        "Infection",  # serious events
        "Stopped",  # courses ended
        "Completed",
        "Moreau, Ines",  # recall
        "PRP (PRP)",
        "Left knee: Medial collateral ligament",
    ):
        assert label in shown, label
    codes = {"nprs", "koos_pain", "6w", "3m", "prp", "dextrose", "pain_flare", "infection"}
    codes |= {"bruising", "stopped", "completed", "given_name", "family_name", "session_date"}
    assert codes.isdisjoint(shown)


def test_api_and_csv_keep_the_codes(clinic):
    client = api_for(clinic["a"])
    rows = client.get("/api/v1/reports/serious-events/").json()["rows"]
    assert [(r["treatment"], r["kind"], r["grade"]) for r in rows] == [("prp", "infection", 3)]
    recall = client.get("/api/v1/reports/recall/", {"lot_number": "PRP-LOT-7", "format": "csv"})
    header = next(csv.reader(io.StringIO(recall.content.decode())))
    assert header[:4] == ["patient", "mrn", "given_name", "family_name"]


def section_links(html: str) -> str:
    start = html.index('id="report-sections"')
    return html[start : html.index("</nav>", start)]


def test_reports_page_links_its_sections_and_puts_an_asked_recall_first(clinic, front_desk):
    client = Client()
    client.force_login(clinic["a"])
    html = client.get("/admin/reports/", {"lot_number": "PRP-LOT-7"}).content.decode()
    nav = section_links(html)
    anchors = re.findall(r'href="#([\w-]+)"', nav)
    assert anchors == [
        "recall",
        "outcomes",
        "completion",
        "safety",
        "serious",
        "attendance",
        "waitlist-fills",
        "activity",
        "courses-ended",
    ]
    assert "Recall of lot PRP-LOT-7</a> (2 patients)" in nav
    places = [html.index(f'id="{anchor}"') for anchor in anchors]
    assert places == sorted(places), "the sections in the order of their links"
    assert places[0] < html.index('id="outcome-chart"'), "the recall before the charts"

    without = client.get("/admin/reports/").content.decode()
    assert 'href="#recall"' not in without and 'href="#outcomes"' in without

    desk = Client()
    desk.force_login(front_desk)
    page = desk.get("/admin/reports/", {"lot_number": "PRP-LOT-7"}).content.decode()
    nav = section_links(page)
    assert re.findall(r'href="#([\w-]+)"', nav) == ["recall"]
    assert cells(page)[:6] == ["Patient", "MRN", "Phone", "Email", "Session", "Haddad, Omar"]


def test_an_unknown_format_is_a_field_error(clinic):
    response = api_for(clinic["a"]).get("/api/v1/reports/outcomes/", {"format": "xlsx"})
    assert response.status_code == 400
    assert response.json()["errors"] == {"format": ["Use json or csv."]}


def test_errors_of_a_csv_request_are_problem_details(clinic):
    response = api_for(clinic["a"]).get(
        "/api/v1/reports/safety/", {"format": "csv", "date_from": "soon"}
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert "date_from" in response.json()["errors"]
