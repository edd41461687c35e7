"""A session's treatment (what its injectates add up to) is kept by the database, whichever way
the injectates change."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.factories import InjectateFactory, SessionFactory
from treatments.models import Injectate, InjectionSession

pytestmark = pytest.mark.django_db


def treatment_of(session) -> str:
    return InjectionSession.objects.values_list("treatment", flat=True).get(pk=session.pk)


def test_treatment_follows_the_injectates():
    session = SessionFactory()
    assert treatment_of(session) == ""
    prp = InjectateFactory(session=session, prp=True, line=1)
    assert treatment_of(session) == "prp"
    dextrose = InjectateFactory(session=session, line=2)
    assert treatment_of(session) == "prp_dextrose"
    prp.delete()
    assert treatment_of(session) == "dextrose"
    Injectate.objects.filter(pk=dextrose.pk).update(kind="saline", dextrose_pct=None)
    assert treatment_of(session) == "other"
    with connection.cursor() as cursor:  # raw SQL too
        cursor.execute("DELETE FROM treatments_injectate WHERE session_id = %s", [session.pk])
    assert treatment_of(session) == ""


def test_a_stale_session_save_cannot_overwrite_it():
    session = SessionFactory()
    InjectateFactory(session=session, exosome=True, line=1)
    session.notes = "Saved from an object loaded before the injectate was added."
    session.save()
    assert session.treatment == "" and treatment_of(session) == "exosome"


def test_only_the_named_combinations_count():
    session = SessionFactory()
    prp = InjectateFactory(session=session, prp=True, line=1)
    saline = InjectateFactory(session=session, line=2)
    Injectate.objects.filter(pk=saline.pk).update(kind="saline", dextrose_pct=None)
    assert treatment_of(session) == "prp"  # other injectates do not change it
    InjectateFactory(session=session, line=3)
    InjectateFactory(session=session, exosome=True, line=4)
    assert treatment_of(session) == "other"  # PRP + dextrose + exosome is no named treatment
    prp.delete()
    assert treatment_of(session) == "other"  # nor dextrose + exosome
