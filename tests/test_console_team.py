"""Working as a team in the console, against a real Valkey: transfers (rules, race, audit, the
system line), who is online and what each holds, the holder panel, why a row has its priority,
masked numbers that never look alike, tel: links, the quick exit, and the CLI reading `.env`."""

from __future__ import annotations

import html
import re
import runpy
import time
from typing import Any

import pytest
import redis

from bot import accounts, audit, envfile, store
from bot.config import ROOT
from bot.console import phones, privacy, roster
from tests.helpers import (
    CRITICAL_TEXT,
    PASSWORD,
    env_file,
    logged_in,
    page,
    post,
    queue,
    row_for,
    start_web_chat,
    texts,
)

NOT_ONLINE = "bob is not online now: it waits for them in the queue."


def ref_of(client: Any, suffix: str) -> str:
    return row_for(client, suffix)["ref"]


def conv(client: Any, ref: str) -> dict[str, Any]:
    response = client.get(f"/console/api/c/{ref}")
    assert response.status_code == 200
    return response.get_json()


def flashes(html_text: str) -> list[str]:
    """The flash messages on a page, as the operator sees them (hidden ones left out)."""
    found = re.findall(r'class="flash flash-\w+"(?![^>]*\bhidden\b)[^>]*>([^<]*)<', html_text)
    return [html.unescape(m) for m in found]


def transfer(client: Any, ref: str, to: str) -> list[str]:
    response = post(client, f"/console/c/{ref}/transfer", to=to)
    assert response.status_code == 303
    return flashes(page(client, response.headers["Location"]))


def holder_text(client: Any, ref: str) -> str:
    found = re.search(r'<p id="holder-text">([^<]*)</p>', page(client, f"/console/c/{ref}"))
    assert found
    return html.unescape(found[1])


@pytest.fixture
def held(app, staff):
    """alice holds a critical SMS conversation; returns (app, alice, bob, root, ref)."""
    texts(app, "+15550007001", CRITICAL_TEXT)
    alice, bob, root = (logged_in(app, name) for name in ("alice", "bob", "root"))
    ref = ref_of(alice, "7001")
    post(alice, f"/console/c/{ref}/claim")
    return app, alice, bob, root, ref


# --- transfers ----------------------------------------------------------------------------------


def test_the_holder_transfers_to_a_named_operator(held):
    app, alice, bob, _, ref = held
    said = transfer(alice, ref, "bob")
    # bob has logged in but his console has not polled yet: he is not online
    assert said == [f"Transferred to bob. {NOT_ONLINE}"]
    assert store.conversation(app.redis, store_cid(app, ref))["claimed_by"] == "bob"
    assert row_for(bob, "7001")["mine"] is True
    # bob may reply now, alice may not
    assert "Claim the conversation before replying" in post(
        alice, f"/console/c/{ref}/reply", text="hello", key="a" * 32
    ).get_data(as_text=True)
    event = audit.recent(app.redis)[0]
    assert (event["actor"], event["action"], event["ref"]) == ("alice", "transfer", ref)
    assert event["note"] == "from alice to bob" and "+1•••••7001" in event["target"]
    system = [e for e in conv(bob, ref)["entries"] if e["kind"] == "system"]
    assert [e["text"] for e in system] == ["Transferred from alice to bob by alice."]
    assert system[0]["sender"] == "Console"
    assert "Transferred from alice to bob by alice." in page(bob, f"/console/c/{ref}")


def store_cid(app: Any, ref: str) -> str:
    return privacy.resolve(app.redis, ref)


def test_only_the_holder_or_an_admin_may_transfer(held):
    app, _, bob, root, ref = held
    said = transfer(bob, ref, "bob")
    assert said == ["Only alice or an admin can transfer this conversation."]
    assert store.conversation(app.redis, store_cid(app, ref))["claimed_by"] == "alice"
    said = transfer(root, ref, "bob")  # an admin may, from whoever holds it
    assert said == ["Transferred to bob."]  # bob's console asked the server just now: online
    assert store.conversation(app.redis, store_cid(app, ref))["claimed_by"] == "bob"
    assert audit.recent(app.redis)[0]["note"] == "from alice to bob"
    assert audit.recent(app.redis)[0]["actor"] == "root"


