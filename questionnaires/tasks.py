"""Periodic work (beat schedule in settings): a thin wrapper around the service."""

from __future__ import annotations

from celery import shared_task

from questionnaires import services


@shared_task
def dispatch_invitations() -> dict[str, int]:
    return services.invitations_dispatch().outcomes
