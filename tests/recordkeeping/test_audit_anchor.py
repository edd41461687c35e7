"""The chain's head is published (anchored) outside the database, so removing its newest
entries together with the rows they cover is found."""

from __future__ import annotations

import json
import logging
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from recordkeeping import tasks
from recordkeeping.audit import AUDITED_TABLES
from recordkeeping.models import AuditChainEntry
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def anchors(settings, tmp_path):
    settings.AUDIT_ANCHOR_PATH = tmp_path / "anchors" / "audit-anchors.log"
    return settings.AUDIT_ANCHOR_PATH


def head() -> AuditChainEntry:
    return AuditChainEntry.objects.order_by("-position").first()


def remove_newest(count: int) -> None:
    """Remove the newest chain entries and every row they cover, as an owner of the database
    could (triggers off)."""
    newest = list(AuditChainEntry.objects.order_by("-position")[:count])
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            for entry in newest:
                key = AUDITED_TABLES[entry.table_name]
                cursor.execute(
                    f"DELETE FROM {entry.table_name} WHERE {key} = ANY(%s)",  # noqa: S608
                    [entry.row_keys],
                )
                cursor.execute("DELETE FROM clinic_auditchainentry WHERE id = %s", [entry.pk])
        finally:
            cursor.execute("SET session_replication_role = origin")


def verify(*options: str) -> str:
    out = StringIO()
    call_command("verify_audit", *options, stdout=out)
    return out.getvalue()


def test_the_anchor_task_appends_the_chain_head_and_logs_the_same_line(anchors, caplog):
    PatientFactory()
    caplog.set_level(logging.INFO, logger="clinic.audit.anchor")

    tasks.audit_anchor()
    first = head()
    PatientFactory()
    tasks.audit_anchor()

    lines = anchors.read_text().splitlines()
    published = [json.loads(line) for line in lines]
    assert [(a["position"], a["hash"]) for a in published] == [
        (first.position, first.hash),
        (head().position, head().hash),
    ]
    assert published[0]["position"] < published[1]["position"]
    assert all(a["at"] for a in published)
    logged = [r.getMessage() for r in caplog.records if r.name == "clinic.audit.anchor"]
    assert logged == lines


def test_verify_audit_with_anchors_passes_on_an_intact_chain(anchors, api):
    PatientFactory()
    tasks.audit_anchor()
    api.get("/api/v1/patients/")
    tasks.audit_anchor()

    out = verify("--anchor", str(anchors))

    assert "Audit chain intact" in out and str(anchors) in out


def test_a_removed_tail_passes_the_chain_walk_but_not_its_anchor(anchors, api):
    PatientFactory()
    api.get("/api/v1/patients/")
    anchored = head().position
    tasks.audit_anchor()
    remove_newest(2)

    assert "Audit chain intact" in verify()  # what is left is a valid chain
    with pytest.raises(CommandError) as broken:
        verify("--anchor", str(anchors))

    message = str(broken.value)
    assert f"the chain ends at entry {anchored - 2}" in message
    assert "short of the anchor of " in message and f"{anchors} line 1" in message


def test_a_removed_and_rewritten_tail_is_found_by_its_anchor(anchors, api):
    PatientFactory()
    api.get("/api/v1/patients/")
    anchored = head().position
    tasks.audit_anchor()
    remove_newest(1)
    PatientFactory.create_batch(2)  # the chain grows past the anchor again, differently

    assert head().position > anchored
    assert "Audit chain intact" in verify()
    with pytest.raises(CommandError) as broken:
        verify("--anchor", str(anchors))

    assert f"chain entry {anchored} has another hash than the anchor of" in str(broken.value)


def test_verify_audit_names_an_anchor_file_it_cannot_use(tmp_path):
    PatientFactory()
    with pytest.raises(CommandError, match="Cannot read the anchor file .*missing.log"):
        verify("--anchor", str(tmp_path / "missing.log"))
    garbled = tmp_path / "garbled.log"
    garbled.write_text('{"position": 1, "hash": "x"\n')
    with pytest.raises(CommandError, match="garbled.log line 1 is not an anchor"):
        verify("--anchor", str(garbled))


def test_an_anchor_of_an_empty_chain_holds(anchors):
    anchors.parent.mkdir(parents=True)
    anchors.write_text(json.dumps({"position": 0, "hash": "0" * 64, "at": "then"}) + "\n")
    assert "Audit chain intact" in verify("--anchor", str(anchors))


def test_beat_publishes_the_head_every_audit_anchor_seconds(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE["audit-anchor"]
    assert schedule["task"] == tasks.audit_anchor.name
    assert schedule["schedule"] == settings.AUDIT_ANCHOR_SECONDS