def test_nobody_holds_it_only_an_admin_may_give_it(app, staff):
    texts(app, "+15550007002", "hi")
    alice, root = logged_in(app, "alice"), logged_in(app, "root")
    ref = ref_of(alice, "7002")
    assert transfer(alice, ref, "bob") == [
        "Nobody holds this conversation: take it over first, or ask an admin."
    ]
    assert not store.conversation(app.redis, store_cid(app, ref)).get("claimed_by")
    transfer(root, ref, "bob")
    assert store.conversation(app.redis, store_cid(app, ref))["claimed_by"] == "bob"
    assert [e["text"] for e in conv(root, ref)["entries"] if e["kind"] == "system"] == [
        "Transferred from nobody to bob by root."
    ]


@pytest.mark.parametrize("to", ["", "nobody-here", "Bad Name!", "alice"])
def test_the_target_must_be_another_active_account(held, to):
    app, alice, _, _, ref = held
    said = transfer(alice, ref, to)
    expected = (
        "alice already holds this conversation."
        if to == "alice"
        else "Choose an operator whose account is active."
    )
    assert said == [expected]
    assert store.conversation(app.redis, store_cid(app, ref))["claimed_by"] == "alice"
    assert all(e["action"] != "transfer" for e in audit.recent(app.redis))


def test_a_disabled_account_cannot_receive_a_conversation(held):
    app, alice, _, _, ref = held
    accounts.set_disabled(app.redis, "bob")
    assert transfer(alice, ref, "bob") == ["Choose an operator whose account is active."]
    assert store.conversation(app.redis, store_cid(app, ref))["claimed_by"] == "alice"
    assert "bob" not in page(alice, f"/console/c/{ref}").split('id="transfer-to"')[1]


def test_a_closed_conversation_is_not_transferred(held):
    app, alice, _, _, ref = held
    store.close(app.redis, store_cid(app, ref))
    assert transfer(alice, ref, "bob") == [
        "This conversation is closed: there is nothing to transfer."
    ]


def test_transfer_is_atomic_against_a_change_meanwhile(held):
    app, _, _, _, ref = held
    cid = store_cid(app, ref)
    assert roster.transfer(app.redis, cid, "bob", "root") == "moved"  # alice holds it, not bob
    assert store.conversation(app.redis, cid)["claimed_by"] == "alice"
    assert roster.transfer(app.redis, cid, "alice", "bob") == "ok"
    store.close(app.redis, cid)
    assert roster.transfer(app.redis, cid, "", "root") == "closed"


def test_the_system_line_never_reaches_the_web_chat(app, staff):
    client = app.test_client()
    token = start_web_chat(client, "hi")
    alice = logged_in(app, "alice")
    ref = ref_of(alice, token[-4:])
    post(alice, f"/console/c/{ref}/claim")
    transfer(alice, ref, "bob")
    seen = client.get(f"/chat/api/messages?token={token}&since=0").get_json()
    assert all("Transferred" not in line["text"] for line in seen["entries"])
    assert "Transferred from alice to bob" in str(conv(alice, ref)["entries"])


def test_erase_removes_the_system_lines(held):
    app, alice, _, root, ref = held
    cid = store_cid(app, ref)
    transfer(alice, ref, "bob")
    assert app.redis.exists(roster.syslog_key(cid))
    assert abs(app.redis.pttl(roster.syslog_key(cid)) - app.redis.pttl(store.conv_key(cid))) < 2000
    post(root, f"/console/c/{ref}/erase", confirm="yes")
    assert not app.redis.exists(roster.syslog_key(cid))


# --- online, holdings, the holder panel ---------------------------------------------------------


def team(client: Any) -> dict[str, dict[str, Any]]:
    response = client.get("/console/api/team")
    assert response.status_code == 200
    return {m["name"]: m for m in response.get_json()["team"]}


def test_polls_mark_an_operator_online_and_logout_ends_it(app, staff):
    texts(app, "+15550007003", "hi")
    alice = logged_in(app, "alice")
    app.redis.delete(roster.ONLINE)
    alice.get("/console/api/queue")
    assert app.redis.zscore(roster.ONLINE, "alice") == pytest.approx(time.time(), abs=5)
    app.redis.delete(roster.ONLINE)
    alice.get(f"/console/api/c/{ref_of(alice, '7003')}")  # the conversation's poll too
    assert app.redis.zscore(roster.ONLINE, "alice") is not None
    bob = logged_in(app, "bob")
    members = team(bob)
    assert members["alice"]["online"] and members["bob"]["online"]
    assert members["root"]["online"] is False and members["root"]["status"] == "offline"
    assert members["bob"]["you"] is True and members["alice"]["you"] is False
    # silent for longer than the window (about 30 s): offline, with when last seen
    app.redis.zadd(roster.ONLINE, {"alice": time.time() - 95})
    members = team(bob)
    assert members["alice"]["online"] is False
    assert members["alice"]["status"] == "offline (seen 1m 35s ago)"
    post(bob, "/console/logout")
    assert app.redis.zscore(roster.ONLINE, "bob") is None
    assert client_status(app.test_client()) == 401


