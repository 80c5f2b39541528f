"""Operator replies by SMS, through the fake Twilio REST API: sent once, refused when unsafe."""

from __future__ import annotations

from bot import accounts, store
from tests.fake_twilio import FROM
from tests.helpers import (
    CRITICAL_TEXT,
    PASSWORD,
    delivered,
    logged_in,
    page,
    post,
    row_for,
    texts,
)

NUMBER = "+15550003030"


def claimed(app, number: str = NUMBER, *, ago: float = 0) -> tuple[object, str]:
    """alice logged in, holding a conversation with `number` whose last message was `ago` s ago."""
    accounts.create(app.redis, "alice", PASSWORD)
    texts(app, number, CRITICAL_TEXT, ago=ago)
    alice = logged_in(app, "alice")
    ref = row_for(alice, number[-4:])["ref"]
    post(alice, f"/console/c/{ref}/claim")
    return alice, ref


def test_reply_arrives_at_twilio_and_in_the_transcript(fake_twilio, app):
    alice, ref = claimed(app)
    response = post(
        alice, f"/console/c/{ref}/reply", text="This is Alice. Are you safe?", key="d" * 32
    )
    assert response.status_code == 303
    (sent,) = fake_twilio.messages
    assert (sent["To"], sent["From"], sent["Body"]) == (
        NUMBER,
        FROM,
        "This is Alice. Are you safe?",
    )
    last = store.transcript(app.redis, f"sms:{NUMBER}")[-1]
    assert (last.direction, last.sender, last.meta) == (
        "out",
        "operator:alice",
        {"sid": sent["Sid"]},
    )
    html = page(alice, f"/console/c/{ref}")
    assert "Reply sent." in html and "Operator alice" in html and "SMS queued" in html


def test_delivery_report_shows_on_the_conversation(fake_twilio, app, client):
    alice, ref = claimed(app)
    post(alice, f"/console/c/{ref}/reply", text="hello", key="e" * 32)
    # Signed by Twilio, so no CSRF token: the console's CSRF protection must let it through.
    assert delivered(client, fake_twilio.messages[0]["Sid"], NUMBER, FROM) == 204
    assert "SMS delivered" in page(alice, f"/console/c/{ref}")


def test_a_double_submit_sends_once(fake_twilio, app):
    alice, ref = claimed(app)
    for _ in range(2):
        post(alice, f"/console/c/{ref}/reply", text="only once", key="f" * 32)
    assert [m["Body"] for m in fake_twilio.messages] == ["only once"]
    sender = [e.sender for e in store.transcript(app.redis, f"sms:{NUMBER}")]
    assert sender.count("operator:alice") == 1


def test_opted_out_numbers_cannot_be_messaged(fake_twilio, app):
    alice, ref = claimed(app)
    texts(app, NUMBER, "STOP")
    response = post(alice, f"/console/c/{ref}/reply", text="please answer", key="1" * 32)
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert "opted out (STOP): it cannot be messaged" in html
    assert fake_twilio.messages == []


def test_a_stale_conversation_needs_a_confirmation(fake_twilio, app):
    alice, ref = claimed(app, ago=16 * 60)  # SAFE_REPLY_MINUTES is 15
    assert "I understand, send anyway" in page(alice, f"/console/c/{ref}")
    response = post(alice, f"/console/c/{ref}/reply", text="are you still there?", key="2" * 32)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "the phone may have changed hands" in html
    assert "are you still there?" in html  # the draft is kept
    assert fake_twilio.messages == []
    response = post(
        alice,
        f"/console/c/{ref}/reply",
        text="are you still there?",
        key="2" * 32,
        confirm_stale="yes",
    )
    assert response.status_code == 303
    assert [m["Body"] for m in fake_twilio.messages] == ["are you still there?"]


def test_a_fresh_conversation_needs_no_confirmation(fake_twilio, app):
    alice, ref = claimed(app, ago=14 * 60)
    assert "I understand, send anyway" not in page(alice, f"/console/c/{ref}")
    post(alice, f"/console/c/{ref}/reply", text="hello", key="3" * 32)
    assert len(fake_twilio.messages) == 1


def test_a_refused_sms_is_reported_and_not_recorded(fake_twilio, app):
    alice, ref = claimed(app, "+15550000000")  # the fake answers 21610 (unsubscribed)
    before = len(store.transcript(app.redis, "sms:+15550000000"))
    response = post(alice, f"/console/c/{ref}/reply", text="hello?", key="4" * 32)
    assert response.status_code == 502
    assert "could not be sent" in response.get_data(as_text=True)
    assert len(store.transcript(app.redis, "sms:+15550000000")) == before
    assert fake_twilio.messages == []
