"""The operations `make bench` drives: who does them, how often, and the request each makes.

Shared by bench/locustfile.py (the load) and bench/run.py (the floor, cursor and query-count
passes), so both send the same requests. A plan (bench/run.py writes it) holds ids and values
sampled from the loaded database, and per role an API token and a signed-in session (the
workspace's pages are read as a browser reads them, with the session's cookie).
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

API = "/api/v1"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    params: dict[str, Any] | None = None
    body: dict[str, Any] | None = None
    floor: str | None = None  # the same result from bench/floor.py, for reads
    screen: bool = False  # a workspace page, read signed in (session cookie), not with a token


@dataclass(frozen=True)
class Op:
    name: str
    role: str  # whose token: "clinician", "frontdesk" or "admin"
    weight: int  # relative frequency within the role's tasks
    build: Callable[[dict[str, Any], random.Random], Request]


def credentials(plan: dict[str, Any], role: str, request: Request) -> dict[str, str]:
    """The role's session cookie for a workspace page, else its API token."""
    if request.screen:
        return {"Cookie": f"{plan['session_cookie']}={plan['sessions'][role]}"}
    return {"Authorization": f"Token {plan['tokens'][role]}"}


def patient_search(plan: dict[str, Any], rng: random.Random) -> Request:
    params = {"search": rng.choice(plan["search"])}
    return Request("GET", f"{API}/patients/", params, floor="/floor/patients/")


def patient_detail(plan: dict[str, Any], rng: random.Random) -> Request:
    patient = rng.choice(plan["patients"])
    return Request("GET", f"{API}/patients/{patient}/", floor=f"/floor/patients/{patient}/")


def timeline(plan: dict[str, Any], rng: random.Random) -> Request:
    patient = rng.choice(plan["timeline_patients"])
    path = f"/patients/{patient}/timeline/"
    return Request("GET", f"{API}{path}", floor=f"/floor{path}")


def session_list(plan: dict[str, Any], rng: random.Random) -> Request:
    clinician, day = rng.choice(plan["clinician_days"])
    start = datetime.date.fromisoformat(day)
    params = {
        "clinician": clinician,
        "performed_after": f"{start - datetime.timedelta(days=30)}T00:00:00Z",
        "performed_before": f"{start}T00:00:00Z",
        "page_size": 50,
    }
    return Request("GET", f"{API}/sessions/", params, floor="/floor/sessions/")


def agenda(plan: dict[str, Any], rng: random.Random) -> Request:
    day, clinician = rng.choice(plan["agenda"])
    params = {"date": day, "clinician": clinician}
    return Request("GET", f"{API}/follow-ups/agenda/", params, floor="/floor/follow-ups/agenda/")


def desk_grid(plan: dict[str, Any], rng: random.Random) -> Request:
    """The front desk's day grid of a booked day for four clinicians, as the desk chooses
    them."""
    day, clinician = rng.choice(plan["agenda"])
    others = {row[0] for row in rng.sample(plan["clinician_days"], 12)} - {clinician}
    chosen = [clinician, *sorted(others)[:3]]
    query = "&".join([f"date={day}", *(f"clinician={pk}" for pk in chosen)])
    return Request("GET", f"/desk/?{query}", screen=True)


def chart(plan: dict[str, Any], rng: random.Random) -> Request:
    """The clinician's chart of a patient with about 20 sessions (the timeline's patients)."""
    return Request("GET", f"/patients/{rng.choice(plan['timeline_patients'])}/", screen=True)


def session_screen(plan: dict[str, Any], rng: random.Random) -> Request:
    """The one-screen session log, opened from a patient's chart."""
    patient = rng.choice(plan["timeline_patients"])
    return Request("GET", f"/patients/{patient}/sessions/new/", screen=True)


def session_create(plan: dict[str, Any], rng: random.Random) -> Request:
    when = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=rng.randint(5, 600))
    expiry = (when.date() + datetime.timedelta(days=90)).isoformat()
    body = {
        "patient": rng.choice(plan["patients"]),
        # Given by one of the network's clinicians (logged with the bench clinician's token):
        # one clinician's calendar would fill up with every run's follow-up proposals.
        "clinician": rng.choice(plan["clinician_days"])[0],
        "performed_at": when.isoformat(),
        "status": "completed",
        "guidance": "ultrasound",
        "consent_obtained": True,
        "pre_pain_score": rng.randint(3, 9),
        "injectates": [
            {
                "line": 1,
                "kind": "prp",
                "volume_ml": "5.0",
                "lot_number": "BENCH-1",
                "expiry_date": expiry,
                "whole_blood_ml": "30",
                "spins": 2,
                "anticoagulant": "acd_a",
                "activation": "none",
                "leukocytes": "poor",
                "platelet_count": 1100,
                "baseline_platelet_count": 240,
            }
        ],
        "sites": [
            {
                "line": 1,
                "injectate_line": 1,
                "body_region": "knee",
                "structure": "Knee joint",
                "tissue": "intra_articular",
                "laterality": "right",
                "volume_ml": "3",
            },
            {
                "line": 2,
                "injectate_line": 1,
                "body_region": "knee",
                "structure": "Medial collateral ligament",
                "tissue": "ligament",
                "laterality": "right",
                "volume_ml": "2",
            },
        ],
    }
    return Request("POST", f"{API}/sessions/", body=body)


def report(name: str) -> Callable[[dict[str, Any], random.Random], Request]:
    def build(plan: dict[str, Any], rng: random.Random) -> Request:
        today = datetime.datetime.now(datetime.UTC).date()
        params: dict[str, Any] = {"date_from": str(today - datetime.timedelta(days=365))}
        if name == "recall":
            params["lot_number"] = plan["lot"]
        return Request("GET", f"{API}/reports/{name}/", params)

    return build


REPORTS = ("outcomes", "safety", "serious-events", "activity", "courses-ended", "recall")

OPS = [
    Op("patient search", "frontdesk", 10, patient_search),
    Op("agenda", "frontdesk", 10, agenda),
    Op("desk grid", "frontdesk", 10, desk_grid),
    Op("patient detail", "clinician", 10, patient_detail),
    Op("timeline", "clinician", 10, timeline),
    Op("session list", "clinician", 10, session_list),
    Op("session create", "clinician", 3, session_create),
    Op("chart", "clinician", 10, chart),
    Op("session screen", "clinician", 3, session_screen),
    *(Op(f"report {name}", "admin", 1, report(name)) for name in REPORTS),
]
