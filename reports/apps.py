from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        post_migrate.connect(keep_time_zone, sender=self, dispatch_uid="clinic.keep_time_zone")


def keep_time_zone(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """The database dates sessions in the clinic's time zone (clinic_time_zone(), used by the
    view clinic_course_changes): after each migrate it is made TIME_ZONE, and when it changed,
    the stored course changes are worked out again."""
    from django.conf import settings
    from django.db import connections

    with connections[using].cursor() as cursor:
        cursor.execute("SELECT to_regprocedure('clinic_time_zone()') IS NOT NULL")
        if not cursor.fetchone()[0]:
            return
        cursor.execute("SELECT clinic_time_zone()")
        if cursor.fetchone()[0] == settings.TIME_ZONE:
            return
        literal = "'" + settings.TIME_ZONE.replace("'", "''") + "'"
        cursor.execute(
            "CREATE OR REPLACE FUNCTION clinic_time_zone() RETURNS text AS "
            f"$$ SELECT {literal}::text $$ LANGUAGE sql IMMUTABLE"
        )
        cursor.execute("SELECT clinic_course_changes_refresh(NULL)")
