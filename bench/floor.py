"""The benchmark's floor: the API's read operations with nothing but psycopg and orjson.

A bare WSGI application answering five reads of ``/api/v1/`` under ``/floor/`` with the same
JSON (as the token's role reads it) from the same SQL statements the Django app runs (captured
with CaptureQueriesContext; a prefetch is the same several queries, stitched here): the token and
its user's roles, a filter's clinician when one is given, the data, and the access-log row
every read of patient data writes (with pghistory's context, as the app sends it). No Django,
no DRF, no model instances: what is left of our time over this is the framework's and ours,
which bench/run.py measures against it. With the header ``X-Floor: data`` it leaves out the
token and the access log and answers as a clinician reads (the floor bench/run.py printed
before it had them). Lists give their first page only (``next`` is null).

    /floor/patients/?search=&page_size=     /floor/patients/<id>/     /floor/patients/<id>/timeline/
    /floor/sessions/?clinician=&performed_after=&performed_before=&page_size=
    /floor/follow-ups/agenda/?date=&clinician=

    DATABASE_URL=postgres://... gunicorn bench.floor:application
"""

from __future__ import annotations

import datetime
import hashlib
import os
import re
import threading
import uuid
from decimal import Decimal
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import orjson
from psycopg import ClientCursor
from psycopg.types.string import TextLoader
from psycopg_pool import ConnectionPool

TZ_NAME = os.environ.get("TIME_ZONE", "UTC")  # clinic.settings': DRF prints in this zone
TZ = ZoneInfo(TZ_NAME)
PAGE_SIZE, MAX_PAGE_SIZE = 50, 200
EARLIEST, LATEST = datetime.date(1900, 1, 1), datetime.date(2999, 12, 31)
VALID_CHOICE = "Select a valid choice. That choice is not one of the available choices."
WRONG_DATE = "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."

# The serializers' fields, in their order; rows are zipped with them (a field names a foreign
# key's column without its "_id").
FOREIGN_KEYS = {"patient", "course", "clinician", "signed_by", "session", "site", "injectate"}
FOREIGN_KEYS |= {"recorded_by", "author"}
PATIENT_FIELDS = (
    "id mrn given_name family_name birth_date sex phone email reminder_channel reminder_consent "
    "reminder_consent_on allergies local_anaesthetic_allergy anticoagulant_use archived_at "
    "created_at updated_at"
).split()
SESSION_FIELDS = (
    "id patient course clinician performed_at status guidance consent_obtained pre_pain_score "
    "notes cancel_reason signed_by signed_at created_at updated_at"
).split()
INJECTATE_FIELDS = (
    "id line kind volume_ml product_name manufacturer lot_number expiry_date whole_blood_ml "
    "prp_system spins anticoagulant leukocytes red_cells activation platelet_count "
    "baseline_platelet_count dextrose_pct anaesthetic anaesthetic_pct diluent exosome_source "
    "particles_per_ml"
).split()
SITE_FIELDS = (
    "id line body_region structure snomed_code tissue laterality volume_ml needle_gauge approach "
    "injectate"
).split()
ADDENDUM_FIELDS = ["id", "text", "author", "created_at"]
SIDE_EFFECT_FIELDS = (
    "id session site kind description grade serious onset_date resolved_date relatedness "
    "action_taken outcome reported_by recorded_by created_at updated_at"
).split()
FOLLOW_UP_FIELDS = (
    "id patient course session kind starts_at ends_at clinician status notes created_at updated_at"
).split()
OUTCOME_FIELDS = (
    "id patient course instrument score time_point measured_on recorded_by patient_reported "
    "created_at updated_at"
).split()
# The front desk's patient fields (clinic.permissions): no allergies or medication.
FRONT_DESK_PATIENT_FIELDS = [
    name
    for name in PATIENT_FIELDS
    if name not in {"allergies", "local_anaesthetic_allergy", "anticoagulant_use"}
]
USER_FIELDS = (  # not serialized; Django's select_related("clinician") reads them all
    "id password last_login is_superuser username first_name last_name email is_staff "
    "is_active date_joined"
).split()


