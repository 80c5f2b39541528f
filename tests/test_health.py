"""GET /healthz tells a load balancer whether Redis answers, and nothing more."""

from __future__ import annotations

from bot import create_app
from tests.servers import free_port


def test_healthz_ok_when_redis_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"redis": "ok", "classifier": "ok", "journal": 0}
    assert response.headers["Cache-Control"] == "no-store"


def test_healthz_down_without_leaking_details(app_config):
    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    app = create_app({**app_config, "REDIS_URL": url})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"redis": "down", "classifier": "ok", "journal": 0}
    assert b"127.0.0.1" not in response.data and b"Error" not in response.data
