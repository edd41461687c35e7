"""How reminders leave the clinic: email through Django's email backend, text messages through
the backend named by ``settings.SMS_BACKEND``.

An SMS backend is a class with ``send(*, to, body, key)``; it raises ``SendFailed`` with the
reason when the provider refuses the message. ``key`` is the reminder's idempotency key: a
provider that accepts one (most do, as a client reference) can drop a repeated message.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import ClassVar, Protocol

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class SendFailed(Exception):
    """The message was not accepted; the reason is kept with the delivery."""


class SmsBackend(Protocol):
    def send(self, *, to: str, body: str, key: str) -> None: ...


# The answer link a reminder carries: an address with a secret, and nothing about the patient.
LINK = re.compile(r"https?://\S+")


class LoggingSmsBackend:
    """Writes text messages to the log instead of sending them: the default until a provider is
    configured. The log line holds the key, the length and the message's answer link (so the
    patient's side can be tried locally), not the number or the text."""

    def send(self, *, to: str, body: str, key: str) -> None:
        link = LINK.search(body)
        logger.info(
            "SMS %s (%d characters) handed to the logging backend; answer link: %s",
            key,
            len(body),
            link.group(0) if link else "none",
        )


@dataclass(frozen=True)
class SentSms:
    to: str
    body: str
    key: str


class MemorySmsBackend:
    """Keeps text messages in ``MemorySmsBackend.outbox``, like Django's locmem email backend."""

    outbox: ClassVar[list[SentSms]] = []

    def send(self, *, to: str, body: str, key: str) -> None:
        self.outbox.append(SentSms(to=to, body=body, key=key))


def sms_backend() -> SmsBackend:
    return import_string(settings.SMS_BACKEND)()


def send_sms(*, to: str, body: str, key: str) -> None:
    sms_backend().send(to=to, body=body, key=key)


def send_email(*, to: str, subject: str, body: str, key: str) -> None:
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
    message = EmailMessage(
        subject=subject,
        body=body,
        to=[to],
        # The same reminder always carries the same Message-ID, so a mail system that sees it
        # twice can tell.
        headers={"Message-ID": f"<{key}@{domain}>"},
    )
    try:
        message.send(fail_silently=False)
    except (OSError, ValueError) as error:  # smtplib errors are OSErrors
        raise SendFailed(f"{type(error).__name__}: {error}") from error
