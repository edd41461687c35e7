"""Redis (the Celery broker) out of reach: sessions are logged and follow-ups booked as ever
(neither touches the broker), a reminder that falls due meanwhile is sent once the broker is
back (the reminder rows are the truth, not queued messages), and the one request that needs
the broker, a bulk export, answers 503. The outage is a TCP proxy between Redis and both the
worker and this process, cut and resumed."""

from __future__ import annotations

import time
from urllib.parse import urlsplit, urlunsplit

import pytest

from clinic.celery import app as celery_app
from interop.models import FhirExport
from tests.conftest import token_client
from tests.factories import PatientFactory
from tests.proxy import Proxy
from tests.treatments.test_api_sessions import session_payload
from tests.workers import Worker, due_reminder, messages_for, redis_url, wait_for
from treatments.models import InjectionSession

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def broker(monkeypatch):
    """The proxy and its address; this process's Celery publishes through it too."""
    url = urlsplit(redis_url())
    proxy = Proxy(url.hostname or "127.0.0.1", url.port or 6379)
    proxied = urlunsplit(url._replace(netloc=f"127.0.0.1:{proxy.port}"))
    monkeypatch.setattr(celery_app.conf, "broker_url", proxied)
    monkeypatch.setattr(celery_app, "_pool", None)  # connections made before: not this broker
    monkeypatch.setattr(celery_app.amqp, "_producer_pool", None)
    yield proxy, proxied
    proxy.close()


def test_work_goes_on_and_a_reminder_due_meanwhile_is_sent_once_it_returns(
    tmp_path, broker, clinician
):
    proxy, url = broker
    proxy.cut()
    worker = Worker(tmp_path, url)
    worker.start()
    try:
        response = token_client(clinician).post(
            "/api/v1/sessions/", session_payload(PatientFactory(), clinician), format="json"
        )
        assert response.status_code == 201, response.content
        assert InjectionSession.objects.filter(pk=response.json()["id"]).exists()
        reminder = due_reminder()  # booked while the broker is down, its reminder due now
        time.sleep(5)  # five dispatch periods pass without a broker
        assert messages_for(reminder, worker.mail_dir) == 0
        reminder.refresh_from_db()
        assert reminder.status == "pending"

        proxy.resume()
        wait_for(lambda: messages_for(reminder, worker.mail_dir) > 0, worker, seconds=120)
        time.sleep(3)  # more dispatch passes
        assert messages_for(reminder, worker.mail_dir) == 1
        reminder.refresh_from_db()
        assert (reminder.status, reminder.attempts) == ("sent", 1)
        assert list(reminder.deliveries.values_list("outcome", flat=True)) == ["sent"]
    finally:
        worker.kill()


def test_a_bulk_export_without_a_broker_is_refused_with_503_and_recorded(broker, clinic_admin):
    proxy, _ = broker
    proxy.cut()
    response = token_client(clinic_admin).post("/api/v1/fhir-exports/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "task queue" in response.json()["detail"]
    assert "Traceback" not in response.content.decode()
    export = FhirExport.objects.get()
    assert (export.status, export.error) == ("failed", response.json()["detail"])
