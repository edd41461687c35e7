"""The OpenAPI contract: generated without warnings, and every operation keeps to it for every
role: each operation alone with valid and invalid data (schemathesis, positive and negative
generation), and chains of operations that follow the schema's links (stateful: a created
record is read, changed and acted on by its id). No server error, no response outside the
schema."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from clinic.roles import CLINIC_ADMIN, CLINICIAN, FRONT_DESK
from clinic.wsgi import application
from tests.factories import SessionFactory, SideEffectFactory, SiteFactory, UserFactory

pytestmark = pytest.mark.django_db
STATEFUL_SCENARIOS = 50  # per role, up to 6 linked calls each
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


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


@pytest.fixture(params=[CLINICIAN, FRONT_DESK, CLINIC_ADMIN])
def token_headers(request):
    # Records with small ids, so generated ids sometimes find one.
    SideEffectFactory(session=SiteFactory().session)
    SessionFactory(status="planned", consent_obtained=False)
    user = UserFactory(role=request.param)
    return {"Authorization": f"Token {Token.objects.create(user=user).key}"}


# Generated cases, valid and invalid (the boundary-value "coverage" phase multiplies the run
# time by ten).
CONFIG = SchemathesisConfig.from_dict(
    {"generation": {"mode": "all"}, "phases": {"coverage": {"enabled": False}}}
)
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application, config=CONFIG)
# Scenarios send valid data, so that created records lead somewhere.
VALID = SchemathesisConfig.from_dict({"generation": {"mode": "positive"}})
scenarios = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application, config=VALID)


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_keeps_its_contract(case, token_headers):
    case.call_and_validate(headers=token_headers, checks=CHECKS)


def test_linked_operations_keep_their_contract(token_headers):
    class Scenarios(scenarios.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case):
            # A scenario starts from a patient: one born within the last 130 years (the
            # generator's first dates are year 1), so the records made next can refer to it.
            if case.path == "/api/v1/patients/" and isinstance(case.body, dict):
                born = str(case.body.get("birth_date", ""))
                if not "1900" <= born <= "2025":
                    case.body["birth_date"] = "1970-01-01"

        def get_call_kwargs(self, case):
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