def client_status(client: Any) -> int:
    return client.get("/console/api/team").status_code


def test_the_team_shows_how_many_conversations_each_holds(app, staff):
    for n in range(3):
        texts(app, f"+1555000710{n}", CRITICAL_TEXT if n == 0 else "hi")
    alice, bob = logged_in(app, "alice"), logged_in(app, "bob")
    post(alice, f"/console/c/{ref_of(alice, '7100')}/claim")
    post(alice, f"/console/c/{ref_of(alice, '7101')}/claim")
    post(bob, f"/console/c/{ref_of(bob, '7102')}/claim")
    members = team(alice)
    assert (members["alice"]["holds"], members["bob"]["holds"], members["root"]["holds"]) == (
        2,
        1,
        0,
    )
    queue_html = page(alice, "/console/")
    assert 'id="team-panel"' in queue_html and "holds <strong>2</strong>" in queue_html
    team_html = page(bob, "/console/team")
    assert team_html.count("ref-tag") == 3  # each held conversation, masked, with its tag
    assert "5550007100" not in team_html and "+1•••••7100" in team_html
    # a disabled account that still holds something stays listed, so an admin can move it
    accounts.set_disabled(app.redis, "bob")
    members = team(alice)
    assert members["bob"]["status"] == "account disabled" and members["bob"]["holds"] == 1


def test_the_team_api_counts_the_critical_conversations_nobody_holds(app, staff):
    texts(app, "+15550007201", CRITICAL_TEXT)
    texts(app, "+15550007202", CRITICAL_TEXT)
    texts(app, "+15550007203", "hi")
    alice = logged_in(app, "alice")
    critical = alice.get("/console/api/team").get_json()["critical"]
    assert critical["count"] == 2
    assert {r["number"] for r in critical["rows"]} == {"+1•••••7201", "+1•••••7202"}
    assert all(
        set(r) == {"ref", "url", "channel", "number", "tag", "waiting_since"}
        for r in critical["rows"]
    )  # no message text: it may show on a shared screen
    post(alice, f"/console/c/{ref_of(alice, '7201')}/claim")
    assert alice.get("/console/api/team").get_json()["critical"]["count"] == 1


def test_the_holder_panel_always_says_who_holds_it_and_what_you_may_do(held):
    app, alice, bob, root, ref = held
    assert holder_text(bob, ref) == (
        "alice holds this conversation. alice is online. You can read it; ask alice or an "
        "admin to transfer it."
    )
    bob_page = page(bob, f"/console/c/{ref}")
    assert 'id="transfer-to"' not in bob_page and 'id="claim"' not in bob_page
    assert holder_text(alice, ref).startswith("You hold this conversation")
    alice_page = page(alice, f"/console/c/{ref}")
    select = alice_page.split('id="transfer-to"')[1].split("</select>")[0]
    options = re.findall(r'<option value="([^"]*)">', select)
    assert options == ["", "bob", "root"]  # not alice herself: she holds it
    assert "As an admin you can transfer it" in holder_text(root, ref)
    assert 'id="transfer-to"' in page(root, f"/console/c/{ref}")
    post(alice, f"/console/c/{ref}/release")
    assert holder_text(bob, ref).startswith("Nobody holds this conversation: the bot answers.")
    post(alice, f"/console/c/{ref}/close")
    assert holder_text(bob, ref).startswith("This conversation is closed.")


def test_a_quick_exit_is_named(app, staff):
    client = app.test_client()
    token = start_web_chat(client, "help me")
    alice = logged_in(app, "alice")
    ref = ref_of(alice, token[-4:])
    assert client.post("/chat/api/end", json={"token": token}).get_json() == {"ended": True}
    assert conv(alice, ref)["ended_by"] == "person"
    assert conv(alice, ref)["status"] == "closed"
    assert holder_text(alice, ref).startswith("The person left (quick exit).")
    # closed by an operator instead: not a quick exit
    client.post("/chat/api/messages", json={"token": token, "text": "hello again", "since": 0})
    assert conv(alice, ref)["ended_by"] == ""
    post(alice, f"/console/c/{ref}/close")
    assert conv(alice, ref)["ended_by"] != "person"
    assert holder_text(alice, ref).startswith("This conversation is closed.")


