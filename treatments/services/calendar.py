"""Each clinician's secret calendar address for their bookings."""

from __future__ import annotations

import hashlib
import secrets
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied

from recordkeeping.permissions import clinicians
from treatments.models import CalendarFeed, FollowUp


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def calendar_feed_issue(*, clinician: AbstractBaseUser) -> str:
    """A new secret for the clinician's calendar feed; the previous one stops working. Only its
    digest is stored, so the secret is shown once, here. Only clinicians hold bookings, so only
    they keep a calendar."""
    if not clinicians().filter(pk=clinician.pk).exists():
        raise PermissionDenied("Only clinicians keep a calendar of their bookings.")
    secret = secrets.token_urlsafe(32)
    CalendarFeed.objects.update_or_create(
        clinician_id=clinician.pk, defaults={"secret_digest": secret_digest(secret)}
    )
    return secret


def event_uid(follow_up: FollowUp) -> str:
    """The follow-up's event UID in calendar feeds: the same under every host name the feed is
    read by (a calendar app takes a new UID for a new event), in the clinic's own domain."""
    domain = settings.CALENDAR_UID_DOMAIN or urlsplit(settings.FHIR_IDENTIFIER_BASE).hostname
    return f"follow-up-{follow_up.pk}@{domain}"
