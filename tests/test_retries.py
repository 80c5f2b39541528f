"""Twilio retries a webhook with the same MessageSid (connection overrides, the fallback URL):
the message is stored and answered once, and every copy gets the same reply."""

from __future__ import annotations

import threading

from bot import create_app, store
from tests.helpers import HOTLINE, inbound, messages, reply, sign


def test_a_retry_is_stored_once_and_gets_the_same_reply(send_sms, redis_client) -> None:
    sid = "SM" + "7" * 32
    first = reply(send_sms("he is going to hurt me", sender="+15550004001", MessageSid=sid))
    again = reply(send_sms("he is going to hurt me", sender="+15550004001", MessageSid=sid))
    assert first == again and "911" in first
    assert inbound(redis_client, "+15550004001") == ["he is going to hurt me"]
    third = reply(send_sms("he is going to hurt me", sender="+15550004001"))  # a new message
    assert third == first
    assert len(inbound(redis_client, "+15550004001")) == 2


def test_a_copy_while_the_first_is_handled_gets_the_hotline_and_waits(
    send_sms, redis_client
) -> None:
    """Twilio's fallback URL may get the message while the primary is still classifying it."""
    sid = "SM" + "6" * 32
    claim = redis_client.pipeline()
    store.claim_message(claim, sid)  # what the first copy's read did
    assert store.parse_claim(claim.execute()) == (True, None)
    text = reply(send_sms("they locked me in", sender="+15550004004", MessageSid=sid))
    assert text.startswith("If you are in danger now, call 911.") and HOTLINE in text
    assert inbound(redis_client, "+15550004004") == []  # the first copy stores it, not this one


def test_a_retry_of_a_silent_answer_stays_silent(send_sms, redis_client) -> None:
    sid = "SM" + "8" * 32
    reply(send_sms("STOP", sender="+15550004002"))
    assert messages(send_sms("hello?", sender="+15550004002", MessageSid=sid)) == []
    assert messages(send_sms("hello?", sender="+15550004002", MessageSid=sid)) == []
    assert inbound(redis_client, "+15550004002") == ["STOP", "hello?"]


def test_the_fallback_instance_and_the_primary_store_it_once(app_config, redis_client) -> None:
    """Two app instances on one Redis get the same MessageSid at the same moment."""
    apps = [create_app(app_config), create_app(app_config)]
    params = {
        "From": "+15550004003",
        "To": "+15559990000",
        "Body": "they locked me in",
        "MessageSid": "SM" + "9" * 32,
    }
    headers = {"X-Twilio-Signature": sign("http://localhost/sms", params)}
    replies: list[str] = []

    def call(app) -> None:
        replies.append(reply(app.test_client().post("/sms", data=params, headers=headers)))

    threads = [threading.Thread(target=call, args=(a,)) for a in apps]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(replies) == 2 and all(HOTLINE in r and "911" in r for r in replies)
    assert inbound(redis_client, "+15550004003") == ["they locked me in"]
