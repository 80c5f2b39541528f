"""Hostile and broken input at /sms and the chat API: a signed request always gets TwiML, a
forged one is refused with nothing stored, and nothing ever becomes a bare 500."""

from __future__ import annotations

import itertools
import json
import xml.etree.ElementTree as ET
from urllib.parse import quote_from_bytes, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.widget import tokens
from tests.helpers import HOTLINE, PASSWORD, logged_in, sign

URL = "http://localhost/sms"
SETTINGS = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
_numbers = itertools.count(1)

text = st.text(max_size=300)  # any code point but surrogates: control characters, emoji, RTL...
fields = st.dictionaries(
    st.sampled_from(["Body", "From", "To", "MessageSid", "NumMedia", "X"]) | st.text(max_size=8),
    text,
    max_size=6,
)
content_types = st.sampled_from(
    [
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=latin-1",
        "text/plain",
        "application/json",
        "multipart/form-data",
        "",
        "application/xml",
    ]
)


def fresh() -> str:
    """A sender never seen before, so flood limits and opt-outs of earlier examples don't apply."""
    return f"+1555{next(_numbers):07d}"


def twiml_texts(response) -> list[str]:
    assert response.status_code == 200, (response.status_code, response.data[:300])
    root = ET.fromstring(response.data)
    assert root.tag == "Response"
    return [m.text or "" for m in root.findall("Message")]


def keys(r) -> int:
    return r.dbsize()


def conversations(r) -> int:
    """Conversation keys only (the chat API's rate limiter keeps counters of its own)."""
    return len(r.keys("tl:conv:*")) + len(r.keys("tl:log:*"))


@SETTINGS
@given(form=fields)
def test_any_signed_form_gets_twiml(client, redis_client, form):
    form = {**form, "From": fresh()} if "From" in form or len(form) % 2 else form
    response = client.post("/sms", data=form, headers={"X-Twilio-Signature": sign(URL, form)})
    texts = twiml_texts(response)
    if form.get("From", "").startswith("+1555"):
        assert len(texts) == 1 and texts[0].strip(), form  # someone new always gets one answer


