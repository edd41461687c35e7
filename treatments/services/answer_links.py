"""The links reminders carry, to the page where a patient confirms or cancels the booking.

A link's secret is derived from the reminder (HMAC with the site's secret key), signed, and
stored only as a digest. Derived rather than drawn at random: a message sent again after a
crash between the provider accepting it and the commit carries the same link, whose row the
second attempt stores, so the patient's link works whichever message they open.
"""

from __future__ import annotations

import base64
import datetime
import hashlib

from django.conf import settings
from django.core.signing import BadSignature, Signer
from django.urls import reverse
from django.utils.crypto import salted_hmac

from treatments.models import BOOKED, AnswerLink, Reminder
from treatments.models.answers import FINAL_ANSWERS

SALT = "treatments.reminder-answer"


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def answer_link_issue(*, reminder: Reminder) -> str:
    """The signed secret of the reminder's answer link, its digest stored (once) with the
    booking and the time the reminder announces; the link works until that appointment ends."""
    follow_up = reminder.follow_up
    mac = salted_hmac(SALT, f"{reminder.pk}:{reminder.appointment_at.isoformat()}").digest()
    raw = base64.urlsafe_b64encode(mac[:16]).rstrip(b"=").decode()
    length = follow_up.ends_at - follow_up.starts_at
    AnswerLink.objects.get_or_create(
        token_digest=_digest(raw),
        defaults={
            "follow_up": follow_up,
            "appointment_at": reminder.appointment_at,
            "expires_at": reminder.appointment_at + length,
        },
    )
    return Signer(salt=SALT).sign(raw)


def answer_link_url(token: str) -> str:
    """Where the patient opens the answer page (``CLINIC_URL`` and the page's path)."""
    return settings.CLINIC_URL + reverse("reminder-answer", kwargs={"token": token})


def answer_link_find(*, token: str, now: datetime.datetime) -> AnswerLink | None:
    """The link a token opens, or None: a token that was never issued or whose signature is
    wrong, an expired link, one answered already, or one whose booking moved or is no longer
    booked all give None alike (the page says the same for each)."""
    try:
        raw = Signer(salt=SALT).unsign(token)
    except BadSignature:
        return None
    link = (
        AnswerLink.objects.select_related("follow_up__patient")
        .filter(token_digest=_digest(raw))
        .first()
    )
    if link is None or now >= link.expires_at:
        return None
    follow_up = link.follow_up
    if follow_up.status not in BOOKED or follow_up.starts_at != link.appointment_at:
        return None
    if link.answers.filter(answer__in=FINAL_ANSWERS).exists():
        return None
    return link
