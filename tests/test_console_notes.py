"""Canned answers, internal notes, tags and the wrap-up on close (issue 13), over HTTP against a
real Valkey: admins alone manage canned answers, every change is audited, numbers are filled in;
notes never reach the person (web chat API, SMS); the holder must give an outcome to close."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from bot import accounts, audit, store
from bot.config import ROOT
from bot.console import annotate
from tests.helpers import (
    CRITICAL_TEXT,
    HOTLINE,
    PASSWORD,
    WRAPUP,
    logged_in,
    messages,
    page,
    post,
    queue,
    row_for,
    start_web_chat,
    texts,
)

SEED = ROOT / "responses" / "canned" / "seed.yaml"
NOTE = "Said the manager keeps her passport; prefers texts after 10pm"


def canned(client: Any, lang: str = "") -> list[dict[str, str]]:
    response = client.get(f"/console/api/canned?lang={lang}")
    assert response.status_code == 200
    return response.get_json()["answers"]


def events(app, action: str) -> list[dict[str, Any]]:
    return [e for e in audit.recent(app.redis) if e["action"] == action]


# --- canned answers ---------------------------------------------------------------------------


def test_the_seed_has_every_answer_in_english_spanish_and_french_with_the_same_numbers():
    seed = annotate.load_seed(SEED)
    titles = {a.title for a in seed}
    assert len(titles) >= 10 and len(seed) == 3 * len(titles)  # each title once per language
    for title in titles:
        texts_by_lang = {a.lang: a.text for a in seed if a.title == title}
        assert set(texts_by_lang) == {"en", "es", "fr"}, title
        for placeholder in annotate.PLACEHOLDERS:
            present = {("{" + placeholder + "}") in t for t in texts_by_lang.values()}
            assert len(present) == 1, (title, placeholder)
    english = {a.text for a in seed if a.lang == "en"}
    assert "Are you safe to text right now?" in english
    assert "If you are in danger now, call {emergency}." in english


def test_canned_answers_are_seeded_once_and_filled_with_the_configured_numbers(app, staff):
    alice = logged_in(app, "alice")
    answers = canned(alice)
    seed = annotate.load_seed(SEED)
    assert len(answers) == len(seed)
    assert {a["lang"] for a in answers} == {"en", "es", "fr"}
    assert not any("{" in a["text"] for a in answers)  # every placeholder filled
    by_title = {(a["title"], a["lang"]): a["text"] for a in answers}
    assert (
        by_title[("Safety: in danger, call the emergency number", "en")]
        == "If you are in danger now, call 911."
    )
    assert HOTLINE in by_title[("Hotline number", "es")]
    assert "233733" in by_title[("Hotline number", "fr")]
    assert "988" in by_title[("Crisis line (self-harm)", "en")]
    # stored in Redis with the placeholders, filled only when shown
    stored = annotate.all_canned(app.redis)
    assert sorted((a.title, a.lang, a.text) for a in stored) == sorted(
        (a.title, a.lang, a.text) for a in seed
    )
    assert len(canned(alice)) == len(seed)  # a second look does not seed again


def test_configured_emergency_number_is_filled_in(app_config, staff):
    from bot import create_app

    app_config["EMERGENCY_NUMBER"] = "112"
    other = create_app(app_config)
    accounts.create(other.redis, "carol", PASSWORD)
    answers = canned(logged_in(other, "carol"), "fr")
    danger = [a["text"] for a in answers if a["title"].startswith("Safety: in danger")]
    assert danger == [  # the conversation's language first, then English
        "Si vous êtes en danger maintenant, appelez le 112.",
        "If you are in danger now, call 112.",
        "Si estás en peligro ahora, llama al 112.",
    ]


def test_the_conversations_language_comes_first(app, staff):
    alice = logged_in(app, "alice")
    for lang in ("es", "fr", "en"):
        answers = canned(alice, lang)
        count = sum(a["lang"] == lang for a in answers)
        assert count >= 10
        assert {a["lang"] for a in answers[:count]} == {lang}
    spanish = canned(alice, "es")
    assert spanish[0]["lang"] == "es"
    count = sum(a["lang"] == "es" for a in spanish)
    assert spanish[count]["lang"] == "en"  # then English, then the others


def test_only_admins_manage_canned_answers(app, staff):
    alice, root = logged_in(app, "alice"), logged_in(app, "root")
    answer = canned(root)[0]
    assert alice.get("/console/canned").status_code == 403
    assert post(alice, "/console/canned", lang="en", title="Mine", text="x").status_code == 403
    assert alice.get(f"/console/canned/{answer['id']}").status_code == 403
    assert (
        post(
            alice, f"/console/canned/{answer['id']}", lang="en", title="Changed", text="changed"
        ).status_code
        == 403
    )
    assert post(alice, f"/console/canned/{answer['id']}/delete").status_code == 403
    assert canned(root) == canned(alice)
    assert not any(e["action"].startswith("canned") for e in audit.recent(app.redis))
    assert "Canned answers" not in page(alice, "/console/")  # not in an operator's menu
    assert "Canned answers" in page(root, "/console/")


def test_admin_adds_edits_and_deletes_and_each_change_is_audited(app, staff):
    root, alice = logged_in(app, "root"), logged_in(app, "alice")
    response = post(
        root,
        "/console/canned",
        lang="es",
        title="Documentos",
        text="Si alguien tiene tus documentos, llama al {hotline}.",
    )
    assert response.status_code == 303
    (added,) = [a for a in canned(alice, "es") if a["title"] == "Documentos"]
    assert added["text"] == f"Si alguien tiene tus documentos, llama al {HOTLINE}."
    html = page(root, "/console/canned")
    assert "Documentos" in html and "{hotline}" in html and "Sent as: Si alguien" in html

    response = post(
        root,
        f"/console/canned/{added['id']}",
        lang="es",
        title="Documentos",
        text="¿Alguien tiene tu pasaporte? Llama al {hotline}.",
    )
    assert response.status_code == 303
    (edited,) = [a for a in canned(alice, "es") if a["id"] == added["id"]]
    assert edited["text"] == f"¿Alguien tiene tu pasaporte? Llama al {HOTLINE}."
    assert annotate.get_canned(app.redis, added["id"]).by == "root"

    assert post(root, f"/console/canned/{added['id']}/delete").status_code == 303
    assert all(a["id"] != added["id"] for a in canned(alice))
    assert root.get(f"/console/canned/{added['id']}").status_code == 404

    for action, note in (
        ("canned_add", "es: Documentos"),
        ("canned_edit", "es: Documentos (text changed)"),
        ("canned_delete", "es: Documentos"),
    ):
        (event,) = events(app, action)
        assert (event["actor"], event["note"]) == ("root", note)
    audit_html = page(root, "/console/audit")
    for action in ("canned add", "canned edit", "canned delete"):
        assert f"<td>{action}</td>" in audit_html


@pytest.mark.parametrize(
    ("lang", "title", "text", "reason"),
    [
        ("en", "Bad", "Call {phone} now", "placeholder that cannot be filled"),
        ("en", "Bad", "Call { now", "placeholder that cannot be filled"),
        ("en", "", "text", "The title is empty"),
        ("en", "Empty", "   ", "The text is empty"),
        ("english", "Lang", "text", "Choose the language of the answer"),
        ("en", "x" * 81, "text", "at most 80 characters"),
        ("en", "Long", "x" * 1601, "at most 1600 characters"),
    ],
)
def test_a_bad_canned_answer_is_refused_with_the_reason(app, staff, lang, title, text, reason):
    root = logged_in(app, "root")
    before = canned(root)
    response = post(root, "/console/canned", lang=lang, title=title, text=text)
    assert response.status_code == 400
    assert reason in response.get_data(as_text=True)
    assert canned(root) == before
    assert events(app, "canned_add") == []


def test_deleting_every_answer_does_not_bring_the_seed_back(app, staff):
    root = logged_in(app, "root")
    for answer in canned(root):
        post(root, f"/console/canned/{answer['id']}/delete")
    assert canned(root) == []
    assert "No canned answers" in page(root, "/console/canned")


def test_the_reply_box_offers_canned_answers_in_the_conversations_language(app, staff):
    texts(app, "+15550004141", "ayuda, necesito ayuda")
    alice = logged_in(app, "alice")
    row = row_for(alice, "4141")
    assert row["language"] == "es"
    post(alice, f"/console/c/{row['ref']}/claim")
    html = page(alice, row["url"])
    assert 'role="listbox"' in html and "/console/api/canned?lang=es" in html
    assert "canned.js" in html


# --- notes ------------------------------------------------------------------------------------


def test_notes_show_to_operators_with_author_and_time_and_never_reach_the_web_chat(
    app, client, staff
):
    token = start_web_chat(client, "i need help")
    cid = f"web:{token}"
    alice, bob = logged_in(app, "alice"), logged_in(app, "bob")
    ref = row_for(alice, token[-4:])["ref"]
    post(alice, f"/console/c/{ref}/claim")
    assert post(bob, f"/console/c/{ref}/notes", note=NOTE).status_code == 303  # not the holder
    post(alice, f"/console/c/{ref}/reply", text="I am here.", key="a" * 32)
    html = page(alice, f"/console/c/{ref}")
    assert NOTE in html
    match = re.search(r'<span class="sender">bob</span> <time datetime="([^"]+)">', html)
    assert match and match.group(1).endswith("+00:00")

    # the web chat sees the transcript only: never the note
    polled = client.get(f"/chat/api/messages?token={token}&since=0").get_json()
    assert [e["text"] for e in polled["entries"]][-1] == "I am here."
    assert NOTE not in json.dumps(polled)
    sent = client.post("/chat/api/messages", json={"token": token, "text": "ok", "since": 0})
    assert NOTE not in sent.get_data(as_text=True)
    assert all(NOTE not in e.text for e in store.transcript(app.redis, cid))
    (event,) = events(app, "note")
    assert event["actor"] == "bob" and event["note"] == f"{len(NOTE)} characters"
    assert NOTE not in json.dumps(audit.recent(app.redis))  # the text is not in the audit log


def test_notes_never_go_out_by_sms(fake_twilio, app, staff, send_sms):
    number = "+15550004242"
    send_sms("i need help", sender=number)
    alice = logged_in(app, "alice")
    ref = row_for(alice, "4242")["ref"]
    post(alice, f"/console/c/{ref}/claim")
    post(alice, f"/console/c/{ref}/notes", note=NOTE)
    post(alice, f"/console/c/{ref}/reply", text="Are you safe to text right now?", key="b" * 32)
    post(alice, f"/console/c/{ref}/release")
    answer = messages(send_sms("yes", sender=number))
    assert [m["Body"] for m in fake_twilio.messages] == ["Are you safe to text right now?"]
    assert all(NOTE not in text for text in answer)
    assert all(NOTE not in e.text for e in store.transcript(app.redis, f"sms:{number}"))


def test_notes_live_in_their_own_key_expire_with_the_conversation_and_go_with_an_erase(app, staff):
    texts(app, "+15550004343", CRITICAL_TEXT)
    alice, root = logged_in(app, "alice"), logged_in(app, "root")
    ref = row_for(alice, "4343")["ref"]
    post(alice, f"/console/c/{ref}/notes", note=NOTE)
    cid = "sms:+15550004343"
    key = annotate.notes_key(cid)
    assert key == "tl:notes:{sms:+15550004343}"
    assert app.redis.pexpiretime(key) == app.redis.pexpiretime(store.conv_key(cid))
    assert [n["text"] for n in annotate.notes(app.redis, cid)] == [NOTE]
    post(root, f"/console/c/{ref}/erase", confirm="yes")
    assert not app.redis.exists(key)


@pytest.mark.parametrize(
    ("text", "reason"), [("   ", "The note is empty."), ("x" * 2001, "at most 2000 characters")]
)
def test_an_empty_or_huge_note_is_refused(app, staff, text, reason):
    texts(app, "+15550004444", "i need help")
    alice = logged_in(app, "alice")
    ref = row_for(alice, "4444")["ref"]
    response = post(alice, f"/console/c/{ref}/notes", note=text)
    assert response.status_code == 303
    assert reason in page(alice, f"/console/c/{ref}")
    assert annotate.notes(app.redis, "sms:+15550004444") == []


def test_notes_and_tags_need_a_login_and_a_conversation(app, client, staff):
    assert client.post("/console/c/abc/notes", data={"note": "x"}).status_code in (302, 400)
    alice = logged_in(app, "alice")
    assert post(alice, "/console/c/nosuchref/notes", note="x").status_code == 404
    assert post(alice, "/console/c/nosuchref/tags", tags="x").status_code == 404


def test_a_note_on_an_expired_conversation_recreates_nothing(app, staff):
    texts(app, "+15550004545", "i need help")
    cid = "sms:+15550004545"
    app.redis.delete(store.conv_key(cid))
    assert not annotate.add_note(app.redis, cid, "alice", NOTE, 3600)
    assert not annotate.set_tags(app.redis, cid, ["labour"])
    assert not app.redis.exists(annotate.notes_key(cid), store.conv_key(cid))


# --- tags -------------------------------------------------------------------------------------


def test_tags_are_tidied_and_shown_on_the_conversation_and_the_queue_row(app, staff):
    texts(app, "+15550004646", CRITICAL_TEXT)
    alice, bob = logged_in(app, "alice"), logged_in(app, "bob")
    ref = row_for(alice, "4646")["ref"]
    post(alice, f"/console/c/{ref}/tags", tags=" labour , passport   taken, Labour,, ")
    assert row_for(bob, "4646")["tags"] == ["labour", "passport taken"]
    assert '<li class="tag">passport taken</li>' in page(bob, f"/console/c/{ref}")
    assert '<span class="tag">labour</span>' in page(bob, "/console/")
    (event,) = events(app, "tags")
    assert event["note"] == "2 tag(s)" and "passport" not in json.dumps(event)
    post(alice, f"/console/c/{ref}/tags", tags="")
    assert row_for(bob, "4646")["tags"] == []
    texts(app, "+15550004646", "are you there")  # a new message keeps the tags
    post(alice, f"/console/c/{ref}/tags", tags="repeat contact")
    texts(app, "+15550004646", "hello?")
    assert row_for(bob, "4646")["tags"] == ["repeat contact"]


@pytest.mark.parametrize(
    ("tags", "reason"),
    [
        ("this tag has far too many words in it", "at most 5 words"),
        ("x" * 41, "40 characters"),
        (",".join(f"t{n}" for n in range(9)), "At most 8 tags"),
    ],
)
def test_tags_that_are_not_a_few_words_are_refused(app, staff, tags, reason):
    texts(app, "+15550004747", "i need help")
    alice = logged_in(app, "alice")
    ref = row_for(alice, "4747")["ref"]
    post(alice, f"/console/c/{ref}/tags", tags="kept")
    post(alice, f"/console/c/{ref}/tags", tags=tags)
    assert reason in page(alice, f"/console/c/{ref}")
    assert row_for(alice, "4747")["tags"] == ["kept"]


# --- wrap-up on close -------------------------------------------------------------------------


def held(app, number: str) -> tuple[Any, str, str]:
    texts(app, number, CRITICAL_TEXT)
    alice = logged_in(app, "alice")
    ref = row_for(alice, number[-4:])["ref"]
    post(alice, f"/console/c/{ref}/claim")
    return alice, ref, f"sms:{number}"


def test_the_holder_must_give_an_outcome_to_close(app, staff):
    alice, ref, cid = held(app, "+15550004848")
    html = page(alice, f"/console/c/{ref}")
    assert 'name="outcome" required' in html and "(required to close)" in html
    response = post(alice, f"/console/c/{ref}/close")
    assert response.status_code == 303
    assert "Choose the outcome of this conversation" in page(alice, f"/console/c/{ref}")
    assert store.conversation(app.redis, cid)["status"] == "open"
    assert events(app, "close") == []


def test_the_wrap_up_is_stored_audited_and_shown(app, staff):
    alice, ref, cid = held(app, "+15550004949")
    response = post(alice, f"/console/c/{ref}/close", **WRAPUP)
    assert response.status_code == 303 and response.headers["Location"] == "/console/"
    conv = store.conversation(app.redis, cid)
    assert conv["status"] == "closed"
    assert (conv["outcome"], conv["exploitation"], conv["minor"], conv["wrapup_by"]) == (
        "referred_hotline",
        "labour",
        "yes",
        "alice",
    )
    (event,) = events(app, "close")
    assert event["note"] == (
        "outcome: Referred to the hotline; exploitation: Labour; minor involved: Yes"
    )
    html = page(alice, f"/console/c/{ref}")  # a closed conversation stays readable
    assert 'id="wrapup"' in html and "Referred to the hotline" in html
    assert "Minor involved</dt><dd>Yes" in html
    assert "wrap-up" in html  # and the wrap-up is in the notes
    (wrapnote,) = annotate.notes(app.redis, cid)
    assert wrapnote["kind"] == "wrapup" and wrapnote["author"] == "alice"
    # the person writes again: it reopens with its last wrap-up still shown
    texts(app, "+15550004949", "he came back")
    assert "Referred to the hotline" in page(alice, f"/console/c/{ref}")


def test_exploitation_and_minor_default_to_unclear_and_unknown(app, staff):
    alice, ref, cid = held(app, "+15550005050")
    post(alice, f"/console/c/{ref}/close", outcome="no_contact")
    conv = store.conversation(app.redis, cid)
    assert (conv["outcome"], conv["exploitation"], conv["minor"]) == (
        "no_contact",
        "unclear",
        "unknown",
    )


@pytest.mark.parametrize(
    "form",
    [
        {"outcome": "won"},
        {"outcome": "other", "exploitation": "organs"},
        {"outcome": "other", "minor": "maybe"},
    ],
)
def test_a_wrap_up_outside_the_lists_is_refused(app, staff, form):
    alice, ref, cid = held(app, "+15550005151")
    post(alice, f"/console/c/{ref}/close", **form)
    assert store.conversation(app.redis, cid)["status"] == "open"
    assert "outcome" not in store.conversation(app.redis, cid)


def test_an_admin_or_anyone_closing_an_unheld_one_may_skip_the_wrap_up(app, staff):
    alice, ref, cid = held(app, "+15550005252")
    root = logged_in(app, "root")
    assert "(optional)" in page(root, f"/console/c/{ref}")
    post(root, f"/console/c/{ref}/close")
    assert store.conversation(app.redis, cid)["status"] == "closed"
    assert "outcome" not in store.conversation(app.redis, cid)
    texts(app, "+15550005353", "i need help")
    bob = logged_in(app, "bob")
    other = row_for(bob, "5353")["ref"]
    post(bob, f"/console/c/{other}/close", outcome="resources_sent")
    assert store.conversation(app.redis, "sms:+15550005353")["outcome"] == "resources_sent"
    assert queue(bob) == []