def _columns(alias: str, fields: list[str], *more: str) -> str:
    names = [f"{name}_id" if name in FOREIGN_KEYS else name for name in fields]
    return ", ".join(f"{alias}.{name}" for name in [*names, *more])


# Each SELECT has the serialized fields first, then the other columns Django selects. The SQL is
# assembled from these constant fragments only; every value is a bound parameter.
P, U = _columns("p", PATIENT_FIELDS), _columns("u", USER_FIELDS)
S = _columns("s", SESSION_FIELDS, "treatment")
I = _columns("i", INJECTATE_FIELDS, "session_id", "created_at", "updated_at")  # noqa: E741
F = _columns("f", FOLLOW_UP_FIELDS, "rule_id")  # then P (mrn, given_name, family_name: 14-16)
PATIENT_SQL = f"SELECT {P} FROM patients_patient p WHERE p.id = %s LIMIT 21"  # noqa: S608
PATIENTS_SQL = (  # {where}: one SEARCH_TERM_SQL per term, AND-ed; {order}: as patients/api.py
    f"SELECT {P} FROM patients_patient p{{where}} ORDER BY {{order}} LIMIT %s"  # noqa: S608
)
NAME_ORDER = "p.family_name, p.given_name, p.id"
SEARCH_ORDER = "UPPER(p.family_name::text), UPPER(p.given_name::text), p.id"
SEARCH_TERM_SQL = (
    "(UPPER(p.mrn::text) = UPPER(%s) OR UPPER(p.family_name::text) LIKE UPPER(%s) "
    "OR UPPER(p.given_name::text) LIKE UPPER(%s))"
)
SESSIONS_SQL = (  # {where}: the SESSION_FILTERS given, AND-ed
    f"SELECT {S}, {U} FROM treatments_injectionsession s "  # noqa: S608
    "JOIN auth_user u ON s.clinician_id = u.id{where} "
    "ORDER BY s.performed_at DESC, s.id DESC{limit}"
)
SESSION_FILTERS = {
    "clinician": "s.clinician_id = %(clinician)s",
    "performed_after": "s.performed_at >= %(performed_after)s",
    "performed_before": "s.performed_at < %(performed_before)s",
}
PATIENT_SESSIONS_SQL = SESSIONS_SQL.format(where=" WHERE s.patient_id = %(patient)s", limit="")
INJECTATES_SQL = (
    f"SELECT {I} FROM treatments_injectate i "  # noqa: S608
    "WHERE i.session_id = ANY(%s) ORDER BY i.session_id, i.line"
)
SITES_SQL = (  # the site's columns (session_id at 11), then its injectate's (i.line at 15)
    f"SELECT {_columns('si', SITE_FIELDS, 'session_id', 'created_at', 'updated_at')}, {I} "  # noqa: S608
    "FROM treatments_injectionsite si JOIN treatments_injectate i ON si.injectate_id = i.id "
    "WHERE si.session_id = ANY(%s) ORDER BY si.session_id, si.line"
)
ADDENDA_SQL = (
    f"SELECT {_columns('a', ADDENDUM_FIELDS, 'session_id')} FROM treatments_addendum a "  # noqa: S608
    "WHERE a.session_id = ANY(%s) ORDER BY a.session_id, a.created_at, a.id"
)
SIDE_EFFECTS_SQL = (
    f"SELECT {_columns('e', SIDE_EFFECT_FIELDS)} FROM treatments_sideeffect e "  # noqa: S608
    "JOIN treatments_injectionsession s ON e.session_id = s.id WHERE s.patient_id = %(patient)s "
    "ORDER BY s.performed_at DESC, s.id DESC, e.onset_date, e.id"
)
FOLLOW_UPS_SQL = (
    f"SELECT {F}, {P} FROM treatments_followup f "  # noqa: S608
    "JOIN patients_patient p ON f.patient_id = p.id WHERE f.patient_id = %(patient)s "
    "ORDER BY f.starts_at, f.id"
)
OUTCOMES_SQL = (
    f"SELECT {_columns('o', OUTCOME_FIELDS)} FROM patients_outcomescore o "  # noqa: S608
    "JOIN patients_patient p ON o.patient_id = p.id WHERE o.patient_id = %(patient)s "
    "ORDER BY p.family_name, p.given_name, p.id, o.measured_on, o.id"
)
AGENDA_SQL = (  # {clinician}: AGENDA_CLINICIAN or nothing
    f"SELECT {F}, {P}, {U} FROM treatments_followup f "  # noqa: S608
    "JOIN auth_user u ON f.clinician_id = u.id JOIN patients_patient p ON f.patient_id = p.id "
    "WHERE f.starts_at >= %(start)s AND f.starts_at < %(end)s "
    "AND NOT (f.status = 'cancelled'){clinician} "
    "ORDER BY u.last_name, f.clinician_id, f.starts_at, f.id"
)
AGENDA_CLINICIAN = " AND f.clinician_id = %(clinician)s"
TOKEN_SQL = (  # clinic.api.authentication: the token by its digest, its user, the user's roles
    "SELECT t.digest, t.user_id, t.expiry, "  # noqa: S608
    "COALESCE(ARRAY_AGG(g.name), '{}'::varchar(150)[]) AS roles, "
    f"{U} FROM knox_authtoken t JOIN auth_user u ON t.user_id = u.id "
    "LEFT JOIN auth_user_groups ug ON u.id = ug.user_id "
    "LEFT JOIN auth_group g ON ug.group_id = g.id "
    "WHERE t.digest = %s GROUP BY t.digest, u.id ORDER BY t.digest LIMIT 1"
)
USER_SQL = f"SELECT {U} FROM auth_user u WHERE u.id = %s LIMIT 21"  # noqa: S608 (clinician check)
ACCESS_LOG_SQL = (  # clinic.audit.access_record, with pghistory's context as its middleware sets it
    "SELECT set_config('pghistory.context_id', %s, true), "
    "set_config('pghistory.context_metadata', %s, true); "
    "INSERT INTO clinic_accesslogentry "
    "(at, user_id, username, ip, action, method, path, status, patient_ids, request_id) "
    "VALUES (%s, %s, %s, %s::inet, %s, %s, %s, %s, %s::int8[], %s) RETURNING id"
)

