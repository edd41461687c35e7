"""The OpenAPI contract: generated without warnings, and every operation keeps to it for every
role: each operation alone with valid and invalid data (schemathesis, positive and negative
generation), chains of operations that follow the schema's links (stateful: a created record
is read, changed and acted on by its id), OPTIONS and HEAD on every path, every report as CSV,
and the refusals of anonymous and failed CSV requests. No server error, no response outside
the schema; the schema's valid data is accepted and its invalid data refused, except where a
refusal depends on what no schema can say (below). ``-s`` prints how many requests were made.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any
from urllib.parse import urlencode

import pytest
import schemathesis
from django import forms as django_forms
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.core.validators import ProhibitNullCharactersValidator
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings
from rest_framework import fields as drf_fields
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.test import Client as WsgiClient

from clinic.wsgi import application
from interop.bulk import fhir_export_request
from interop.models import FhirExport
from recordkeeping.api.base import REFUSED
from recordkeeping.api.filters import NOT_A_BOOLEAN, NOT_A_WHOLE_NUMBER
from recordkeeping.api.pagination import ClinicCursorPagination
from recordkeeping.api.schema import NOT_EVERY_ROLE
from recordkeeping.permissions import can_run_report
from recordkeeping.roles import CLINIC_ADMIN, CLINICIAN, FRONT_DESK
from reports.api import REPORT_VIEWS, UNKNOWN_FORMAT
from tests.conftest import token_for
from tests.factories import (
    ConditionFactory,
    CourseFactory,
    FollowUpFactory,
    InjectateFactory,
    OutcomeScoreFactory,
    SessionFactory,
    SideEffectFactory,
    SiteFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
ROLES = [CLINICIAN, FRONT_DESK, CLINIC_ADMIN]
STATEFUL_SCENARIOS = 50  # per role, up to 6 linked calls each
REQUESTS: Counter[str] = Counter()  # requests made, by kind


# -- What no schema can say --------------------------------------------------------------------
# A schema-valid request may still be refused (400) for a reason that needs the stored records,
# the other fields or the caller's role to decide. Such a refusal is not counted against the
# schema; every other refusal of valid data is.
BEYOND_THE_SCHEMA = (
    re.compile(r'^Invalid pk ".*" - object does not exist\.$'),  # a record that is not there
    re.compile(r"^Select a valid choice\. That choice is not one"),  # a filter by such a record
    re.compile(r"^Invalid cursor$"),  # cursors are opaque: only the API's own `next` is valid
    re.compile(rf"^{re.escape(REFUSED)}$"),  # a filter on a field the role may not read
    re.compile(r"^Unable to log in with provided credentials\.$"),  # a wrong password
)


def _template(message: Any) -> re.Pattern[str]:
    text = re.escape(str(message))
    text = re.sub(r"\\\{[a-z_]+\\\}", ".*", text)  # DRF's {max_length}
    return re.compile("^" + re.sub(r"%\\\([a-z_]+\\\)[sd]", ".*", text) + "$")  # Django's


def _shape_messages() -> list[re.Pattern[str]]:
    """The messages that say a value has the wrong type or size, which is what the schema
    describes: those of DRF's fields, of the form fields django-filter reads parameters with,
    and the API's own about its parameters. Any other 400 message is one of the clinic's rules
    (a model's clean(), a database constraint, a service), which a schema cannot state."""
    classes: list[type] = [drf_fields.Field, django_forms.Field]
    messages = [
        ProhibitNullCharactersValidator.message,
        ClinicCursorPagination().page_size_refused,
        NOT_A_BOOLEAN,
        NOT_A_WHOLE_NUMBER,
        UNKNOWN_FORMAT,
    ]
    while classes:
        cls = classes.pop()
        classes.extend(cls.__subclasses__())
        messages.extend(getattr(cls, "default_error_messages", {}).values())
    return [_template(message) for message in messages]


SHAPE_MESSAGES = _shape_messages()
RANGE = re.compile(r"^Ensure this value is (greater|less) than or equal to ")


def _resolve(spec: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in spec:
        spec = RAW["components"]["schemas"][spec["$ref"].rsplit("/", 1)[-1]]
    return spec


def body_field(case: Any, path: str) -> dict[str, Any]:
    """The schema of one field of the operation's JSON body, by its error path."""
    spec = RAW["paths"][case.path][case.method.lower()].get("requestBody", {})
    spec = spec.get("content", {}).get("application/json", {}).get("schema", {})
    for part in path.split("."):
        spec = _resolve(spec)
        spec = spec.get("items", {}) if part.isdigit() else spec.get("properties", {}).get(part, {})
    return _resolve(spec)


def beyond_the_schema(case: Any, field: str, message: str) -> bool:
    if any(rule.match(message) for rule in BEYOND_THE_SCHEMA):
        return True
    spec = body_field(case, field)
    if message == "Unknown field.":  # a field the role may not send (marked as such)
        return NOT_EVERY_ROLE in spec.get("description", "")
    if RANGE.match(message):  # JSON Schema bounds numbers, not decimals written as text
        return spec.get("format") == "decimal"
    return not any(shape.match(message) for shape in SHAPE_MESSAGES)


def valid_data_is_accepted(ctx: Any, response: Any, case: Any) -> bool | None:
    """schemathesis's positive_data_acceptance, but for a 400 whose every message is a rule
    beyond the schema."""
    if response.status_code == 400:
        errors = json.loads(response.content or b"{}").get("errors", {})
        if errors and all(
            beyond_the_schema(case, field, message)
            for field, messages in errors.items()
            for message in messages
        ):
            return None
    return positive_data_acceptance(ctx, response, case)


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    valid_data_is_accepted,
    negative_data_rejection,
]


# -- The schema and the client ---------------------------------------------------------------
def test_schema_generates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in (
        "/api/v1/patients/{id}/timeline/",
        "/api/v1/sessions/{id}/cancel/",
        "/api/v1/auth/token/",
        "/api/v1/side-effects/",
        "/api/v1/follow-ups/",
        "/api/v1/outcomes/",
    ):
        assert path in text


def test_docs_page_is_served_without_a_cdn(client):
    page = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in page
    assert "cdn" not in page.lower()


@pytest.fixture(autouse=True)
def keep_test_transaction_open():
    # As Django's test client does: a request must not close the test's open transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(scope="module", autouse=True)
def report_request_count(request):
    """Says how many requests the contract tests made, after them (also without ``-s``)."""
    yield
    said = ", ".join(f"{kind} {count}" for kind, count in sorted(REQUESTS.items()))
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(f"\nAPI contract: {sum(REQUESTS.values())} requests ({said})")


def records() -> dict[str, Any]:
    """One record of every kind, with small ids, so that generated ids sometimes find one."""
    site = SiteFactory()
    session = site.session
    line = site.injectate.line % 20 + 1  # the next line of the session
    InjectateFactory(session=session, line=line, lot_number="LOT-1")
    course = CourseFactory(patient=session.patient)
    return {
        "patients": session.patient,
        "conditions": ConditionFactory(patient=session.patient),
        "courses": course,
        "sessions": session,
        "side-effects": SideEffectFactory(session=session),
        "follow-ups": FollowUpFactory(patient=session.patient, clinician=session.clinician),
        "outcomes": OutcomeScoreFactory(patient=session.patient, course=course),
        "fhir-exports": FhirExport.objects.create(),
        "fhir": fhir_export_request(requested_by=None, url="http://localhost/api/v1/fhir/$export"),
        "planned": SessionFactory(status="planned", consent_obtained=False),
    }


@pytest.fixture(params=ROLES)
def role(request) -> str:
    return request.param


@pytest.fixture
def token_headers(role):
    records()
    return {"Authorization": f"Token {token_for(UserFactory(role=role))}"}


# Generated cases, valid and invalid (the boundary-value "coverage" phase multiplies the run
# time by ten). Text never holds NUL, which the API refuses (400) in any field: only a pattern
# on every string could say so, and the API description says it instead.
CONFIG = SchemathesisConfig.from_dict(
    {
        "generation": {"mode": "all", "allow-x00": False},
        "phases": {"coverage": {"enabled": False}},
    }
)
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application, config=CONFIG)
RAW: dict[str, Any] = schema.raw_schema
# Scenarios send valid data, so that created records lead somewhere.
VALID = SchemathesisConfig.from_dict({"generation": {"mode": "positive", "allow-x00": False}})
scenarios = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application, config=VALID)


