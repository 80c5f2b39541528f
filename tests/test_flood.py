"""A flood from one number is throttled and recorded, never silencing a person or danger."""

from __future__ import annotations

import time

from bot import create_app, flood, store
from tests.helpers import HOTLINE, away_from_window_edge, messages, post_sms

SENDER = "+15557770001"
CID = f"sms:{SENDER}"

# A frightened person writing fast: 25 different messages in well under a minute.
PERSON = [
    "hi",
    "is this the trafficking hotline",
    "i need to ask something",
    "are you a real person",
    "my cousin is working at a farm",
    "they took her passport",
    "she cant leave",
    "they say she owes them money",
    "she works every day",
    "she is scared",
    "what should i do",
    "how do i report someone",
    "will they know it was me",
    "can i stay anonymous",
    "she does not speak english",
    "she speaks spanish",
    "is there someone who speaks spanish",
    "where is the farm do you need that",
    "it is near fresno",
    "the boss has her phone",
    "i can only text at night",
    "please answer",
    "what happens after i report",
    "can police help her",
    "thank you",
]


def post(client, body: str, sender: str = SENDER) -> list[str]:
    return messages(post_sms(client, body, sender))


def test_a_person_writing_distinct_messages_is_always_answered(send_sms, redis_client):
    away_from_window_edge()
    started = time.monotonic()
    answered = [messages(send_sms(text, sender=SENDER)) for text in PERSON]
    assert time.monotonic() - started < 60
    assert PERSON[11] == "how do i report someone"
    assert all(answered), [text for text, got in zip(PERSON, answered, strict=True) if not got]
    assert HOTLINE in answered[11][0]
    inbound = [e.text for e in store.transcript(redis_client, CID) if e.direction == "in"]
    assert inbound == PERSON
    assert "flooded" not in store.conversation(redis_client, CID)


def test_identical_messages_are_throttled_but_stored(send_sms, redis_client):
    away_from_window_edge()
    # case, spacing and punctuation do not make a text new
    texts = ["hello", "Hello!", " HELLO ", "hello?"] * 6 + ["hello"]
    answered = [bool(messages(send_sms(text, sender=SENDER))) for text in texts]
    # the first LIMIT always; then one per GAP (the gate was open for the next one)
    assert answered == [True] * (flood.LIMIT + 1) + [False] * (len(texts) - flood.LIMIT - 1)
    log = store.transcript(redis_client, CID)
    inbound = [e for e in log if e.direction == "in"]
    assert [e.text for e in inbound] == texts
    assert inbound[-1].meta["flood"] == len(texts) and "flood" not in inbound[0].meta
    assert store.conversation(redis_client, CID)["flooded"]
    assert CID in {row["cid"] for row in store.queue(redis_client)}


def test_danger_is_answered_in_the_middle_of_a_flood(send_sms):
    away_from_window_edge()
    for _ in range(flood.LIMIT + 3):
        send_sms("spam", sender=SENDER)
    assert messages(send_sms("spam", sender=SENDER)) == []
    [text] = messages(send_sms("he is going to hurt me", sender=SENDER))
    assert "911" in text and HOTLINE in text
    [text] = messages(send_sms("he is going to hurt me", sender=SENDER))  # even repeated
    assert "911" in text


def test_machine_like_distinct_messages_are_throttled_past_the_ceiling(client, monkeypatch):
    away_from_window_edge()
    monkeypatch.setattr(flood, "CEILING", 15)
    answered = [bool(post(client, f"offer {n}")) for n in range(20)]
    assert answered == [True] * 15 + [False] * 5
    [text] = post(client, "they locked me in")  # danger still answered
    assert "911" in text


def test_one_reply_per_gap_while_flooding(client, monkeypatch):
    away_from_window_edge()
    monkeypatch.setattr(flood, "GAP", 1)
    for _ in range(flood.LIMIT + 1):
        post(client, "x")
    assert post(client, "x") == []
    time.sleep(1.1)
    assert post(client, "x") != []
    assert post(client, "x") == []


def test_other_numbers_are_not_affected(client):
    away_from_window_edge()
    for _ in range(flood.LIMIT + 5):
        post(client, "bot")
    assert post(client, "bot", sender="+15557770002") != []


def test_the_limit_holds_across_workers(app_config, redis_client):
    away_from_window_edge()
    workers = [create_app(app_config).test_client() for _ in range(2)]
    answered = [bool(post(workers[n % 2], "hi there")) for n in range(flood.LIMIT + 4)]
    assert answered.count(True) == flood.LIMIT + 1


def test_a_new_window_answers_again(app, redis_client):
    line = app.extensions["line"]
    start = (time.time() // flood.WINDOW) * flood.WINDOW
    for n in range(flood.LIMIT + 3):
        line.receive("sms", SENDER, "m", now=start + n)
    assert line.receive("sms", SENDER, "m", now=start + 30).reply is None
    assert line.receive("sms", SENDER, "m", now=start + flood.WINDOW + 1).reply