_pool: ConnectionPool | None = None
_pool_lock = threading.Lock()


class Problem(Exception):
    """An error answer: (status, detail, {field: [messages]}), shaped as clinic.api.errors does."""


def _bad(field: str, message: str) -> Problem:
    return Problem(400, f"{field}: {message}", {field: [message]})


def _db() -> ConnectionPool:
    """This process's pool: autocommit and no prepared statements (as Django), the session in
    TIME_ZONE (datetimes come back in it, as DRF prints them), numeric as text (DRF's strings)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ConnectionPool(
                os.environ["DATABASE_URL"],
                min_size=1,
                max_size=4,
                kwargs={
                    "autocommit": True,
                    "prepare_threshold": None,
                    "options": f"-c TimeZone={TZ_NAME}",
                },
                configure=lambda conn: conn.adapters.register_loader("numeric", TextLoader),
                open=True,
            )
        return _pool


def _parse(params: dict[str, str], name: str, parse: Any, message: str) -> Any:
    try:
        return parse(params[name])
    except (ValueError, OverflowError):
        raise _bad(name, message) from None


def _utc(text: str) -> datetime.datetime:
    """An ISO 8601 date and time, in UTC (as the filters' UtcDateTimeField); naive: TIME_ZONE's."""
    moment = datetime.datetime.fromisoformat(text)
    return (moment if moment.tzinfo else moment.replace(tzinfo=TZ)).astimezone(datetime.UTC)


def _page_size(params: dict[str, str]) -> int:
    """As DRF's cursor pagination: the default for anything but a positive whole number."""
    try:
        size = int(params.get("page_size", ""))
    except ValueError:
        return PAGE_SIZE
    return min(size, MAX_PAGE_SIZE) if size > 0 else PAGE_SIZE


def _row(fields: list[str], row: tuple) -> dict[str, Any]:
    return dict(zip(fields, row, strict=False))


def _shown(shown: list[str], row: tuple) -> dict[str, Any]:
    """A patient, with the fields the reader's role reads."""
    patient = _row(PATIENT_FIELDS, row)
    return patient if shown is PATIENT_FIELDS else {name: patient[name] for name in shown}


def _injectate(row: tuple) -> dict[str, Any]:
    """With Injectate's two properties, the concentration factor and the PAW platelet band."""
    item, platelets, baseline = _row(INJECTATE_FIELDS, row), row[15], row[16]
    factor = band = None
    if platelets and baseline:
        factor = str((Decimal(platelets) / Decimal(baseline)).quantize(Decimal("0.1")))
    if platelets:
        band = "P1" if baseline and platelets <= baseline else "P2" if platelets <= 750 else None
        band = band or ("P3" if platelets <= 1250 else "P4")
    return item | {"concentration_factor": factor, "paw_platelet_band": band}


def _follow_up(row: tuple) -> dict[str, Any]:
    return _row(FOLLOW_UP_FIELDS, row) | {"patient_name": f"{row[16]}, {row[15]} ({row[14]})"}


def _sessions(conn: Any, rows: list[tuple]) -> list[dict[str, Any]]:
    """Sessions with their injectates, sites and addenda: Django's three prefetch queries."""
    found = {row[0]: _row(SESSION_FIELDS, row) for row in rows}
    for item in found.values():
        item.update(injectates=[], sites=[], addenda=[])
    if found:
        ids = list(found)
        for row in conn.execute(INJECTATES_SQL, [ids]):
            found[row[23]]["injectates"].append(_injectate(row))
        for row in conn.execute(SITES_SQL, [ids]):
            found[row[11]]["sites"].append(_row(SITE_FIELDS, row) | {"injectate_line": row[15]})
        for row in conn.execute(ADDENDA_SQL, [ids]):
            found[row[4]]["addenda"].append(_row(ADDENDUM_FIELDS, row))
    return list(found.values())


def _patient(conn: Any, patient_id: str, fields: list[str]) -> dict[str, Any]:
    pk = int(patient_id) if patient_id.isascii() and patient_id.isdigit() else 2**63
    row = conn.execute(PATIENT_SQL, [pk]).fetchone() if pk < 2**63 else None
    if row is None:
        raise Problem(404, "Not found.", {})
    return _shown(fields, row)


def patients(conn: Any, params: dict[str, str], *, shown: list[str]) -> Any:
    """``GET /api/v1/patients/?search=``: per term, =mrn or family_name or given_name contains."""
    text = params.get("search", "")
    if "\x00" in text:
        raise _bad("search", "Null characters are not allowed.")
    terms = text.replace(",", " ").split()  # DRF would keep a quoted phrase together
    args: list[Any] = []
    for term in terms:
        like = "%" + term.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
        args += [term, like, like]
    where = " WHERE " + " AND ".join([SEARCH_TERM_SQL] * len(terms)) if terms else ""
    size = _page_size(params)
    query = PATIENTS_SQL.format(where=where, order=SEARCH_ORDER if terms else NAME_ORDER)
    rows = conn.execute(query, [*args, size + 1]).fetchall()
    results = [_shown(shown, row) for row in rows[:size]]
    return {"next": None, "previous": None, "results": results}, [p["id"] for p in results]


def patient(conn: Any, params: dict[str, str], patient_id: str, *, shown: list[str]) -> Any:
    """``GET /api/v1/patients/<id>/``."""
    found = _patient(conn, patient_id, shown)
    return found, [found["id"]]


def timeline(conn: Any, params: dict[str, str], patient_id: str, *, shown: list[str]) -> Any:
    """``GET /api/v1/patients/<id>/timeline/``: the patient and their events, oldest first; a
    side effect at the end of its onset day, an outcome score at the start of its day."""
    found = _patient(conn, patient_id, shown)
    args = {"patient": found["id"]}
    sessions = _sessions(conn, conn.execute(PATIENT_SESSIONS_SQL, args).fetchall())
    side_effects = conn.execute(SIDE_EFFECTS_SQL, args).fetchall()
    follow_ups = conn.execute(FOLLOW_UPS_SQL, args).fetchall()
    outcomes = conn.execute(OUTCOMES_SQL, args).fetchall()
    end, start = datetime.time(23, 59, 59), datetime.time.min
    events = [(s["performed_at"], "session", s["id"], s) for s in sessions]
    for r in side_effects:
        at = datetime.datetime.combine(r[7], end, TZ)
        events.append((at, "side_effect", r[0], _row(SIDE_EFFECT_FIELDS, r)))
    events += [(r[5], "follow_up", r[0], _follow_up(r)) for r in follow_ups]
    for r in outcomes:
        at = datetime.datetime.combine(r[6], start, TZ)
        events.append((at, "outcome", r[0], _row(OUTCOME_FIELDS, r)))
    events.sort(key=lambda event: event[:3])  # as patients.selectors.patient_timeline
    return {
        "patient": found,
        "events": [{"kind": kind, "at": at, kind: record} for at, kind, _, record in events],
    }, [found["id"]]


def sessions(conn: Any, params: dict[str, str], *, shown: list[str]) -> Any:
    """``GET /api/v1/sessions/?clinician=&performed_after=&performed_before=&page_size=``."""
    args: dict[str, Any] = {}  # django-filter: an empty value is no filter
    if params.get("clinician"):
        args["clinician"] = _parse(params, "clinician", int, VALID_CHOICE)
    for name in ("performed_after", "performed_before"):
        if params.get(name):
            args[name] = _parse(params, name, _utc, "Enter a valid date/time.")
    if "clinician" in args:
        _clinician(conn, args["clinician"], VALID_CHOICE)
    where = " WHERE " + " AND ".join(SESSION_FILTERS[name] for name in args) if args else ""
    size = _page_size(params)
    query = SESSIONS_SQL.format(where=where, limit=" LIMIT %(limit)s")
    rows = conn.execute(query, args | {"limit": size + 1}).fetchall()
    results = _sessions(conn, rows[:size])
    return {"next": None, "previous": None, "results": results}, [s["patient"] for s in results]


def agenda(conn: Any, params: dict[str, str], *, shown: list[str]) -> Any:
    """``GET /api/v1/follow-ups/agenda/?date=&clinician=``: a day's bookings, not cancelled."""
    unknown = sorted(set(params) - {"date", "clinician"})
    if unknown:
        detail = "; ".join(f"{name}: Unknown field." for name in unknown)
        raise Problem(400, detail, {name: ["Unknown field."] for name in unknown})
    day = datetime.datetime.now(TZ).date()
    if "date" in params:
        day = _parse(params, "date", datetime.date.fromisoformat, WRONG_DATE)
        if not EARLIEST <= day <= LATEST:
            raise _bad("date", "Choose a date between 1900 and 2999.")
    start = datetime.datetime.combine(day, datetime.time.min, TZ)
    args = {"start": start, "end": start + datetime.timedelta(days=1)}
    if "clinician" in params:
        args["clinician"] = _parse(params, "clinician", int, "Incorrect type. Expected pk value.")
        message = f'Invalid pk "{args["clinician"]}" - object does not exist.'
        _clinician(conn, args["clinician"], message)
    query = AGENDA_SQL.format(clinician=AGENDA_CLINICIAN if "clinician" in args else "")
    results = [_follow_up(row) for row in conn.execute(query, args)]
    return results, [f["patient"] for f in results]


def _clinician(conn: Any, user_id: int, message: str) -> None:
    """A filter's or query's clinician must be a user (as its ModelChoiceFilter or
    PrimaryKeyRelatedField looks it up)."""
    if conn.execute(USER_SQL, [user_id]).fetchone() is None:
        raise _bad("clinician", message)


def _user(conn: Any, environ: dict[str, Any]) -> tuple[int, str, list[str]]:
    """The token's user (id, username, roles), as ExpiringTokenAuthentication finds it."""
    scheme, _, key = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "token" or not key:
        raise Problem(401, "Authentication credentials were not provided.", {})
    digest = hashlib.sha512(key.encode()).hexdigest()  # knox's digest of the token
    row = conn.execute(TOKEN_SQL, [digest]).fetchone()
    if row is None:
        raise Problem(401, "Invalid token.", {})
    user = _row(["digest", "user_id", "expiry", "roles", *USER_FIELDS], row)
    if not user["is_active"]:
        raise Problem(401, "User inactive or deleted.", {})
    if user["expiry"] is not None and user["expiry"] <= datetime.datetime.now(datetime.UTC):
        raise Problem(401, "Token expired; ask for a new one.", {})
    return user["user_id"], user["username"], user["roles"]


def _log_access(
    conn: Any, environ: dict[str, Any], user: tuple[int, str], action: str, patients: list[int]
) -> None:
    """The access-log row the app writes for a read of patient data."""
    path = environ.get("PATH_INFO", "").replace("/floor/", "/api/v1/", 1)
    if environ.get("QUERY_STRING"):
        path += "?" + environ["QUERY_STRING"]
    request_id = uuid.uuid4().hex
    context = orjson.dumps({"user": user[0], "url": path, "request_id": request_id}).decode()
    values = [str(uuid.uuid4()), context, datetime.datetime.now(datetime.UTC), *user]
    values += [environ.get("REMOTE_ADDR"), action, "GET", path[:500], 200]
    values += [sorted(set(patients)), request_id]
    with ClientCursor(conn) as cursor:  # two statements in one, as Django sends them
        cursor.execute(ACCESS_LOG_SQL, values)


ROUTES = [  # (path, view, the access log's action)
    (re.compile(r"/floor/patients/"), patients, "api.patient.list"),
    (re.compile(r"/floor/patients/([^/.]+)/"), patient, "api.patient.retrieve"),
    (re.compile(r"/floor/patients/([^/.]+)/timeline/"), timeline, "api.patient.timeline"),
    (re.compile(r"/floor/sessions/"), sessions, "api.injectionsession.list"),
    (re.compile(r"/floor/follow-ups/agenda/"), agenda, "api.followup.agenda"),
]


def _respond(start_response: Any, status: int, body: Any, content_type: str) -> list[bytes]:
    data = orjson.dumps(body, option=orjson.OPT_UTC_Z)
    headers = [("Content-Type", content_type), ("Content-Length", str(len(data)))]
    start_response(f"{status} {HTTPStatus(status).phrase}", headers)
    return [data]


def application(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    try:
        for pattern, view, action in ROUTES:
            match = pattern.fullmatch(environ.get("PATH_INFO", ""))
            if match and environ["REQUEST_METHOD"] == "GET":
                query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
                params = {name: values[-1] for name, values in query.items()}
                with _db().connection() as conn:
                    if environ.get("HTTP_X_FLOOR") == "data":  # as a clinician reads it
                        body, _ = view(conn, params, *match.groups(), shown=PATIENT_FIELDS)
                    else:
                        user_id, username, roles = _user(conn, environ)
                        front_desk = roles == ["Front desk"]
                        shown = FRONT_DESK_PATIENT_FIELDS if front_desk else PATIENT_FIELDS
                        body, patients = view(conn, params, *match.groups(), shown=shown)
                        _log_access(conn, environ, (user_id, username), action, patients)
                return _respond(start_response, 200, body, "application/json")
        raise Problem(404, "There is nothing at this address.", {})
    except Problem as problem:  # RFC 9457 problem details
        status, detail, errors = problem.args
        body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status}
        body |= {"detail": detail, "errors": errors}
        return _respond(start_response, status, body, "application/problem+json")


floor_app = application
