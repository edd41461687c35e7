from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class RecordkeepingConfig(AppConfig):
    name = "recordkeeping"
    verbose_name = "Record keeping"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_login_failed
        from django.db.backends.signals import connection_created

        from recordkeeping.db import use_compiled_timestamp_loader

        connection_created.connect(
            use_compiled_timestamp_loader, dispatch_uid="clinic.use_compiled_timestamp_loader"
        )
        user_login_failed.connect(log_failed_login, dispatch_uid="clinic.log_failed_login")


def log_failed_login(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    """Failed logins (admin and token endpoint) go to the access log."""
    from recordkeeping import audit

    if request is not None:
        audit.access_record(
            request=request,
            action="login.failed",
            status=401,
            username=str(credentials.get("username", "")),
        )
