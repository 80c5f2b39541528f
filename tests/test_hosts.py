"""TRUSTED_HOSTS (issue 12): a request for a host the line does not serve is refused (400), so a
Twilio signature made for another host is never checked against ours; /healthz answers any host."""

from __future__ import annotations

import uuid
from typing import Any

from bot import create_app
from tests.helpers import HOTLINE, reply, sign

PARAMS = {"From": "+15550006060", "To": "+15559990000", "Body": "HELP"}


def signed_post(app: Any, url: str, **headers: str) -> Any:
    """POST /sms to the host of `url`, signed for `url` as Twilio signs."""
    base = url.rsplit("/sms", 1)[0]
    params = {**PARAMS, "MessageSid": "SM" + uuid.uuid4().hex}
    headers["X-Twilio-Signature"] = sign(url, params)
    return app.test_client().post("/sms", data=params, headers=headers, base_url=base)


def test_a_signature_for_another_host_is_refused(app, redis_client):
    response = signed_post(app, "http://evil.example/sms")
    assert response.status_code == 400
    assert redis_client.dbsize() == 0  # nothing stored, nothing answered
    assert HOTLINE in reply(signed_post(app, "http://localhost/sms"))  # a laptop's host works
    assert HOTLINE in reply(signed_post(app, "http://127.0.0.1:5000/sms"))


def test_the_hosts_of_trusted_hosts_are_served_and_no_other(app_config, redis_client):
    app = create_app({**app_config, "TRUSTED_HOSTS": "line.example.org, .example.net"})
    assert HOTLINE in reply(signed_post(app, "https://line.example.org/sms"))
    assert HOTLINE in reply(signed_post(app, "https://chat.example.net/sms"))
    for url in ("http://localhost/sms", "http://evil.example/sms", "http://example.org/sms"):
        assert signed_post(app, url).status_code == 400, url


def test_public_url_names_the_trusted_host(app_config, redis_client):
    app = create_app({**app_config, "PUBLIC_URL": "https://line.example.org"})
    assert HOTLINE in reply(signed_post(app, "https://line.example.org/sms"))
    assert signed_post(app, "http://evil.example/sms").status_code == 400


def test_behind_a_proxy_the_forwarded_host_must_be_trusted(app_config, redis_client):
    app = create_app({**app_config, "TRUSTED_PROXIES": 1, "TRUSTED_HOSTS": "line.example.org"})
    good = signed_post(
        app,
        "https://line.example.org/sms",
        **{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "line.example.org"},
    )
    assert HOTLINE in reply(good)
    forged = signed_post(
        app,
        "https://evil.example/sms",
        **{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"},
    )
    assert forged.status_code == 400


def test_health_answers_a_load_balancer_probing_by_ip(app_config, redis_client):
    app = create_app({**app_config, "PUBLIC_URL": "https://line.example.org"})
    client = app.test_client()
    probe = client.get("/healthz", base_url="http://10.0.3.17:5000")
    assert probe.status_code == 200 and probe.get_json()["redis"] == "ok"
    assert client.get("/console/login", base_url="http://10.0.3.17:5000").status_code == 400
