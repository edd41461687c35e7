"""A real Celery worker with beat against the real Redis sends a due reminder exactly once, also
when a worker is killed in the middle of sending it."""

from __future__ import annotations

import time

import pytest

from tests.workers import Worker, due_reminder, messages_for, redis_url, wait_for
from treatments.models import ReminderDelivery

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def worker(tmp_path):
    started = Worker(tmp_path, redis_url())
    yield started
    started.kill()


def test_worker_and_beat_deliver_a_due_reminder_once(worker):
    reminder = due_reminder()
    worker.start()
    wait_for(lambda: messages_for(reminder, worker.mail_dir) > 0, worker)
    time.sleep(3)  # several more dispatch passes
    assert messages_for(reminder, worker.mail_dir) == 1
    reminder.refresh_from_db()
    assert reminder.status == "sent"
    assert ReminderDelivery.objects.filter(reminder=reminder, outcome="sent").count() == 1


def test_a_worker_killed_mid_send_leaves_the_reminder_to_be_sent_once(worker):
    reminder = due_reminder()
    worker.start(send_seconds=30)
    wait_for(worker.marker.exists, worker)
    worker.kill()  # SIGKILL to the worker, its pool process and beat, in the middle of the send

    assert messages_for(reminder, worker.mail_dir) == 0
    reminder.refresh_from_db()
    assert reminder.status == "pending"  # the claim was rolled back with the dead connection
    assert not reminder.deliveries.exists()

    worker.start()
    wait_for(lambda: messages_for(reminder, worker.mail_dir) > 0, worker)
    time.sleep(3)
    assert messages_for(reminder, worker.mail_dir) == 1
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts) == ("sent", 1)
    assert list(reminder.deliveries.values_list("outcome", flat=True)) == ["sent"]
