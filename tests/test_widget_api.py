"""The web chat API against a real Valkey: same pipeline as SMS, clear 4xx errors, CORS, end."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot import store
from tests.helpers import HOTLINE, reply

API = "/chat/api"


def start(client: Any) -> str:
    response = client.post(f"{API}/start")
    assert response.status_code == 201
    return response.get_json()["token"]


def say(client: Any, token: str, text: str, since: int = 0) -> Any:
    return client.post(f"{API}/messages", json={"token": token, "text": text, "since": since})


def test_start_gives_a_fresh_token_and_no_cookie(client, redis_client):
    first, second = start(client), start(client)
    assert first != second and len(first) > 30
    response = client.post(f"{API}/start")
    assert "Set-Cookie" not in response.headers
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert redis_client.keys("tl:conv:*") == []  # nothing is stored before a message


def test_help_gets_the_hotline_and_is_stored_like_sms(client, redis_client):
    token = start(client)
    response = say(client, token, "help")
    assert response.status_code == 200
    body = response.get_json()
    assert HOTLINE in body["reply"]
    assert body["entries"] == [
        {"from": "person", "text": "help"},
        {"from": "bot", "text": body["reply"]},
    ]
    assert body["next"] == 2
    cid = f"web:{token}"
    conv = store.conversation(redis_client, cid)
    assert conv["channel"] == "web" and conv["status"] == "open"
    assert [e.text for e in store.transcript(redis_client, cid)] == ["help", body["reply"]]
    assert [row["cid"] for row in store.queue(redis_client)] == [cid]


def test_spanish_message_gets_a_spanish_reply_with_accents_kept(client, send_sms):
    body = say(client, start(client), "ayuda").get_json()
    assert HOTLINE in body["reply"]
    assert "Línea" in body["reply"]  # the web never uses SMS smart encoding
    by_sms = reply(send_sms("ayuda"))
    assert by_sms != body["reply"] and "Linea" in by_sms


def test_browser_language_answers_a_first_bare_keyword(client):
    token = start(client)
    spanish = client.post(f"{API}/messages", json={"token": token, "text": "HELP", "lang": "es"})
    assert "ayudarte" in spanish.get_json()["reply"]
    english = say(client, start(client), "HELP").get_json()["reply"]
    assert "We can help" in english


def test_the_reply_says_its_language_so_the_widget_can_follow(client):
    token = start(client)
    assert say(client, token, "help").get_json()["language"] == "en"
    spanish = say(client, token, "ayuda", since=2).get_json()
    assert spanish["language"] == "es" and "Línea" in spanish["reply"]
    # the browser's language stands in for a first bare keyword, and is reported back
    hinted = client.post(
        f"{API}/messages", json={"token": start(client), "text": "HELP", "lang": "es"}
    ).get_json()
    assert hinted["language"] == "es"


@pytest.mark.parametrize("text", ["he is going to hurt me", "HELP", "hi"])
def test_same_priority_in_the_queue_as_sms(client, send_sms, redis_client, text):
    token = start(client)
    say(client, token, text)
    send_sms(text, sender="+15550002222")
    web = store.conversation(redis_client, f"web:{token}")
    sms = store.conversation(redis_client, "sms:+15550002222")
    assert (web["priority"], web["last_intent"]) == (sms["priority"], sms["last_intent"])
    ranks = {
        cid: int(score) // 10**13
        for cid, score in redis_client.zrange(store.QUEUE, 0, -1, withscores=True)
    }
    assert ranks[f"web:{token}".encode()] == ranks[b"sms:+15550002222"]
    if text.startswith("he is"):
        assert web["priority"] == "critical"


def test_operator_reply_reaches_the_poll(client, redis_client, app):
    token = start(client)
    cid = f"web:{token}"
    first = say(client, token, "can I talk to a real person").get_json()
    assert (
        client.get(f"{API}/messages?token={token}&since={first['next']}").get_json()["entries"]
        == []
    )
    store.append_entry(
        redis_client, cid, store.Entry("out", "operator:ana", "Hi, I am here."), 3600
    )
    polled = client.get(f"{API}/messages?token={token}&since={first['next']}")
    assert polled.headers["Cache-Control"] == "no-store"
    body = polled.get_json()
    assert body["entries"] == [{"from": "operator", "text": "Hi, I am here."}]  # no name shown
    assert body["next"] == first["next"] + 1
    everything = client.get(f"{API}/messages?token={token}&since=0").get_json()
    assert [e["from"] for e in everything["entries"]] == ["person", "bot", "operator"]


def test_a_held_conversation_gets_no_bot_reply(client, redis_client):
    token = start(client)
    say(client, token, "hi")
    assert store.claim(redis_client, f"web:{token}", "ana")
    body = say(client, token, "are you there?", since=2).get_json()
    assert body["reply"] is None
    assert body["entries"] == [{"from": "person", "text": "are you there?"}]


def test_erased_transcript_starts_the_widget_over(client, redis_client):
    token = start(client)
    say(client, token, "hi")
    store.erase(redis_client, f"web:{token}")
    say(client, token, "help", since=0)
    body = client.get(f"{API}/messages?token={token}&since=5").get_json()
    assert body["reset"] is True and body["next"] == 2
    assert body["entries"][0] == {"from": "person", "text": "help"}


def error_of(response: Any, status: int) -> str:
    assert response.status_code == status, response.data
    assert response.is_json
    return response.get_json()["error"]


def test_new_chats_per_address_are_limited(app_config, redis_client):
    from bot import create_app

    app_config["WIDGET_STARTS_PER_HOUR"] = 2
    client = create_app(app_config).test_client()
    start(client), start(client)
    refused = client.post(f"{API}/start")
    assert error_of(refused, 429) == "too_many_chats"
    assert b"127.0.0.1" not in b" ".join(redis_client.keys("*"))  # no address stored
    assert HOTLINE in refused.get_json()["message"]
    other = client.post(f"{API}/start", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 201


def limited_client(app_config: dict[str, Any], per_chat: int, per_address: int) -> Any:
    from bot import create_app

    app_config["WIDGET_MESSAGES_PER_MINUTE"] = per_chat
    app_config["WIDGET_MESSAGES_PER_ADDRESS_PER_MINUTE"] = per_address
    return create_app(app_config).test_client()


def test_messages_past_the_chat_limit_are_refused_and_not_stored(app_config, redis_client):
    client = limited_client(app_config, per_chat=3, per_address=100)
    token = start(client)
    cid = f"web:{token}"
    for n in range(3):
        assert say(client, token, f"message {n}").status_code == 200
    before = store.transcript(redis_client, cid)
    refused = say(client, token, "message 3")
    assert error_of(refused, 429) == "too_many"
    body = refused.get_json()
    assert 1 <= body["retry_after"] <= 60
    assert refused.headers["Retry-After"] == str(body["retry_after"])
    assert body["message"].startswith("Your message was not sent")
    assert HOTLINE in body["message"] and body["reply"] is None
    assert refused.headers["Access-Control-Allow-Origin"] == "*"  # the widget can read it
    assert store.transcript(redis_client, cid) == before
    # A message that reads as danger is not stored either, but gets the emergency number.
    danger = say(client, token, "he is going to hurt me")
    assert error_of(danger, 429) == "too_many"
    assert "911" in danger.get_json()["reply"] and HOTLINE in danger.get_json()["reply"]
    assert store.transcript(redis_client, cid) == before
    # Another chat from another address is unaffected.
    other_client = limited_client(app_config, per_chat=3, per_address=100)
    other = other_client.post(f"{API}/start", environ_base={"REMOTE_ADDR": "10.0.0.9"}).get_json()
    sent = other_client.post(
        f"{API}/messages",
        json={"token": other["token"], "text": "help"},
        environ_base={"REMOTE_ADDR": "10.0.0.9"},
    )
    assert sent.status_code == 200 and HOTLINE in sent.get_json()["reply"]


def test_messages_past_the_address_limit_are_refused_across_chats(app_config, redis_client):
    client = limited_client(app_config, per_chat=100, per_address=4)
    tokens = [start(client) for _ in range(5)]
    assert [say(client, t, "help").status_code for t in tokens] == [200, 200, 200, 200, 429]
    assert store.transcript(redis_client, f"web:{tokens[4]}") == []
    assert b"127.0.0.1" not in b" ".join(redis_client.keys("*"))  # no address stored
    elsewhere = client.post(
        f"{API}/messages",
        json={"token": tokens[4], "text": "help"},
        environ_base={"REMOTE_ADDR": "10.0.0.9"},
    )
    assert elsewhere.status_code == 200


def test_bad_input_gets_a_clear_4xx_and_stores_nothing(client, redis_client):
    token = start(client)
    post = client.post
    assert (
        error_of(post(f"{API}/messages", data="{not json", content_type="application/json"), 400)
        == "bad_json"
    )
    assert error_of(post(f"{API}/messages", json=["help"]), 400) == "bad_json"
    assert (
        error_of(post(f"{API}/messages", data=b"\xff\xfe", content_type="text/plain"), 400)
        == "bad_json"
    )
    assert error_of(post(f"{API}/messages", json={"token": token}), 400) == "empty_text"
    assert error_of(say(client, token, "   "), 400) == "empty_text"
    assert error_of(post(f"{API}/messages", json={"token": token, "text": 5}), 400) == "empty_text"
    assert error_of(say(client, token, "x" * 1601), 400) == "text_too_long"
    assert (
        error_of(post(f"{API}/messages", json={"token": token, "text": "help", "since": "x"}), 400)
        == "bad_since"
    )
    assert error_of(post(f"{API}/messages", json={"text": "help"}), 404) == "unknown_token"
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert error_of(say(client, forged, "help"), 404) == "unknown_token"
    assert error_of(say(client, "web:../../etc", "help"), 404) == "unknown_token"
    big = json.dumps({"token": token, "text": "help", "pad": "x" * 20000})
    assert (
        error_of(post(f"{API}/messages", data=big, content_type="application/json"), 413)
        == "too_large"
    )
    assert error_of(client.get(f"{API}/messages"), 404) == "unknown_token"
    assert error_of(client.get(f"{API}/messages?token={token}&since=-1"), 400) == "bad_since"
    assert error_of(post(f"{API}/end", data="", content_type="text/plain"), 400) == "bad_json"
    assert redis_client.keys("tl:conv:*") == [] and redis_client.keys("tl:log:*") == []
    # The longest allowed message goes through whole.
    assert say(client, token, "y" * 1600).status_code == 200
    assert store.transcript(redis_client, f"web:{token}")[0].text == "y" * 1600


def test_cors_preflight_and_headers_for_other_sites(client):
    preflight = client.options(
        f"{API}/messages",
        headers={
            "Origin": "https://shelter.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "content-type" in preflight.headers["Access-Control-Allow-Headers"].lower()
    token = start(client)
    sent = say(client, token, "help")
    assert sent.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in sent.headers
    assert "Set-Cookie" not in sent.headers


def test_end_closes_the_conversation_from_a_text_plain_beacon(client, redis_client):
    token = start(client)
    cid = f"web:{token}"
    say(client, token, "he is going to hurt me")
    assert store.queue(redis_client)[0]["cid"] == cid
    ended = client.post(
        f"{API}/end", data=json.dumps({"token": token}), content_type="text/plain;charset=UTF-8"
    )
    assert ended.status_code == 200 and ended.get_json() == {"ended": True}
    assert store.conversation(redis_client, cid)["status"] == "closed"
    assert store.queue(redis_client) == []
    assert len(store.transcript(redis_client, cid)) == 2  # kept for the operators


def test_end_before_any_message_leaves_nothing(client, redis_client):
    token = start(client)
    assert client.post(f"{API}/end", json={"token": token}).status_code == 200
    assert [k for k in redis_client.keys("*") if not k.startswith(b"tl:webstart:")] == []
    assert error_of(client.post(f"{API}/end", json={"token": "nope"}), 404) == "unknown_token"


def test_storage_down_still_answers_with_the_hotline(client, valkey):
    token = start(client)
    valkey.stop()
    sent = say(client, token, "he is going to hurt me")
    assert sent.status_code == 200
    body = sent.get_json()
    assert HOTLINE in body["reply"] and "911" in body["reply"]
    assert body["entries"][0] == {"from": "person", "text": "he is going to hurt me"}
    assert error_of(client.get(f"{API}/messages?token={token}&since=0"), 503) == "unavailable"
    # the next test's redis_client fixture restarts the server


def test_demo_page_embeds_the_widget_once_and_shows_the_numbers(app_config):
    from bot import create_app

    app_config["EMERGENCY_NUMBER"] = "112"
    page = create_app(app_config).test_client().get("/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    # the widget once, and the page's own script (same origin: the CSP allows no inline one)
    assert html.count("<script") == 2
    assert '<script src="/widget.js" data-lang="en" defer></script>' in html
    assert '<script src="/page.js" defer></script>' in html
    assert 'Call <a href="tel:112" dir="ltr">112</a>' in html
    assert HOTLINE in html and "233733" in html and "traffickingresourcecenter.org" in html
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize(
    ("configured", "served"),
    [
        ("http://127.0.0.1:9/neutral", "http://127.0.0.1:9/neutral"),
        ("javascript:alert(1)", "https://www.bbc.co.uk/weather"),
        ("", "https://www.bbc.co.uk/weather"),
    ],
)
def test_widget_js_carries_the_exit_url_and_numbers(app_config, configured, served):
    from bot import create_app

    app_config["QUICK_EXIT_URL"] = configured
    response = create_app(app_config).test_client().get("/widget.js")
    source = response.get_data(as_text=True)
    assert response.mimetype == "text/javascript"
    assert f'"exitUrl": "{served}"' in source
    assert '"emergency": "911"' in source and HOTLINE in source
    assert "/*CSS*/" not in source and ".exit {" in source
    assert "localStorage" not in source and "document.cookie" not in source


def test_a_first_keyword_follows_the_browser_language_for_every_reply_language(app, client):
    from bot.replies import reply_text

    line = app.extensions["line"]
    for lang in ("zh", "ar", "ht"):
        token = client.post("/chat/api/start").get_json()["token"]
        sent = client.post(
            "/chat/api/messages", json={"token": token, "text": "HELP", "lang": lang}
        ).get_json()
        assert sent["reply"] == reply_text(line.content.replies, "help", lang, line.numbers)
        assert sent["language"] == lang