# -- Each operation alone ------------------------------------------------------------------
@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_keeps_its_contract(case, token_headers):
    REQUESTS["generated"] += 1
    case.call_and_validate(headers=token_headers, checks=CHECKS)


def test_linked_operations_keep_their_contract(token_headers):
    class Scenarios(scenarios.as_state_machine()):  # type: ignore[misc]
        # Each scenario starts from the same records: what one made (a booking that a
        # replayed scenario's booking would then clash with) is rolled back after it, so the
        # same scenario gets the same answers when Hypothesis runs it again.
        def setup(self):
            self.scenario = transaction.atomic()
            self.scenario.__enter__()

        def teardown(self):
            transaction.set_rollback(True)
            self.scenario.__exit__(None, None, None)

        def before_call(self, case):
            # A scenario starts from a patient: one born within the last 130 years (the
            # generator's first dates are year 1), so the records made next can refer to it.
            if case.path == "/api/v1/patients/" and isinstance(case.body, dict):
                born = str(case.body.get("birth_date", ""))
                if not "1900" <= born <= "2025":
                    case.body["birth_date"] = "1970-01-01"

        def get_call_kwargs(self, case):
            REQUESTS["stateful"] += 1
            return {"headers": token_headers}

        def validate_response(self, response, case, **kwargs):
            case.validate_response(response, checks=CHECKS)

    Scenarios.run(
        settings=settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=6,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
    )