# --- why a priority, masks, tel: links ----------------------------------------------------------


def test_the_queue_says_which_message_raised_the_priority(app, staff):
    texts(app, "+15550007301", "hi", ago=60)
    alice = logged_in(app, "alice")
    assert row_for(alice, "7301")["reason"].startswith("“hi” · ")
    texts(app, "+15550007301", CRITICAL_TEXT, ago=30)
    texts(app, "+15550007301", "ok thanks")  # lower: the reason stays the critical message
    row = row_for(alice, "7301")
    assert row["priority"] == "critical" and row["intent"] != "emergency"
    assert re.fullmatch(r"“he is going to hurt me” · emergency \d{1,3}%", row["reason"]), row
    cid = privacy.resolve(app.redis, row["ref"])
    transcript = [e for e in store.transcript(app.redis, cid) if e.direction == "in"]
    confidence = transcript[1].meta["confidence"]
    assert row["reason"].endswith(f" {confidence:.0%}")
    html_text = page(alice, "/console/")
    assert '<div class="reason">“he is going to hurt me” · emergency' in html_text
    assert "why: “he is going to hurt me”" in page(alice, row["url"])


def test_a_long_or_hostile_reason_is_cut_and_escaped(app, staff):
    text = "<b>please</b> " + "x" * 200
    texts(app, "+15550007302", text)
    alice = logged_in(app, "alice")
    reason = row_for(alice, "7302")["reason"]
    assert reason.startswith("“<b>please</b> xxx") and "…”" in reason and len(reason) < 110
    html_text = page(alice, "/console/")
    assert "&lt;b&gt;please&lt;/b&gt;" in html_text and "<b>please</b>" not in html_text


def test_masked_numbers_never_look_the_same(app, staff):
    texts(app, "+15550010004", "hi")
    texts(app, "+15550020004", "hi")
    texts(app, "+445550030004", "hi")
    alice = logged_in(app, "alice")
    rows = queue(alice)
    looks = [(r["number"], r["tag"]) for r in rows]
    assert [n for n, _ in looks].count("+1•••••0004") == 2  # the masks alone would collide
    assert len(set(looks)) == 3
    html_text = page(alice, "/console/")
    shown = re.findall(
        r'class="open" href="[^"]+">([^<]+) <span class="ref-tag">#(\w+)</span>', html_text
    )
    assert len(shown) == 3 and len(set(shown)) == 3
    for row in rows:  # the conversation page and the audit log show the same tag
        assert f"#{row['tag']}" in page(alice, row["url"])
        post(alice, f"{row['url']}/claim")
    audit_html = page(logged_in(app, "root"), "/console/audit")
    assert len(set(re.findall(r'class="ref-tag">#(\w+)<', audit_html))) == 3


def test_tags_lengthen_until_two_look_different():
    rows = [
        {"number": "+1•••••0004", "ref": "abcd12" + "0" * 18},
        {"number": "+1•••••0004", "ref": "abcd34" + "0" * 18},
        {"number": "+1•••••0005", "ref": "abcd56" + "0" * 18},
        {"number": "+1•••••0004", "ref": "abcd12" + "0" * 18},  # the same conversation again
    ]
    for row in rows:
        row["tag"] = privacy.tag(row["ref"])
    privacy.distinct(rows)
    assert [r["tag"] for r in rows] == ["abcd12", "abcd34", "abcd", "abcd12"]
    assert privacy.distinct([]) == []


def test_phone_numbers_in_messages_are_escaped_tel_links(app, staff):
    hostile = '<b>call</b> 1-888-373-7888 or +1 (555) 000-1234"><script>x()</script> 2024-05-01'
    texts(app, "+15550007401", hostile)
    alice = logged_in(app, "alice")
    ref = ref_of(alice, "7401")
    html_text = page(alice, f"/console/c/{ref}")
    assert '<a class="tel" href="tel:18883737888">1-888-373-7888</a>' in html_text
    assert '<a class="tel" href="tel:+15550001234">+1 (555) 000-1234</a>' in html_text
    assert "&lt;b&gt;call&lt;/b&gt;" in html_text and "&lt;script&gt;x()" in html_text
    assert "<script>x()" not in html_text and "tel:20240501" not in html_text
    (entry,) = [e for e in conv(alice, ref)["entries"] if e["direction"] == "in"]
    assert "".join(p[1] for p in entry["parts"]) == hostile  # nothing lost or changed
    assert [p[2] for p in entry["parts"] if p[0] == "tel"] == ["18883737888", "+15550001234"]


