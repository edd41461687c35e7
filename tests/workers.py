"""A real Celery worker with beat, in its own process group, for the tests that need one."""

from __future__ import annotations

import datetime
import os
import signal
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from tests.clock import python_module_command
from tests.factories import ClinicianFactory, PatientFactory, clinic_slot
from treatments import services
from treatments.models import Reminder


def redis_url() -> str:
    """REDIS_URL when Redis answers there; the test is skipped without it (failed in CI)."""
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.exceptions.RedisError as error:
        if os.environ.get("CI"):
            pytest.fail(f"Redis is required in CI ({url}): {error}")
        pytest.skip(f"no Redis reachable at {url} (set REDIS_URL): {error}")
    return url


def database_url() -> str:
    """The test database, for the worker's own connections."""
    db = connection.settings_dict
    credentials = quote(db["USER"]) + (f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else "")
    host = quote(db["HOST"] or "localhost", safe="")
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{credentials}@{host}{port}/{db['NAME']}"


class Worker:
    """``celery worker --beat`` in its own process group, dispatching every second."""

    def __init__(self, tmp_path: Path, broker: str) -> None:
        self.tmp_path, self.broker = tmp_path, broker
        self.mail_dir = tmp_path / "mail"
        self.marker = tmp_path / "sending"
        self.process: subprocess.Popen[bytes] | None = None
        self.runs = 0

    def start(self, *, send_seconds: float = 0) -> None:
        self.runs += 1
        env = os.environ | {
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": self.broker,
            "SECRET_KEY": "worker-test",
            "VAR_DIR": str(self.tmp_path / "var"),
            "EMAIL_BACKEND": "tests.backends.SlowFileEmailBackend",
            "EMAIL_FILE_PATH": str(self.mail_dir),
            "SEND_SECONDS": str(send_seconds),
            "SENDING_MARKER": str(self.marker),
            "REMINDER_DISPATCH_SECONDS": "1",
            "REMINDER_HOURS_BEFORE": "24",
        }
        log = open(self.tmp_path / f"worker-{self.runs}.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(  # noqa: S603 - fixed argument list
            [
                *python_module_command("celery"),
                "--app=clinic",
                "worker",
                "--beat",
                "--concurrency=1",
                "--loglevel=INFO",
                f"--schedule={self.tmp_path / f'beat-{self.runs}'}",
                f"--hostname=reminders-{self.runs}@%h",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            self.process.wait(timeout=30)

    def log(self) -> str:
        return (self.tmp_path / f"worker-{self.runs}.log").read_text(errors="replace")[-3000:]


def wait_for(condition, worker: Worker, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"gave up after {seconds} s; worker log:\n{worker.log()}")


def due_reminder() -> Reminder:
    """A booked follow-up for a consenting patient, its 24-hour reminder due now."""
    patient = PatientFactory(
        reminder_channel="email", reminder_consent=True, reminder_consent_on=timezone.localdate()
    )
    starts = clinic_slot(days_ahead=3, hour=10)
    follow_up = services.follow_up_book(
        fields={
            "patient": patient,
            "clinician": ClinicianFactory(),
            "kind": "review",
            "starts_at": starts,
            "ends_at": starts + datetime.timedelta(minutes=30),
        }
    )
    reminder = follow_up.reminders.get(hours_before=24)
    past = timezone.now() - datetime.timedelta(seconds=5)
    follow_up.reminders.exclude(pk=reminder.pk).update(status="cancelled")
    Reminder.objects.filter(pk=reminder.pk).update(due_at=past, next_attempt_at=past)
    return reminder


def messages_for(reminder: Reminder, mail_dir: Path) -> int:
    if not mail_dir.exists():
        return 0
    needle = f"Message-ID: <reminder-{reminder.pk}@"
    return sum(path.read_text().count(needle) for path in mail_dir.iterdir())