# -- The bounds the schema gives -----------------------------------------------------------
BOUNDED = [
    (path, parameter["name"], parameter["schema"]["minimum"], parameter["schema"]["maximum"])
    for path, operations in RAW["paths"].items()
    for parameter in operations.get("get", {}).get("parameters", [])
    if parameter["in"] == "query" and {"minimum", "maximum"} <= set(parameter["schema"])
]


@pytest.mark.parametrize(("path", "name", "low", "high"), BOUNDED, ids=lambda v: str(v))
def test_query_parameters_are_taken_within_their_bounds_and_refused_outside(path, name, low, high):
    user = UserFactory(role=CLINICIAN)
    headers = {"Authorization": f"Token {token_for(user)}"}
    required = {"clinician": user.pk, "lot_number": "LOT-1"}
    query = {
        parameter["name"]: required[parameter["name"]]
        for parameter in RAW["paths"][path]["get"]["parameters"]
        if parameter.get("required") and parameter["in"] == "query"
    }
    for value, outside in ((low, False), (high, False), (low - 1, True), (high + 1, True)):
        response = send("GET", f"{path}?{urlencode(query | {name: value})}", headers)
        answer = json.loads(response.get_data())
        errors = answer["errors"] if response.status_code == 400 else {}
        refused = name in errors
        assert refused == outside, (value, response.status_code, errors)


# -- OPTIONS and HEAD on every path --------------------------------------------------------
PATHS = sorted(RAW["paths"])


def concrete(path: str, made: dict[str, Any]) -> str:
    """The path with the id of a record that exists."""
    kind = path.removeprefix("/api/v1/").split("/", 1)[0]
    record = made.get(kind)
    path = path.replace("{resource_type}", "Patient")
    return path.replace("{id}", str(record.pk)) if record is not None else path


def send(method: str, url: str, headers: dict[str, str]) -> Any:
    REQUESTS[method] += 1
    return WsgiClient(application).open(url, method=method, headers=headers)


# FHIR's operations answer as FHIR clients read them: refusals are OperationOutcomes.
FHIR_OPERATIONS = "/api/v1/fhir/"