@pytest.mark.parametrize(
    "text,numbers",
    [
        ("call 911 now", []),
        ("text 233733", []),
        ("on 1.5.2024 or 2024-05-01, 1.000.000 dollars", []),
        ("555.000.1234 and 5550002222", ["5550001234", "5550002222"]),
        ("id 12345678901234567890", []),
        ("mail 5551234567@example.org", []),
    ],
)
def test_what_counts_as_a_phone_number(text, numbers):
    assert [p[2] for p in phones.parts(text) if p[0] == "tel"] == numbers


# --- the CLI reads .env -------------------------------------------------------------------------


def test_the_operators_cli_reads_the_same_env_file_as_run(valkey, tmp_path, monkeypatch):
    """`flask --app app operators add` (app.py) with a .env setting REDIS_URL and a relative
    DATA_DIR: the account lands where the running line looks."""
    db_url = valkey.url.rstrip("/") + "/3"
    env_file(
        monkeypatch,
        tmp_path,
        "# like .env.example\n"
        f"export REDIS_URL={db_url}\n"
        "DATA_DIR=./line-data\n"
        "SECRET_KEY='from the env file'  \n"
        'TRUSTED_HOSTS="localhost" # a comment\n',
        unset=("REDIS_URL", "DATA_DIR", "SECRET_KEY", "TRUSTED_HOSTS", "REDIS_CLUSTER"),
    )
    target = redis.Redis.from_url(db_url)
    target.flushdb()
    try:
        cli_app = runpy.run_path(str(ROOT / "app.py"))["app"]  # what `flask --app app` loads
        assert cli_app.config["DATA_DIR"] == str(tmp_path / "line-data")
        assert cli_app.config["SECRET_KEY"] == "from the env file"
        result = cli_app.test_cli_runner().invoke(
            args=["operators", "add", "envtest", "--password-file", "-"], input=PASSWORD
        )
        assert result.exit_code == 0, result.output
        assert accounts.get(target, "envtest") is not None  # in the .env's Redis
        line = runpy.run_path(str(ROOT / "app.py"))["app"]  # the running line finds it
        assert accounts.authenticate(line.redis, "envtest", PASSWORD) is not None
    finally:
        target.flushdb()
        target.close()


def test_env_file_parsing_and_the_environment_wins(tmp_path, monkeypatch):
    env = tmp_path / ".env"
    env.write_text(
        "A=1\n"
        "export B='two words'\n"
        'C="quoted \\"inner\\" $A"\n'
        "D=plain # comment\n"
        "E=${A}x\n"
        "# F=commented out\n"
        "not a line\n"
        "G=\n",
        encoding="utf-8",
    )
    assert envfile.parse(env.read_text()) == {
        "A": "1",
        "B": "two words",
        "C": 'quoted "inner" 1',
        "D": "plain",
        "E": "1x",
        "G": "",
    }
    for key in "ABCDEG":
        monkeypatch.setenv(key, "x")
        monkeypatch.delenv(key)
    monkeypatch.setenv("B", "from the environment")
    applied = envfile.load(env)
    assert "B" not in applied and applied["A"] == "1"
    import os

    assert os.environ["B"] == "from the environment" and os.environ["G"] == ""
    assert envfile.load(tmp_path / "missing.env") == {}


def test_a_reason_close_to_critical_says_how_it_was_read(app, staff):
    texts(app, "+15550007303", "he watches my phone")
    alice = logged_in(app, "alice")
    row = row_for(alice, "7303")
    cid = privacy.resolve(app.redis, row["ref"])
    (entry,) = [e for e in store.transcript(app.redis, cid) if e.direction == "in"]
    # this test needs a text in the doubt band: if the classifier moves it out, pick another
    assert entry.meta.get("doubt") is True, f"not in the doubt band any more: {entry.meta}"
    top, p = entry.meta["top"][0]
    assert row["reason"] == f"“he watches my phone” · close to critical: read as {top} {p:.0%}"
