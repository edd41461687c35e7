from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class ClinicConfig(AppConfig):
    name = "clinic"
    verbose_name = "Clinic"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_login_failed
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_migrate

        from clinic.db import use_compiled_timestamp_loader

        connection_created.connect(
            use_compiled_timestamp_loader, dispatch_uid="clinic.use_compiled_timestamp_loader"
        )
        user_login_failed.connect(log_failed_login, dispatch_uid="clinic.log_failed_login")
        post_migrate.connect(keep_time_zone, sender=self, dispatch_uid="clinic.keep_time_zone")


def log_failed_login(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    """Failed logins (admin and token endpoint) go to the access log."""
    from clinic import audit

    if request is not None:
        audit.access_record(
            request=request,
            action="login.failed",
            status=401,
            username=str(credentials.get("username", "")),
        )


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
