"""The operator console over HTTP, against a real Valkey: login, CSRF, the queue, actions, audit."""

from __future__ import annotations

import re
import threading
import time
from typing import Any

import pytest

from bot import accounts, audit, store
from tests.helpers import (
    CRITICAL_TEXT,
    LOW_TEXT,
    PASSWORD,
    csrf_token,
    logged_in,
    login,
    messages,
    page,
    post,
    queue,
    row_for,
    texts,
)

# --- login, sessions, rate limits, CSRF -------------------------------------------------------


@pytest.mark.parametrize("path", ["/console", "/console/", "/console/c/abc123", "/console/audit"])
def test_pages_redirect_to_login_without_a_session(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/console/login?next=")


@pytest.mark.parametrize("path", ["/console/api/queue", "/console/api/c/abc123"])
def test_json_answers_401_without_a_session(client, path):
    response = client.get(path)
    assert response.status_code == 401
    assert response.get_json() == {"error": "login required"}


def test_login_opens_the_queue_and_logout_ends_it(client, staff):
    response = login(client, "alice")
    assert response.status_code == 302 and response.headers["Location"] == "/console/"
    html = page(client, "/console/")
    assert "alice" in html and "No open conversations." in html
    assert post(client, "/console/logout").status_code == 302
    assert client.get("/console/").status_code == 302


def test_login_returns_to_the_page_asked_for_but_never_off_site(client, staff):
    data = {"name": "alice", "password": PASSWORD, "csrf_token": csrf_token(client)}
    response = client.post("/console/login", data={**data, "next": "/console/audit"})
    assert response.headers["Location"] == "/console/audit"
    post(client, "/console/logout")
    data["csrf_token"] = csrf_token(client)
    response = client.post("/console/login", data={**data, "next": "https://evil.example/"})
    assert response.headers["Location"] == "/console/"


def test_wrong_password_is_refused(client, staff):
    response = login(client, "alice", "wrong password!")
    assert response.status_code == 401
    assert "Wrong name or password" in response.get_data(as_text=True)
    assert client.get("/console/").status_code == 302


def test_session_cookie_is_httponly_samesite_and_secure_over_https(app, staff):
    plain = app.test_client()
    cookie = login(plain, "alice").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert "Expires=" in cookie  # a limited lifetime, not a forever cookie
    tls = app.test_client()
    html = tls.get("/console/login", base_url="https://localhost").get_data(as_text=True)
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    response = tls.post(
        "/console/login",
        base_url="https://localhost",
        data={"name": "alice", "password": PASSWORD, "csrf_token": csrf},
        headers={"Referer": "https://localhost/console/login"},
    )
    assert response.status_code == 302
    assert "Secure" in response.headers["Set-Cookie"]


def test_login_expires_after_the_session_lifetime(app, staff):
    client = logged_in(app, "alice")
    with client.session_transaction() as session:
        session["login_at"] = time.time() - 13 * 3600
    assert client.get("/console/").status_code == 302


def test_disabled_account_cannot_log_in_and_its_session_ends(app, staff):
    client = logged_in(app, "alice")
    accounts.set_disabled(app.redis, "alice")
    assert client.get("/console/").status_code == 302
    assert login(app.test_client(), "alice").status_code == 401


def saved_cookie(client: Any) -> str:
    return client.get_cookie("session").value


def replayed(app, cookie: str) -> Any:
    """A fresh browser that presents a session cookie saved earlier."""
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return thief


def test_a_cookie_saved_before_logout_no_longer_works(app, staff):
    alice = logged_in(app, "alice")
    cookie = saved_cookie(alice)
    assert replayed(app, cookie).get("/console/").status_code == 200
    assert post(alice, "/console/logout").status_code == 302
    thief = replayed(app, cookie)
    response = thief.get("/console/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/console/login")
    assert thief.get("/console/api/queue").status_code == 401


def test_logging_in_again_ends_the_session_it_replaces(app, staff):
    alice = logged_in(app, "alice")
    cookie = saved_cookie(alice)
    data = {"name": "bob", "password": PASSWORD, "csrf_token": csrf_token(alice, "/console/")}
    assert alice.post("/console/login", data=data).status_code == 302
    assert replayed(app, cookie).get("/console/").status_code == 302
    assert "bob" in page(alice, "/console/")


def test_admin_ends_every_session_of_another_operator(app, staff):
    bob_laptop, bob_phone = logged_in(app, "bob"), logged_in(app, "bob")
    alice, root = logged_in(app, "alice"), logged_in(app, "root")
    cookie = saved_cookie(bob_laptop)
    assert post(alice, "/console/operators/bob/end-sessions").status_code == 403
    assert bob_laptop.get("/console/").status_code == 200
    html = page(root, "/console/operators")
    assert re.search(r"<td>bob</td>\s*<td>operator</td>\s*<td>active</td>\s*<td>2</td>", html)
    response = root.post(
        "/console/operators/bob/end-sessions",
        data={"csrf_token": csrf_token(root, "/console/")},
        follow_redirects=True,
    )
    assert "Ended 2 session(s) of bob." in response.get_data(as_text=True)
    for browser in (bob_laptop, bob_phone, replayed(app, cookie)):
        assert browser.get("/console/").status_code == 302
        assert browser.get("/console/api/queue").status_code == 401
    assert alice.get("/console/").status_code == 200  # nobody else is logged out
    assert logged_in(app, "bob").get("/console/").status_code == 200  # bob may log in again
    assert "<td>end sessions</td>" in page(root, "/console/audit")
    assert "operator bob" in page(root, "/console/audit")


def test_cli_ends_sessions_and_so_do_disable_and_a_new_password(app, staff, tmp_path):
    runner = app.test_cli_runner()
    bob = logged_in(app, "bob")
    result = runner.invoke(args=["operators", "end-sessions", "bob"])
    assert result.exit_code == 0 and "ended 1 session(s) of bob" in result.output
    assert bob.get("/console/").status_code == 302

    alice = logged_in(app, "alice")
    result = runner.invoke(args=["operators", "disable", "alice"])
    assert "disabled alice; ended 1 session(s)" in result.output
    runner.invoke(args=["operators", "enable", "alice"])
    assert alice.get("/console/").status_code == 302  # enabling again revives nothing

    bob = logged_in(app, "bob")
    result = runner.invoke(
        args=["operators", "password", "bob", "--password-file", "-"],
        input="a brand new password\n",
    )
    assert result.exit_code == 0 and "ended 1 session(s)" in result.output
    assert bob.get("/console/").status_code == 302
    assert login(app.test_client(), "bob").status_code == 401
    assert login(app.test_client(), "bob", "a brand new password").status_code == 302
    result = runner.invoke(
        args=["operators", "password", "bob", "--password-file", "-"], input="short\n"
    )
    assert result.exit_code != 0 and "at least 10" in result.output
    assert runner.invoke(args=["operators", "end-sessions", "nobody"]).exit_code != 0


def test_failed_logins_per_account_are_limited_across_two_app_instances(app_config, staff, app):
    from bot import create_app

    other = create_app(app_config)  # a second worker on the same Redis
    first, second = app.test_client(), other.test_client()
    for i in range(5):
        client = first if i % 2 else second
        client.environ_base["REMOTE_ADDR"] = f"10.0.0.{i}"
        assert login(client, "alice", "wrong password!").status_code == 401
    third = other.test_client()
    third.environ_base["REMOTE_ADDR"] = "10.9.9.9"
    response = login(third, "alice")  # the right password, from a fresh address
    assert response.status_code == 429
    assert "Too many failed logins" in response.get_data(as_text=True)
    assert login(third, "bob").status_code == 302  # other accounts are unaffected


def test_failed_logins_per_address_are_limited(app_config, staff):
    from bot import create_app

    app = create_app({**app_config, "LOGIN_MAX_PER_ADDRESS": 3})
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "203.0.113.7"
    for name in ("carol", "dave", "erin"):
        assert login(attacker, name, "guess-guess-guess").status_code == 401
    assert login(attacker, "alice").status_code == 429
    colleague = app.test_client()
    colleague.environ_base["REMOTE_ADDR"] = "198.51.100.2"
    assert login(colleague, "alice").status_code == 302


def counted_password_checks(monkeypatch) -> list[str]:
    """Every real password check (argon2) the login view makes, by name."""
    checks: list[str] = []
    real = accounts.authenticate

    def counting(r: Any, name: str, password: str) -> Any:
        checks.append(name)
        return real(r, name, password)

    monkeypatch.setattr(accounts, "authenticate", counting)
    return checks


def parallel_logins(app, attempts: list[tuple[str, str]]) -> list[int]:
    """Wrong-password logins (name, client address) sent at the same instant, one thread each."""
    clients = []
    for name, address in attempts:
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = address
        clients.append((client, name, csrf_token(client)))
    barrier, statuses = threading.Barrier(len(clients)), []

    def attempt(client: Any, name: str, csrf: str) -> None:
        barrier.wait()
        data = {"name": name, "password": "wrong password!", "csrf_token": csrf}
        statuses.append(client.post("/console/login", data=data).status_code)

    threads = [threading.Thread(target=attempt, args=c) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


def audited(app, action: str) -> int:
    return sum(e["action"] == action for e in audit.recent(app.redis))


def test_parallel_guesses_from_one_address_check_at_most_its_limit(app, staff, monkeypatch):
    checks = counted_password_checks(monkeypatch)
    limit = app.config["LOGIN_MAX_PER_ADDRESS"]  # 20
    statuses = parallel_logins(app, [(f"guess{i}", "203.0.113.7") for i in range(30)])
    assert len(checks) == limit
    assert sorted(statuses) == [401] * limit + [429] * (30 - limit)
    assert (audited(app, "login_failed"), audited(app, "login_refused")) == (limit, 30 - limit)


def test_parallel_guesses_on_one_name_check_at_most_its_limit(app, staff, monkeypatch):
    checks = counted_password_checks(monkeypatch)
    limit = app.config["LOGIN_MAX_PER_NAME"]  # 5
    statuses = parallel_logins(app, [("alice", f"10.1.0.{i}") for i in range(30)])
    assert checks == ["alice"] * limit
    assert sorted(statuses) == [401] * limit + [429] * (30 - limit)


def test_an_attackers_guesses_hold_the_real_operator_back_briefly(app_config, staff):
    from bot import create_app

    app = create_app({**app_config, "LOGIN_BACKOFF_SECONDS": 1, "LOGIN_WINDOW_SECONDS": 3})
    attacker, alice = app.test_client(), app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "203.0.113.7"
    alice.environ_base["REMOTE_ADDR"] = "198.51.100.2"
    for _ in range(5):
        assert login(attacker, "alice", "guess-guess-guess").status_code == 401
    response = login(alice, "alice")
    assert response.status_code == 429
    assert "Try again in 1 second." in response.get_data(as_text=True)
    time.sleep(1.05)
    assert login(attacker, "alice", "guess-guess-guess").status_code == 401
    assert "Try again in 2 seconds." in login(alice, "alice").get_data(as_text=True)  # doubled
    time.sleep(2.05)
    assert login(attacker, "alice", "guess-guess-guess").status_code == 401
    assert "Try again in 3 seconds." in login(alice, "alice").get_data(as_text=True)  # capped
    time.sleep(3.05)
    assert login(alice, "alice").status_code == 302
    assert login(attacker, "alice", "guess-guess-guess").status_code == 401  # cleared


def test_a_right_password_clears_the_account_counter(client, staff):
    for _ in range(4):
        login(client, "alice", "wrong password!")
    assert login(client, "alice").status_code == 302
    post(client, "/console/logout")
    for _ in range(4):
        assert login(client, "alice", "wrong password!").status_code == 401


def test_state_changes_need_a_csrf_token(app, staff, send_sms):
    texts(app, "+15550001111", CRITICAL_TEXT)
    alice = logged_in(app, "alice")
    ref = row_for(alice, "1111")["ref"]
    response = alice.post(f"/console/c/{ref}/claim")
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert row_for(alice, "1111")["claimed_by"] is None
    response = alice.post(f"/console/c/{ref}/claim", data={"csrf_token": "forged"})
    assert response.status_code == 400
    assert app.test_client().post("/console/login", data={"name": "alice"}).status_code == 400
    # The Twilio webhook is signed instead, and needs no token.
    assert send_sms("hi", sender="+15550002222").status_code == 200


# --- the queue ---------------------------------------------------------------------------------


def opened(app, priority: str, numbers: range, *, ago: float) -> list[str]:
    """Open conversations stored directly (one per number), the last one `ago` seconds old."""
    now = time.time() - ago
    addresses = [f"+1555{n:07d}" for n in numbers]
    for i, address in enumerate(addresses):
        ts = now - (len(addresses) - i) / 1000
        store.record_turn(
            app.redis,
            store.State(cid=f"sms:{address}"),
            channel="sms",
            address=address,
            inbound=store.Entry("in", "person", "hello", ts=ts),
            reply=None,
            language="en",
            priority=priority,
            retention_seconds=86400,
        )
    return [a[-4:] for a in addresses]


def every_page(client: Any) -> list[dict[str, Any]]:
    """Each page of the queue API, from the first to the last it announces."""
    first = client.get("/console/api/queue").get_json()
    rest = [
        client.get(f"/console/api/queue?page={n}").get_json() for n in range(2, first["pages"] + 1)
    ]
    return [first, *rest]


@pytest.fixture
def crowded(app, staff) -> dict[str, list[str]]:
    """450 open conversations; the critical and high ones written last."""
    made = {
        "normal": opened(app, "normal", range(0, 300), ago=900),
        "low": opened(app, "low", range(300, 440), ago=600),
    }
    made["critical"] = opened(app, "critical", range(440, 442), ago=300)  # overdue
    made["critical"] += opened(app, "critical", range(442, 448), ago=1)
    made["high"] = opened(app, "high", range(448, 450), ago=0)
    return made


def test_queue_pages_show_the_true_count_and_everyone_exactly_once(app, crowded):
    alice = logged_in(app, "alice")
    pages = every_page(alice)
    first = pages[0]
    assert first["total"] == 450
    assert first["counts"] == {"critical": 8, "high": 2, "normal": 300, "low": 140}
    assert first["pages"] == len(pages) == 5  # 100 a page
    assert [r["priority"] for r in first["rows"][:10]] == ["critical"] * 8 + ["high"] * 2
    seen = [r["number"][-4:] for p in pages for r in p["rows"]]
    assert len(seen) == len(set(seen)) == 450
    assert seen[10:] == crowded["normal"] + crowded["low"]  # most urgent, then longest wait
    html = page(alice, "/console/")
    assert "(450 open)" in html and "8 critical" in html and "140 low" in html
    assert "Page 1 of 5" in html and 'href="/console/?page=2"' in html
    assert html.count('class="row ') == 100
    second = page(alice, "/console/?page=2")
    assert "Page 2 of 5" in second and 'href="/console/?page=1"' in second
    # The overdue ones are listed on page 1, and flagged on every page.
    assert "2 critical conversation(s) unclaimed for over 2 min" in second
    assert 'badge-critical">critical</span>' not in second


def test_every_critical_and_high_is_on_page_one_whatever_the_page_size(app_config, staff):
    from bot import create_app

    app = create_app({**app_config, "CONSOLE_QUEUE_PAGE_SIZE": 4})
    made = {
        "normal": opened(app, "normal", range(0, 440), ago=900),
        "critical": opened(app, "critical", range(440, 448), ago=0),
        "high": opened(app, "high", range(448, 450), ago=0),
    }
    pages = every_page(logged_in(app, "alice"))
    first = [r["number"][-4:] for r in pages[0]["rows"]]
    assert first == made["critical"] + made["high"]  # 10 on a page of 4: none held back
    assert len(pages) == pages[0]["pages"] == 1 + 440 // 4
    assert [len(p["rows"]) for p in pages[1:]] == [4] * 110
    assert [r["number"][-4:] for p in pages[1:] for r in p["rows"]] == made["normal"]


def test_queue_puts_critical_above_an_older_low_conversation(app, staff):
    texts(app, "+15550003333", LOW_TEXT, ago=600)
    texts(app, "+15550004444", CRITICAL_TEXT, ago=5)
    texts(app, "web-token-abcdef", "i need help", channel="web", ago=60)
    rows = queue(logged_in(app, "alice"))
    assert [r["priority"] for r in rows] == ["critical", "high", "low"]
    critical, web, low = rows
    assert critical["intent"] == "emergency" and critical["channel"] == "sms"
    assert critical["last_text"] == CRITICAL_TEXT and critical["language"] == "en"
    assert web["channel"] == "web"
    assert low["waiting_since"] < critical["waiting_since"]
    html = page(logged_in(app, "bob"), "/console/")
    assert html.index("+1•••••4444") < html.index("+1•••••3333")


def test_queue_masks_numbers_everywhere_for_operators_not_holding_them(app, staff):
    texts(app, "+15550005555", CRITICAL_TEXT)
    alice, bob = logged_in(app, "alice"), logged_in(app, "bob")
    row = row_for(alice, "5555")
    assert row["number"] == "+1•••••5555"
    for html in (
        page(alice, "/console/"),
        page(alice, row["url"]),
        alice.get("/console/api/queue").get_data(as_text=True),
    ):
        assert "5550005555" not in html
    post(alice, f"/console/c/{row['ref']}/claim")
    assert row_for(alice, "5555")["number"] == "+15550005555"
    assert "+15550005555" in page(alice, row["url"])
    assert row_for(bob, "5555")["number"] == "+1•••••5555"
    assert "5550005555" not in page(bob, row["url"])


def test_queue_api_is_cheap_when_nothing_changed(app, staff):
    texts(app, "+15550006666", CRITICAL_TEXT)
    alice = logged_in(app, "alice")
    first = alice.get("/console/api/queue").get_json()
    again = alice.get(f"/console/api/queue?v={first['version']}").get_json()
    assert again["changed"] is False and "rows" not in again
    texts(app, "+15550007777", LOW_TEXT)
    after = alice.get(f"/console/api/queue?v={first['version']}").get_json()
    assert after["changed"] is True and len(after["rows"]) == 2


def test_unclaimed_critical_past_the_limit_is_overdue_and_first(app, staff):
    texts(app, "+15550008888", CRITICAL_TEXT, ago=300)  # over OVERDUE_SECONDS (120)
    texts(app, "+15550009999", CRITICAL_TEXT, ago=10)
    alice = logged_in(app, "alice")
    old, new = queue(alice)
    assert old["number"].endswith("8888") and old["overdue"] is True
    assert new["overdue"] is False
    html = page(alice, "/console/")
    assert "1 critical conversation(s) unclaimed for over 2 min" in html
    post(alice, f"/console/c/{old['ref']}/claim")
    assert [r["overdue"] for r in queue(alice)] == [False, False]


# --- one conversation --------------------------------------------------------------------------


def test_transcript_shows_both_directions_with_sender_intent_and_time(app, staff):
    texts(app, "+15550001212", CRITICAL_TEXT)
    alice = logged_in(app, "alice")
    url = row_for(alice, "1212")["url"]
    html = page(alice, url)
    assert CRITICAL_TEXT in html and "Person" in html and "Bot" in html
    assert "emergency" in html and "UTC" in html
    assert "1-888-373-7888" in html or "911" in html  # the bot's reply is in the transcript


def test_transcript_says_how_each_message_was_read(app, staff):
    texts(app, "+15550001313", CRITICAL_TEXT)
    texts(app, "+15550001313", "STOP")
    alice = logged_in(app, "alice")
    html = page(alice, row_for(alice, "1313")["url"])
    assert re.search(r"read as emergency \d+%, \w+ \d+%, \w+ \d+%", html), html
    assert "rule keyword:stop" in html


def test_transcript_with_a_script_tag_is_shown_as_text(app, staff):
    texts(app, "+15550001313", "<script>alert('x')</script> help <b>me</b>")
    alice = logged_in(app, "alice")
    row = row_for(alice, "1313")
    for html in (page(alice, row["url"]), page(alice, "/console/")):
        assert "<script>alert" not in html and "<b>me</b>" not in html
        assert "&lt;script&gt;alert(" in html
    csp = alice.get(row["url"]).headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp


def test_claim_race_only_one_operator_wins(app, staff):
    texts(app, "+15550001414", CRITICAL_TEXT)
    alice, bob = logged_in(app, "alice"), logged_in(app, "bob")
    ref = row_for(alice, "1414")["ref"]
    tokens = {c: csrf_token(c, "/console/") for c in (alice, bob)}
    barrier, results = threading.Barrier(2), {}

    def claim(name: str, client: Any) -> None:
        barrier.wait()
        client.post(f"/console/c/{ref}/claim", data={"csrf_token": tokens[client]})
        results[name] = page(client, f"/console/c/{ref}")

    threads = [threading.Thread(target=claim, args=a) for a in (("alice", alice), ("bob", bob))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    holder = store.conversation(app.redis, "sms:+15550001414")["claimed_by"]
    loser = "bob" if holder == "alice" else "alice"
    assert "You hold this conversation" in results[holder]
    assert f"Not claimed: {holder} already holds this conversation." in results[loser]
    assert "Take over" not in results[loser]


def test_while_claimed_the_bot_is_quiet_and_after_hand_back_it_answers(app, staff, send_sms):
    send_sms("i need help", sender="+15550001515")
    alice = logged_in(app, "alice")
    ref = row_for(alice, "1515")["ref"]
    post(alice, f"/console/c/{ref}/claim")
    assert messages(send_sms("hello?", sender="+15550001515")) == []
    # an emergency alerts alice instead (tests/test_held.py: the bot steps in after 60 s)
    assert messages(send_sms(CRITICAL_TEXT, sender="+15550001515")) == []
    assert row_for(alice, "1515")["alert"] is True
    post(alice, f"/console/c/{ref}/release")
    assert row_for(alice, "1515")["claimed_by"] is None
    assert messages(send_sms("hello?", sender="+15550001515")) != []


def test_only_the_holder_or_an_admin_hands_back_or_closes(app, staff):
    texts(app, "+15550001616", CRITICAL_TEXT)
    alice, bob, root = (logged_in(app, n) for n in ("alice", "bob", "root"))
    ref = row_for(alice, "1616")["ref"]
    post(alice, f"/console/c/{ref}/claim")
    post(bob, f"/console/c/{ref}/release")
    post(bob, f"/console/c/{ref}/close")
    assert row_for(alice, "1616")["claimed_by"] == "alice"
    post(root, f"/console/c/{ref}/close")
    assert queue(alice) == []
    assert store.conversation(app.redis, "sms:+15550001616")["status"] == "closed"


def test_web_chat_reply_goes_into_the_transcript(app, staff):
    texts(app, "tok_abcdefgh1234", "i need help", channel="web")
    alice = logged_in(app, "alice")
    ref = row_for(alice, "1234")["ref"]
    post(alice, f"/console/c/{ref}/claim")
    response = post(alice, f"/console/c/{ref}/reply", text="I am here. Are you safe?", key="a" * 32)
    assert response.status_code == 303
    last = store.transcript(app.redis, "web:tok_abcdefgh1234")[-1]
    assert (last.direction, last.sender, last.text) == (
        "out",
        "operator:alice",
        "I am here. Are you safe?",
    )
    html = page(alice, f"/console/c/{ref}")
    assert "Operator alice" in html
    assert "tok_abcdefgh1234" not in html  # the widget's token stays secret even to the holder


def test_reply_needs_the_claim(app, staff):
    texts(app, "tok_zzzzzzzz9876", "i need help", channel="web")
    bob = logged_in(app, "bob")
    ref = row_for(bob, "9876")["ref"]
    response = post(bob, f"/console/c/{ref}/reply", text="hello", key="b" * 32)
    assert response.status_code == 409
    assert "Claim the conversation before replying." in response.get_data(as_text=True)
    assert len(store.transcript(app.redis, "web:tok_zzzzzzzz9876")) == 2


def test_block_keeps_messages_low_unless_the_person_is_in_danger(app, staff):
    texts(app, "+15550001717", CRITICAL_TEXT)
    texts(app, "+15550001818", LOW_TEXT, ago=30)
    root, alice = logged_in(app, "root"), logged_in(app, "alice")
    ref = row_for(root, "1717")["ref"]
    assert post(alice, f"/console/c/{ref}/block", blocked="1").status_code == 403
    post(root, f"/console/c/{ref}/block", blocked="1")
    row = row_for(alice, "1717")
    assert row["blocked"] is True and row["priority"] == "low"
    assert [r["number"][-4:] for r in queue(alice)] == ["1818", "1717"]
    texts(app, "+15550001717", "what time is the bus")
    assert row_for(alice, "1717")["priority"] == "low"
    texts(app, "+15550001717", CRITICAL_TEXT)  # critical whoever sends it
    assert row_for(alice, "1717")["priority"] == "critical"
    assert len(store.transcript(app.redis, "sms:+15550001717")) == 6
    assert "blocked" in page(alice, row["url"])


def test_admin_erases_a_conversation(app, staff):
    texts(app, "+15550001919", CRITICAL_TEXT)
    root, alice = logged_in(app, "root"), logged_in(app, "alice")
    ref = row_for(root, "1919")["ref"]
    assert post(alice, f"/console/c/{ref}/erase", confirm="yes").status_code == 403
    post(root, f"/console/c/{ref}/erase")  # not confirmed: nothing happens
    assert [e.text for e in store.transcript(app.redis, "sms:+15550001919")][:1] == [CRITICAL_TEXT]
    response = post(root, f"/console/c/{ref}/erase", confirm="yes")
    assert response.status_code == 303
    assert queue(root) == []
    assert store.transcript(app.redis, "sms:+15550001919") == []
    assert store.conversation(app.redis, "sms:+15550001919") == {}
    assert root.get(f"/console/c/{ref}").status_code == 404


def test_transcripts_expire_after_the_retention_period(app, staff):
    texts(app, "tok_retention0001", "i need help", channel="web")
    alice = logged_in(app, "alice")
    ref = row_for(alice, "0001")["ref"]
    post(alice, f"/console/c/{ref}/claim")
    post(alice, f"/console/c/{ref}/reply", text="hello", key="c" * 32)
    days = app.config["RETENTION_DAYS"] * 86400
    for key in (store.conv_key("web:tok_retention0001"), store.log_key("web:tok_retention0001")):
        assert days - 60 < app.redis.ttl(key) <= days


# --- audit -------------------------------------------------------------------------------------


def test_audit_log_records_actions_and_only_admins_read_it(app, staff):
    texts(app, "+15550002020", CRITICAL_TEXT)
    texts(app, "+15550002121", LOW_TEXT)
    login(app.test_client(), "alice", "not the password")
    alice, root = logged_in(app, "alice"), logged_in(app, "root")
    ref = row_for(alice, "2020")["ref"]
    post(alice, f"/console/c/{ref}/claim")
    post(alice, f"/console/c/{ref}/release")
    post(alice, f"/console/c/{ref}/close")
    other = row_for(root, "2121")["ref"]
    post(root, f"/console/c/{other}/block", blocked="1")
    post(root, f"/console/c/{other}/erase", confirm="yes")
    assert alice.get("/console/audit").status_code == 403
    html = page(root, "/console/audit")
    for action in ("login failed", "claim", "hand back", "close", "block", "erase"):
        assert f"<td>{action}</td>" in html, action
    assert "+1•••••2020" in html and "5550002020" not in html and "5550002121" not in html
