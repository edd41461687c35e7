"""Any request that makes an N+1 query fails the test that made it (django-zeal, set up for
the whole suite in clinic/settings.py)."""

from __future__ import annotations

import pytest
from zeal.errors import NPlusOneError

from tests.factories import InjectateFactory, SiteFactory
from treatments.api import SessionViewSet
from treatments.models import InjectionSession

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_sessions(db):
    for _ in range(2):
        injectate = InjectateFactory()
        SiteFactory(session=injectate.session, injectate=injectate)


def test_the_session_list_loads_nested_rows_at_once(api, two_sessions):
    response = api.get("/api/v1/sessions/")
    assert response.status_code == 200
    sessions = response.json()["results"]
    assert len(sessions) == 2
    assert all(len(s["injectates"]) == 1 and len(s["sites"]) == 1 for s in sessions)


def test_an_n_plus_one_injected_into_the_session_list_fails(api, two_sessions, monkeypatch):
    # The list as it would be if someone dropped with_parts() from the view.
    monkeypatch.setattr(SessionViewSet, "get_queryset", lambda self: InjectionSession.objects.all())
    with pytest.raises(NPlusOneError, match=r"N\+1 detected on treatments\.InjectionSession\."):
        api.get("/api/v1/sessions/")
