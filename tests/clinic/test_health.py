from __future__ import annotations

import os

import pytest
import redis
from django.test import override_settings

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_login(client):
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_database_and_broker(client):
    response = client.get("/readyz/")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": "ok", "broker": "ok"}


@override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0")
def test_readyz_is_503_when_the_broker_is_unreachable(client):
    response = client.get("/readyz/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == 503
    assert body["detail"].startswith("Not ready: broker:")
    assert "Traceback" not in response.content.decode()


def redis_url() -> str:
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.ConnectionError:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no Redis at {url}")
    return url


def test_readyz_with_a_redis_broker(client, settings):
    settings.CELERY_BROKER_URL = redis_url()
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    response = client.get("/readyz/")
    assert response.status_code == 200
    assert response.json()["broker"] == "ok"
