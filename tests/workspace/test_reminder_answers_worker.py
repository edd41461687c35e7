"""A real Celery worker with beat against the real Redis sends a due reminder whose link, once
followed, confirms the booking; followed again, the link no longer works."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.test import Client

from tests.workers import Worker, due_reminder, messages_for, redis_url, wait_for

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def worker(tmp_path):
    started = Worker(tmp_path, redis_url())
    yield started
    started.kill()


def test_a_reminder_sent_by_the_worker_carries_a_link_that_confirms_once(worker, settings):
    # The site and its workers share one secret key, which signs the links.
    settings.SECRET_KEY = "worker-test"  # the worker's (tests/workers.py)
    reminder = due_reminder()
    worker.start()
    wait_for(lambda: messages_for(reminder, worker.mail_dir) > 0, worker)
    sent = "".join(path.read_text() for path in worker.mail_dir.iterdir())
    # A long line of the message may be folded (quoted-printable): join it again.
    sent = sent.replace("=\n", "")
    found = re.search(r"Confirm or cancel: (http://\S+/answer/\S+/)", sent)
    assert found, sent[-1500:]
    path = urlsplit(found.group(1)).path
    patient = Client()
    page = patient.get(path)
    assert page.status_code == 200
    assert f"Hello {reminder.follow_up.patient.given_name}" in page.content.decode()
    confirmed = patient.post(path, {"answer": "confirmed"})
    assert "your appointment is confirmed" in confirmed.content.decode()
    reminder.follow_up.refresh_from_db()
    assert reminder.follow_up.status == "confirmed"
    again = patient.post(path, {"answer": "cancelled"})
    assert again.status_code == 404 and "This link does not work" in again.content.decode()
    reminder.follow_up.refresh_from_db()
    assert reminder.follow_up.status == "confirmed"
