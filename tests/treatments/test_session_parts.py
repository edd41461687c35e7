"""Sessions loaded with their parts (InjectionSessionQuerySet.with_parts): each session gets its
own injectates, sites and addenda, in order, in four queries however many sessions."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import AddendumFactory, InjectateFactory, SessionFactory, SiteFactory
from treatments.models import InjectionSession

pytestmark = pytest.mark.django_db


@pytest.fixture
def sessions():
    full = SessionFactory()
    second = InjectateFactory(session=full, line=2)
    first = InjectateFactory(session=full, line=1)
    SiteFactory(session=full, injectate=second, line=2)
    SiteFactory(session=full, injectate=first, line=1)
    InjectionSession.objects.filter(pk=full.pk).update(
        signed_by=full.clinician, signed_at=timezone.now()
    )
    AddendumFactory(session=full, text="First note")
    AddendumFactory(session=full, text="Second note")
    other = SiteFactory(line=1).session
    empty = SessionFactory()
    return full, other, empty


def test_each_session_gets_its_own_parts_in_order(sessions):
    full, other, empty = sessions
    with CaptureQueriesContext(connection) as captured:
        loaded = {s.pk: s for s in InjectionSession.objects.with_parts()}
    assert len(captured) == 4

    parts = loaded[full.pk]
    assert [i.line for i in parts.prefetched_injectates] == [1, 2]
    assert [(s.line, s.injectate_line) for s in parts.prefetched_sites] == [(1, 1), (2, 2)]
    assert [a.text for a in parts.prefetched_addenda] == ["First note", "Second note"]
    assert [s.session_id for s in loaded[other.pk].prefetched_sites] == [other.pk]
    assert len(loaded[other.pk].prefetched_injectates) == 1
    assert loaded[empty.pk].prefetched_injectates == []
    assert loaded[empty.pk].prefetched_sites == []
    assert loaded[empty.pk].prefetched_addenda == []


def test_one_session_and_derived_querysets(sessions):
    full, _, _ = sessions
    one = InjectionSession.objects.with_parts().filter(pk=full.pk).first()
    assert [i.line for i in one.prefetched_injectates] == [1, 2]
    assert one.prefetched_injectates[0].concentration_factor is None  # a real Injectate
    # Not a list of sessions: nothing is attached.
    assert InjectionSession.objects.with_parts().filter(pk=full.pk).count() == 1
    values = InjectionSession.objects.with_parts().filter(pk=full.pk).values("id")
    assert list(values) == [{"id": full.pk}]
    assert InjectionSession.objects.with_parts().none().first() is None
