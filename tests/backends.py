"""Message backends for tests: one that refuses, and slow ones to catch a send in the middle."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from django.core.mail.backends.filebased import EmailBackend as FileEmailBackend

from treatments.messaging import MemorySmsBackend, SendFailed


class FailingSmsBackend:
    def send(self, *, to: str, body: str, key: str) -> None:
        raise SendFailed("Provider said: number unreachable")


class SlowMemorySmsBackend(MemorySmsBackend):
    def send(self, *, to: str, body: str, key: str) -> None:
        time.sleep(0.02)
        super().send(to=to, body=body, key=key)


class SlowFileEmailBackend(FileEmailBackend):
    """Notes in ``SENDING_MARKER`` that a send began, waits ``SEND_SECONDS``, then writes the
    message to ``EMAIL_FILE_PATH`` like Django's file backend."""

    def send_messages(self, email_messages: Any) -> int:
        marker = os.environ.get("SENDING_MARKER")
        if marker:
            Path(marker).touch()
        time.sleep(float(os.environ.get("SEND_SECONDS", "0")))
        return super().send_messages(email_messages)
