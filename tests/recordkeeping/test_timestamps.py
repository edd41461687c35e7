"""Timestamps read from PostgreSQL: psycopg's compiled loader, the same datetimes as Django's."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import register_tzloader
from psycopg import pq

from recordkeeping.db import TIMESTAMPTZ, UtcTimestampLoader

pytestmark = pytest.mark.django_db

MOMENTS_SQL = """
    SELECT t FROM unnest(ARRAY[
        '2025-03-04 05:06:07.123456+02', '2024-02-29 23:59:59.999999-09:30',
        '2001-01-01 00:00:00+00', '1900-06-30 12:00:00+14', NULL
    ]::timestamptz[]) WITH ORDINALITY AS m(t, n) ORDER BY n
"""


def test_connections_read_timestamps_with_the_compiled_loader():
    connection.ensure_connection()
    loader = connection.connection.adapters.get_loader(TIMESTAMPTZ, pq.Format.TEXT)
    assert loader is UtcTimestampLoader


def test_it_reads_the_same_utc_datetimes_as_djangos_loader():
    with connection.cursor() as cursor:
        cursor.execute(MOMENTS_SQL)
        ours = [row[0] for row in cursor.fetchall()]
    with connection.cursor() as cursor:
        register_tzloader(datetime.UTC, cursor.cursor)  # Django's own, on this cursor only
        cursor.execute(MOMENTS_SQL)
        djangos = [row[0] for row in cursor.fetchall()]

    assert ours == djangos
    assert ours[0] == datetime.datetime(2025, 3, 4, 3, 6, 7, 123456, tzinfo=datetime.UTC)
    assert ours[1].isoformat() == "2024-03-01T09:29:59.999999+00:00"
    assert all(moment.tzinfo is datetime.UTC for moment in ours[:4])
    assert ours[4] is None