@SETTINGS
@given(
    form=fields, signature=st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=40)
)
def test_forged_signatures_are_refused_and_nothing_is_stored(client, redis_client, form, signature):
    form = {**form, "From": fresh(), "Body": form.get("Body", "HELP")}
    if signature == sign(URL, form):
        return
    before = keys(redis_client)
    response = client.post("/sms", data=form, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403
    assert keys(redis_client) == before


@SETTINGS
@given(body=text, change=st.sampled_from(["Body", "From", "extra", "url", "token"]))
def test_replayed_signatures_on_changed_requests_are_refused(client, redis_client, body, change):
    form = {"From": fresh(), "Body": "hi"}
    signature = sign(URL, form)
    if change == "url":
        signature = sign("http://localhost/sms?x=1", form)
    elif change == "token":
        signature = sign(URL, form, token="another-accounts-token")
    elif change == "extra":
        form["Extra"] = body
    else:
        form[change] = body + ("!" if form[change] == body else "")
    before = keys(redis_client)
    assert (
        client.post("/sms", data=form, headers={"X-Twilio-Signature": signature}).status_code == 403
    )
    assert keys(redis_client) == before


@SETTINGS
@given(raw=st.binary(max_size=400), content_type=content_types)
def test_raw_bytes_and_odd_content_types_never_500(client, redis_client, raw, content_type):
    """Invalid UTF-8, odd content types: signed over what the server decodes, TwiML comes back."""
    body = f"From={quote_from_bytes(fresh().encode())}&Body={quote_from_bytes(raw)}".encode()
    headers = {"Content-Type": content_type} if content_type else {}
    before = keys(redis_client)
    probe = client.post("/sms", data=body, headers={**headers, "X-Twilio-Signature": "x"})
    assert probe.status_code == 403 and keys(redis_client) == before  # unsigned: refused
    from flask import Request
    from werkzeug.test import EnvironBuilder

    environ = EnvironBuilder(path="/sms", method="POST", data=body, headers=headers).get_environ()
    params = Request(environ).form.to_dict(flat=True)
    response = client.post(
        "/sms", data=body, headers={**headers, "X-Twilio-Signature": sign(URL, params)}
    )
    texts = twiml_texts(response)
    if params.get("From", "").startswith("+1555"):  # the form was read: a person wrote
        assert len(texts) == 1 and texts[0].strip(), params


@pytest.mark.parametrize("size", [1_600, 100_000, 2_000_000])
def test_long_bodies_are_answered_and_stored_cut_to_1600(client, redis_client, size):
    """Twilio never sends more than 1,600 characters; a bigger body is still answered."""
    form = {"From": fresh(), "Body": "help " * (size // 5)}
    response = client.post("/sms", data=form, headers={"X-Twilio-Signature": sign(URL, form)})
    (reply,) = twiml_texts(response)
    assert HOTLINE in reply
    log = redis_client.lrange(f"tl:log:{{sms:{form['From']}}}", 0, 0)
    assert json.loads(log[0])["text"] == form["Body"][:1_600]


def test_missing_fields_still_get_a_reply(client):
    for form in ({}, {"Body": "HELP"}, {"From": fresh()}, {"From": "", "Body": ""}):
        response = client.post("/sms", data=form, headers={"X-Twilio-Signature": sign(URL, form)})
        assert twiml_texts(response), form


# --- the web chat API (issue 6's blueprint) ---------------------------------------------------


def chat_token(app) -> str:
    """A valid chat token (minted directly: /chat/api/start is rate limited per address)."""
    return tokens.new_token(app.config["SECRET_KEY"])


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)


@SETTINGS
@given(
    payload=st.dictionaries(st.sampled_from(["token", "text", "since", "x"]), json_values),
    raw=st.binary(max_size=200),
    content_type=content_types,
    use_raw=st.booleans(),
)
def test_chat_api_never_500s(app, client, redis_client, payload, raw, content_type, use_raw):
    token = chat_token(app)
    if use_raw:
        data = raw
    else:
        if payload.get("token") == "valid":
            payload["token"] = token
        data = json.dumps(payload)
    before = conversations(redis_client)
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post("/chat/api/messages", data=data, headers=headers)
    assert response.status_code < 500, response.data[:300]
    if response.status_code == 200:
        assert response.get_json()["reply"] is not None or payload.get("token") == token
    elif payload.get("token") != token:
        assert conversations(redis_client) == before  # refused: nothing stored


@SETTINGS
@given(message=text)
def test_chat_api_any_text_with_a_valid_token_gets_a_reply(app, client, message):
    token = chat_token(app)
    response = client.post("/chat/api/messages", json={"token": token, "text": message})
    if not message.strip() or len(message) > 1_600:
        assert response.status_code == 400 and response.get_json()["error"]
    else:
        assert response.status_code == 200 and response.get_json()["reply"]


def test_chat_api_huge_and_forged(app, client, redis_client):
    token = chat_token(app)
    forged = client.post("/chat/api/messages", json={"token": token[:-2] + "xx", "text": "HELP"})
    assert forged.status_code == 404 and conversations(redis_client) == 0
    huge = json.dumps({"token": token, "text": "x" * 3_000_000})
    response = client.post("/chat/api/messages", data=huge, content_type="application/json")
    assert response.status_code == 413 and response.get_json()["error"] == "too_large"
    assert conversations(redis_client) == 0


def test_urlencode_helper_matches_werkzeug():
    """Guard for the raw-bytes test: werkzeug decodes what urlencode encodes, both ways."""
    assert urlencode({"Body": "é\x00"}) == "Body=%C3%A9%00"


# --- `since`, the transcript index the chat API reads from (issue 12) -----------------------

BAD_SINCE = [
    "-1",
    "abc",
    "1.5",
    "2.0",
    "1e3",
    "0x10",
    "",
    " ",
    "99999999999999999999999",
    "1000000001",
    "-99999999999999999999",
    "١٢",
    "1_000",
    "9" * 5000,
]


@pytest.mark.parametrize("since", BAD_SINCE)
def test_a_poll_with_a_since_that_does_not_fit_is_400_with_a_reason(app, client, since):
    token = chat_token(app)
    response = client.get("/chat/api/messages", query_string={"token": token, "since": since})
    assert response.status_code == 400, (since, response.status_code)
    body = response.get_json()
    assert body["error"] == "bad_since" and "'since'" in body["message"]


@pytest.mark.parametrize("since", [1.5, 2.0, True, "1.5", 10**30, -1, [1], {"n": 1}, "-3"])
def test_a_message_with_a_bad_since_is_refused_not_stored_then_misreported(
    app, client, redis_client, since
):
    """Before: a huge `since` stored the message, failed reading it back, and answered
    `stored: false`; a float or true was silently taken as a whole number."""
    token = chat_token(app)
    response = client.post(
        "/chat/api/messages", json={"token": token, "text": "they took my passport", "since": since}
    )
    assert response.status_code == 400, (since, response.get_json())
    assert response.get_json()["error"] == "bad_since"
    assert conversations(redis_client) == 0  # refused before anything was stored


def test_a_since_that_fits_reads_from_there(app, client):
    token = chat_token(app)
    first = client.post("/chat/api/messages", json={"token": token, "text": "hello", "since": 0})
    assert first.status_code == 200 and first.get_json()["next"] == 2
    for since, lines in ((" 1 ", 1), ("2", 0), (2, 0), (None, 2), (1_000_000_000, 2)):
        query = {"token": token} | ({"since": since} if since is not None else {})
        body = client.get("/chat/api/messages", query_string=query).get_json()
        assert len(body["entries"]) == lines, (since, body)  # past the end: all again, reset


@SETTINGS
@given(since=st.text(max_size=30) | st.integers().map(str) | st.floats().map(str))
def test_a_poll_never_500s_whatever_since(app, client, redis_client, since):
    token = chat_token(app)
    response = client.get("/chat/api/messages", query_string={"token": token, "since": since})
    assert response.status_code in (200, 400), (since, response.status_code)
    if response.status_code == 200:
        assert 0 <= int(since) <= 10**9


# --- the console queue's `?page=` (an offset into the queue) ----------------------------------

BAD_PAGES = ["abc", "-5", "0", "1.5", "1e3", "", "99999999999999999999", "1000001", "٢"]


def test_a_console_page_that_does_not_fit_is_400_with_a_reason(app):
    """Before: a huge page number was a 500 (Redis refused the offset); "abc" or "-5" quietly
    showed page 1."""
    from bot import accounts

    accounts.create(app.redis, "alice", PASSWORD)
    alice = logged_in(app, "alice")
    for page in BAD_PAGES:
        api = alice.get("/console/api/queue", query_string={"page": page})
        assert api.status_code == 400, (page, api.status_code)
        assert api.get_json()["error"] == "bad_page" and "'page'" in api.get_json()["message"]
        html = alice.get("/console/", query_string={"page": page})
        assert html.status_code == 400 and "must be a whole number" in html.get_data(as_text=True)
    for page in ("1", "2", " 3 ", "1000000"):  # past the last page: an empty page, not an error
        assert alice.get("/console/api/queue", query_string={"page": page}).status_code == 200
