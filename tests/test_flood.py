"""A flood from one number is throttled and recorded, never silencing danger, across workers."""

from __future__ import annotations

import time

from bot import create_app, flood, store
from tests.conftest import HOTLINE, messages, sign

SENDER = "+15557770001"
CID = f"sms:{SENDER}"


def post(client, body: str, sender: str = SENDER) -> list[str]:
    params = {"From": sender, "To": "+15559990000", "Body": body}
    headers = {"X-Twilio-Signature": sign("http://localhost/sms", params)}
    return messages(client.post("/sms", data=params, headers=headers))


def test_first_messages_answered_then_throttled_but_stored(client, redis_client):
    answered = [bool(post(client, f"hello {n}")) for n in range(15)]
    # the first LIMIT always; the next one too (the gate was open), then silence
    assert answered == [True] * (flood.LIMIT + 1) + [False] * 4
    log = store.transcript(redis_client, CID)
    inbound = [e for e in log if e.direction == "in"]
    assert [e.text for e in inbound] == [f"hello {n}" for n in range(15)]
    assert inbound[-1].meta["flood"] == 15 and "flood" not in inbound[0].meta
    assert store.conversation(redis_client, CID)["flooded"]
    assert CID in {row["cid"] for row in store.queue(redis_client)}


def test_danger_is_answered_in_the_middle_of_a_flood(client):
    for n in range(flood.LIMIT + 3):
        post(client, f"spam {n}")
    assert post(client, "spam again") == []
    [text] = post(client, "he is going to hurt me")
    assert "911" in text and HOTLINE in text


def test_one_reply_per_gap_while_flooding(client, monkeypatch):
    monkeypatch.setattr(flood, "GAP", 1)
    for n in range(flood.LIMIT + 1):
        post(client, f"x {n}")
    assert post(client, "x again") == []
    time.sleep(1.1)
    assert post(client, "x later") != []
    assert post(client, "x later still") == []


def test_other_numbers_are_not_affected(client):
    for n in range(flood.LIMIT + 5):
        post(client, f"bot {n}")
    assert post(client, "hi", sender="+15557770002") != []


def test_the_limit_holds_across_workers(app_config, redis_client):
    workers = [create_app(app_config).test_client() for _ in range(2)]
    answered = [bool(post(workers[n % 2], f"hi {n}")) for n in range(flood.LIMIT + 4)]
    assert answered.count(True) == flood.LIMIT + 1


def test_a_new_window_answers_again(app, redis_client):
    line = app.extensions["line"]
    start = (time.time() // flood.WINDOW) * flood.WINDOW
    for n in range(flood.LIMIT + 3):
        line.receive("sms", SENDER, f"m {n}", now=start + n)
    assert line.receive("sms", SENDER, "m late", now=start + 30).reply is None
    assert line.receive("sms", SENDER, "m next", now=start + flood.WINDOW + 1).reply
