"""A backup of a seeded database restores into a new one with every table's rows intact."""

from __future__ import annotations

import json

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from psycopg import sql

from recordkeeping.backups import _params

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
RESTORED = "test_clinic_restored"


def fingerprint(dbname: str) -> dict[str, tuple[int, str]]:
    """Every table's row count and a hash of its rows' contents."""
    with psycopg.connect(**_params(dbname)) as db:
        tables = [
            row[0]
            for row in db.execute(
                "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public'"
            ).fetchall()
        ]
        return {
            table: db.execute(
                f"SELECT count(*), coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t::text)), '')"  # noqa: S608
                f" FROM {table} t"
            ).fetchone()
            for table in tables
        }


@pytest.fixture
def restored_database():
    def drop():
        with psycopg.connect(**_params("postgres"), autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(RESTORED))
            )

    drop()
    yield RESTORED
    drop()


def test_backup_restores_every_row(tmp_path, restored_database):
    call_command("seed_demo", patients=20, seed=2, verbosity=0)
    call_command("backup", out=tmp_path)
    (dump,) = tmp_path.glob("*.dump")
    manifest = json.loads(dump.with_suffix(".json").read_text())
    assert manifest["tables"]["public.patients_patient"] == 20
    call_command("restore", str(dump), database=restored_database)
    source = fingerprint(connection.settings_dict["NAME"])
    assert fingerprint(restored_database) == source
    assert source["treatments_injectionsession"][0] > 0


def test_a_changed_dump_or_a_full_database_is_refused(tmp_path, restored_database):
    call_command("backup", out=tmp_path)
    (dump,) = tmp_path.glob("*.dump")
    call_command("restore", str(dump), database=restored_database)
    with pytest.raises(CommandError, match="not empty"):
        call_command("restore", str(dump), database=restored_database)
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))
    with pytest.raises(CommandError, match="checksum"):
        call_command("restore", str(dump), database=restored_database)
