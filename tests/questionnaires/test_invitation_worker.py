"""A real Celery worker with beat against the real Redis sends a course's baseline invitation
once, and once only when the worker is killed in the middle of sending it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from questionnaires.models import Invitation, InvitationMessage
from tests.questionnaires.conftest import course_for, invitation_of
from tests.workers import Worker, redis_url, wait_for

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def worker(tmp_path):
    started = Worker(tmp_path, redis_url())
    yield started
    started.kill()


def invitations_mailed(invitation: Invitation, mail_dir: Path) -> int:
    if not mail_dir.exists():
        return 0
    needle = f"Message-ID: <invitation-{invitation.pk}-1@"
    return sum(path.read_text().count(needle) for path in mail_dir.iterdir())


def test_worker_and_beat_send_a_courses_baseline_invitation_once(worker):
    baseline = invitation_of(course_for(first_session_days=5), "baseline")
    worker.start()
    wait_for(lambda: invitations_mailed(baseline, worker.mail_dir) > 0, worker)
    time.sleep(3)  # several more dispatch passes
    assert invitations_mailed(baseline, worker.mail_dir) == 1
    baseline.refresh_from_db()
    assert (baseline.status, baseline.messages_sent) == ("sent", 1)
    assert InvitationMessage.objects.filter(invitation=baseline, outcome="sent").count() == 1
    assert baseline.links.count() == 1


def test_a_worker_killed_mid_send_leaves_the_invitation_to_be_sent_once(worker):
    baseline = invitation_of(course_for(first_session_days=5), "baseline")
    worker.start(send_seconds=30)
    wait_for(worker.marker.exists, worker)
    worker.kill()  # in the middle of the send: the claim rolls back with the connection
    baseline.refresh_from_db()
    assert (baseline.status, baseline.messages_sent) == ("planned", 0)
    assert not baseline.messages.exists() and not baseline.links.exists()
    worker.start()
    wait_for(lambda: invitations_mailed(baseline, worker.mail_dir) > 0, worker)
    time.sleep(3)
    assert invitations_mailed(baseline, worker.mail_dir) == 1
    baseline.refresh_from_db()
    assert (baseline.status, baseline.messages_sent) == ("sent", 1)
