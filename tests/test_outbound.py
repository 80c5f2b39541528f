"""Operator SMS via the real twilio client to a local fake API: retries, sent once, status."""

from __future__ import annotations

import base64
import time

import pytest

from bot.outbound import OutboundError
from tests.fake_twilio import FROM, UNSUBSCRIBED
from tests.helpers import AUTH_TOKEN, status_callback

CID, TO = "sms:+15551230001", "+15551230001"


@pytest.fixture
def outbound(fake_twilio, app):
    out = app.extensions["outbound"]
    out.backoff = 0.01
    return out


def test_send_posts_through_twilio_with_auth_and_status_callback(fake_twilio, outbound):
    sid = outbound.send(CID, TO, "An operator here. Are you safe to talk?", key="k1")
    assert sid.startswith("SM")
    [sent] = fake_twilio.messages
    assert sent["To"] == TO and sent["From"] == FROM
    assert sent["Body"] == "An operator here. Are you safe to talk?"
    assert sent["StatusCallback"] == "http://localhost/sms/status"
    assert outbound.delivery(CID) == {sid: "queued"}


def test_the_same_key_is_never_sent_twice(fake_twilio, outbound):
    first = outbound.send(CID, TO, "hello", key="same")
    again = outbound.send(CID, TO, "hello", key="same")
    assert again == first
    assert len(fake_twilio.messages) == 1
    outbound.send(CID, TO, "hello", key="other")
    assert len(fake_twilio.messages) == 2


def test_5xx_is_retried_with_backoff_until_it_goes_through(fake_twilio, outbound):
    fake_twilio.fail_next(2, 503)
    sid = outbound.send(CID, TO, "retry me", key="r")
    assert fake_twilio.requests == 3
    assert [m["Sid"] for m in fake_twilio.messages] == [sid]


def test_a_timeout_is_retried(fake_twilio, outbound):
    fake_twilio.hang_next(1, 1.5)  # the app waits 0.5 s
    started = time.monotonic()
    sid = outbound.send(CID, TO, "slow", key="t")
    assert 0.5 <= time.monotonic() - started < 1.5
    assert [m["Sid"] for m in fake_twilio.messages] == [sid]


def test_gives_up_with_outbound_error_and_the_key_can_be_retried(fake_twilio, outbound):
    fake_twilio.fail_next(outbound.attempts, 500)
    with pytest.raises(OutboundError):
        outbound.send(CID, TO, "doomed", key="g")
    assert fake_twilio.messages == [] and fake_twilio.requests == outbound.attempts
    assert outbound.send(CID, TO, "doomed", key="g").startswith("SM")  # Twilio is back


def test_a_4xx_is_not_retried(fake_twilio, outbound):
    with pytest.raises(OutboundError, match="refused"):
        outbound.send(f"sms:{UNSUBSCRIBED}", UNSUBSCRIBED, "opted out", key="x")
    assert fake_twilio.requests == 1


def test_bad_credentials_are_an_outbound_error(fake_twilio, outbound):
    fake_twilio.auth_token = "something-else"
    with pytest.raises(OutboundError):
        outbound.send(CID, TO, "hi", key="auth")
    assert fake_twilio.messages == []


def test_fake_checks_basic_auth(fake_twilio):
    import requests

    url = f"{fake_twilio.base}/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages.json"
    assert requests.post(url, data={"To": TO}, timeout=5).status_code == 401
    token = base64.b64encode(f"{fake_twilio.account_sid}:{AUTH_TOKEN}".encode()).decode()
    ok = requests.post(url, data={"To": TO}, headers={"Authorization": f"Basic {token}"}, timeout=5)
    assert ok.status_code == 201


def test_status_callback_records_delivery_in_order(fake_twilio, outbound, client):
    sid = outbound.send(CID, TO, "hi", key="s")
    assert (
        status_callback(client, MessageSid=sid, MessageStatus="delivered", To=TO).status_code == 204
    )
    # a late "sent" arriving after "delivered" does not move the status back
    assert status_callback(client, MessageSid=sid, MessageStatus="sent", To=TO).status_code == 204
    assert outbound.delivery(CID) == {sid: "delivered"}


def test_status_callback_with_a_bad_signature_is_refused(fake_twilio, outbound, client):
    sid = outbound.send(CID, TO, "hi", key="f")
    form = {"MessageSid": sid, "MessageStatus": "failed", "To": TO}
    forged = client.post("/sms/status", data=form, headers={"X-Twilio-Signature": "AAAA"})
    unsigned = client.post("/sms/status", data=form)
    assert forged.status_code == 403 and unsigned.status_code == 403
    assert outbound.delivery(CID) == {sid: "queued"}