def refusal_is_a_problem(response: Any, path: str = "") -> None:
    if response.status_code >= 400 and path.startswith(FHIR_OPERATIONS):
        assert response.headers["Content-Type"] == "application/fhir+json"
        assert json.loads(response.get_data())["resourceType"] == "OperationOutcome"
    elif response.status_code >= 400:
        assert response.headers["Content-Type"] == "application/problem+json"
        assert json.loads(response.get_data())["status"] == response.status_code


@pytest.mark.parametrize("path", PATHS)
def test_options_and_head_answer_on_every_path(path, role):
    made = records()
    headers = {"Authorization": f"Token {token_for(UserFactory(role=role))}"}
    url = concrete(path, made)

    options = send("OPTIONS", url, headers)
    assert options.status_code in (200, 403), options.get_data()[:300]
    assert options.headers["Content-Type"].split(";")[0] in (
        "application/json",
        "application/problem+json",
        *(["application/fhir+json"] if path.startswith(FHIR_OPERATIONS) else []),
    )
    refusal_is_a_problem(options, path)
    if options.status_code == 200:
        assert {"name", "renders", "parses"} <= set(json.loads(options.get_data()))

    head = send("HEAD", url, headers)
    assert head.status_code < 500
    assert "no-store" in head.headers["Cache-Control"]
    if "get" in RAW["paths"][path]:
        get = send("GET", url, headers)
        assert head.status_code == get.status_code, url
        # (none for both when there is no body: a running export's status)
        assert head.headers.get("Content-Type") == get.headers.get("Content-Type")
    else:  # HEAD is a GET without the body: a path with no GET refuses it, as it would GET
        assert head.status_code in (403, 405), url
        refusal_is_a_problem(head, path)


# -- Reports as CSV, and refusals in each media type -----------------------------------------
@pytest.mark.parametrize("name", REPORT_VIEWS)
def test_every_report_keeps_its_contract_as_csv(name, role):
    records()
    user = UserFactory(role=role)
    headers = {"Authorization": f"Token {token_for(user)}"}
    operation = schema[f"/api/v1/reports/{name}/"]["GET"]
    query = {"format": "csv", "lot_number": "LOT-1"} if name == "recall" else {"format": "csv"}
    for asked, status in (
        (query, 200),
        (query | {"date_from": "2025-02-30"}, 400),
        (query | {"date_from": "2025-05-01", "date_to": "2025-01-01"}, 400),
    ):
        REQUESTS["csv"] += 1
        response = operation.Case(query=asked).call_and_validate(
            headers=headers,
            checks=[not_a_server_error, status_code_conformance, content_type_conformance],
        )
        assert response.status_code == (status if can_run_report(user, name) else 403)
        if response.status_code == 200:
            assert response.headers["content-type"][0].startswith("text/csv")
            assert response.text.splitlines()[0].split(",")[0]  # the columns' names
        else:  # refused (the role, or a bad filter): problem details, not CSV
            assert response.headers["content-type"][0] == "application/problem+json"


OPERATIONS = {op.label: op for op in (result.ok() for result in schema.get_all_operations())}


@pytest.mark.parametrize("label", OPERATIONS)
def test_every_operation_answers_anonymous_callers_as_the_schema_says(label):
    operation = OPERATIONS[label]
    ids = {"id": "00000000-0000-0000-0000-000000000001" if "fhir" in label else "1"}
    ids["resource_type"] = "Patient"
    case = operation.Case(
        path_parameters={name: ids[name] for name in re.findall(r"{(\w+)}", operation.path)}
    )
    REQUESTS["anonymous"] += 1
    response = case.call_and_validate(
        checks=[not_a_server_error, status_code_conformance, content_type_conformance]
    )
    if not operation.path.endswith("/auth/token/"):
        assert response.status_code == 401
        fhir = operation.path.startswith(FHIR_OPERATIONS)
        assert response.headers["content-type"][0] == (
            "application/fhir+json" if fhir else "application/problem+json"
        )
