"""The number of queries a list or timeline costs does not grow with its size."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext

from patients.models import Patient

pytestmark = pytest.mark.django_db

LISTS = [
    "/api/v1/patients/",
    "/api/v1/conditions/",
    "/api/v1/courses/",
    "/api/v1/sessions/",
    "/api/v1/side-effects/",
    "/api/v1/follow-ups/",
    "/api/v1/outcomes/",
]


@pytest.fixture
def clinic_history(db):
    call_command("seed_demo", patients=90, seed=11, verbosity=0)


def queries(api, url, params=None) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as captured:
        response = api.get(url, params or {})
    assert response.status_code == 200, response.content[:500]
    body = response.json()
    size = len(body["results"]) if "results" in body else len(body["events"])
    return len(captured), size


@pytest.mark.parametrize("url", LISTS)
def test_list_queries_do_not_grow_with_page_size(api, clinic_history, url):
    counts = {}
    for page_size in (1, 10, 100):
        counts[page_size], size = queries(api, url, {"page_size": page_size})
        assert size == min(page_size, size) and size > 0
    assert counts[1] == counts[10] == counts[100], counts


def test_timeline_queries_do_not_grow_with_history(api, clinic_history):
    patients = Patient.objects.annotate(n=Count("sessions")).order_by("n")
    short, long = patients.first(), patients.last()
    assert long.n >= 4 * max(short.n, 1)
    short_count, short_events = queries(api, f"/api/v1/patients/{short.pk}/timeline/")
    long_count, long_events = queries(api, f"/api/v1/patients/{long.pk}/timeline/")
    assert long_events > short_events
    assert short_count == long_count <= 11
