"""A conversation an operator holds: the bot stays silent; a critical message alerts the operator
at once, and the bot sends the emergency reply only if no operator answers in time."""

from __future__ import annotations

import time

import pytest

from bot import accounts, store
from tests.helpers import (
    HOTLINE,
    PASSWORD,
    logged_in,
    messages,
    page,
    post,
    row_for,
    start_web_chat,
)

NUMBER = "+15550001111"  # send_sms's default sender
CID = f"sms:{NUMBER}"


def held_by_alice(app, send_sms):
    accounts.create(app.redis, "alice", PASSWORD)
    send_sms("hola, necesito ayuda con mi visa")
    alice = logged_in(app, "alice")
    ref = row_for(alice, NUMBER[-4:])["ref"]
    post(alice, f"/console/c/{ref}/claim")
    return alice, ref


def test_the_bot_is_silent_while_an_operator_holds_the_conversation(app, send_sms):
    held_by_alice(app, send_sms)
    assert messages(send_sms("sí, estoy en el baño")) == []
    assert messages(send_sms("gracias")) == []
    assert [e.sender for e in store.transcript(app.redis, CID)].count("bot") == 1


def test_a_critical_message_alerts_the_operator_at_once(app, send_sms):
    alice, ref = held_by_alice(app, send_sms)
    assert messages(send_sms("he is back, he has a knife, help me")) == []
    conv = store.conversation(app.redis, CID)
    assert conv["priority"] == "critical" and conv["alert_intent"] == "emergency"
    assert store.queue(app.redis)[0]["cid"] == CID
    assert "answer now" in page(alice, f"/console/c/{ref}")
    assert "answer now" in page(alice, "/console/")


def test_the_bot_sends_the_emergency_reply_if_no_operator_answers(
    fake_twilio, app, send_sms, monkeypatch
):
    monkeypatch.setattr(store, "HELD_ALERT_SECONDS", 0)  # instead of waiting a minute
    held_by_alice(app, send_sms)
    assert messages(send_sms("he is back, he has a knife, help me")) == []
    app.extensions["upkeep"].run_once()  # each worker's background thread, once a second
    (sent,) = fake_twilio.messages
    assert sent["To"] == NUMBER
    assert sent["Body"].startswith("If you are in danger now, call 911") and HOTLINE in sent["Body"]
    last = store.transcript(app.redis, CID)[-1]
    assert (last.sender, last.text, last.meta["held_alert"]) == ("bot", sent["Body"], True)
    assert "alert" not in store.conversation(app.redis, CID)
    app.extensions["upkeep"].run_once()
    assert len(fake_twilio.messages) == 1  # sent once


def test_an_operator_reply_in_time_keeps_the_bot_out(fake_twilio, app, send_sms, monkeypatch):
    monkeypatch.setattr(store, "HELD_ALERT_SECONDS", 0)  # due at once: answered first anyway
    alice, ref = held_by_alice(app, send_sms)
    send_sms("he is back, he has a knife, help me")
    assert "answer now" in page(alice, f"/console/c/{ref}")
    post(
        alice, f"/console/c/{ref}/reply", text="Alice here. Can you leave the house?", key="a" * 32
    )
    assert "answer now" not in page(alice, f"/console/c/{ref}")
    app.extensions["upkeep"].run_once()
    # an alert left behind (a second worker raised it) still sees the operator's answer
    store.raise_alert(app.redis, CID, "emergency", time.time() - 5)
    app.extensions["upkeep"].run_once()
    assert [m["Body"] for m in fake_twilio.messages] == ["Alice here. Can you leave the house?"]
    assert "alert" not in store.conversation(app.redis, CID)


@pytest.mark.parametrize("text", ["quiero morir, ya no puedo más"])
def test_web_chat_gets_the_crisis_reply_when_no_operator_answers(app, client, monkeypatch, text):
    monkeypatch.setattr(store, "HELD_ALERT_SECONDS", 0)
    token = start_web_chat(client, "hola")
    assert store.claim(app.redis, f"web:{token}", "alice")
    sent = client.post("/chat/api/messages", json={"token": token, "text": text}).get_json()
    assert sent["reply"] is None
    app.extensions["upkeep"].run_once()
    lines = client.get(f"/chat/api/messages?token={token}&since=0").get_json()["entries"]
    assert lines[-1]["from"] == "bot" and "988" in lines[-1]["text"]
