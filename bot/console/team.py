"""Working as a team: who is online and what each holds, transfers, the holder panel, and the
live data behind the title badge and desktop notifications (static/team.js).

- Every console request by a logged-in operator (each poll included) marks them online
  (bot/console/roster.py); logging out takes them off at once.
- `POST /console/c/<ref>/transfer` (field `to`): the holder, or an admin, gives an open
  conversation to another operator whose account is active; atomic (it fails if someone else
  took or moved it meanwhile), audited (`transfer`), and a system line in the transcript.
- `/console/team` and `/console/api/team`: every active operator, online or when last seen, and
  how many open conversations each holds; the API also lists the critical conversations nobody
  holds (for the title badge and notifications on every console page).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import current_app, flash, jsonify, render_template, request
from flask_login import current_user, login_required
from markupsafe import Markup
from werkzeug.wrappers import Response

from bot import accounts, store
from bot.console import bp, phones, privacy, roster, views

log = logging.getLogger(__name__)
NOT_SEEN = ("console.static", "console.login")
MAX_CRITICAL = 50  # listed for notifications; the count is always the true one


@bp.before_request
def mark_online() -> None:
    """Each request of a logged-in console (polls included) says its operator is online."""
    if request.endpoint in NOT_SEEN or request.endpoint is None:
        return
    try:
        if not current_user.is_authenticated:
            return
        if request.endpoint == "console.logout":
            roster.gone(views.redis(), current_user.name)
        else:
            roster.seen(views.redis(), current_user.name)
    except Exception:  # presence is a courtesy: never fail a page for it
        log.warning("could not record console presence", exc_info=True)


@bp.app_template_filter("tel_links")
def tel_links(text: str) -> Markup:
    """`text` escaped, with its phone numbers as `tel:` links, for templates."""
    return phones.tel_links(text)


def window() -> float:
    """Seconds since their last poll within which an operator counts as online."""
    return roster.online_window(current_app.config["CONSOLE_POLL_SECONDS"])


def active_accounts(r: store.Client) -> list[accounts.Account]:
    """Every account (one round trip for the names, one for their hashes)."""
    names = sorted(store.text_of(n) for n in r.smembers(accounts.NAMES))
    if not names:
        return []
    pipe = r.pipeline(transaction=False)
    for name in names:
        pipe.hmget(accounts.account_key(name), "role", "disabled", "created")
    found = []
    for name, (role, disabled, created) in zip(names, pipe.execute(), strict=True):
        if role is None:
            continue
        found.append(
            accounts.Account(
                name,
                store.text_of(role),
                store.text_of(disabled) == "1",
                float(store.text_of(created) or 0),
            )
        )
    return found


def team_view(now: float | None = None) -> list[dict[str, Any]]:
    """Every active operator (and anyone else who still holds a conversation): online or when
    last seen, and how many open conversations they hold; online first, then by name."""
    r = views.redis()
    now = time.time() if now is None else now
    seen = roster.last_seen(r)
    held = roster.holdings(r)
    limit = window()
    team = {}
    for account in active_accounts(r):
        if not account.disabled or held.get(account.name):
            team[account.name] = account
    names = set(team) | set(held)
    me = current_user.name if current_user.is_authenticated else ""
    rows = []
    for name in names:
        last = seen.get(name)
        account = team.get(name)
        rows.append(
            {
                "name": name,
                "admin": bool(account and account.is_admin),
                "disabled": account is None or account.disabled,
                "online": last is not None and now - last <= limit,
                "last_seen": last,
                "holds": len(held.get(name, [])),
                "you": name == me,
            }
        )
    rows.sort(key=lambda row: (not row["online"], row["name"]))
    return rows


def status_label(row: dict[str, Any], now: float) -> str:
    """An operator's state for the team page: disabled, online, or offline and when last seen."""
    if row["disabled"]:
        return "account disabled"
    if row["online"]:
        return "online"
    if row["last_seen"] is None:
        return "offline"
    return f"offline (seen {views.ago(now - row['last_seen'])} ago)"


@bp.app_template_global()
def team_panel() -> dict[str, Any]:
    """The queue page's team panel, as first drawn (team.js keeps it live)."""
    now = time.time()
    rows = team_view(now)
    for row in rows:
        row["status"] = status_label(row, now)
    return {"rows": rows, "online": sum(row["online"] for row in rows)}


@bp.app_template_global()
def holder_panel(c: dict[str, Any]) -> dict[str, Any]:
    """What the conversation page's panel says: who holds it, what this operator may do, and
    whom they may transfer it to."""
    holder = c.get("claimed_by") or ""
    admin = bool(current_user.is_admin)
    now = time.time()
    team = {row["name"]: row for row in team_view(now)}
    if c.get("status") != "open":
        if c.get("ended_by") == "person":
            text = (
                "The person left (quick exit). The conversation is closed; it reopens if "
                "they write again."
            )
        else:
            text = (
                "This conversation is closed. It reopens when the person writes again; "
                "until then nobody can message them from here."
            )
    elif not holder:
        text = (
            "Nobody holds this conversation: the bot answers. Take over to answer yourself."
        ) + (" As an admin you can also give it to someone." if admin else "")
    elif c.get("mine"):
        text = (
            "You hold this conversation: the bot stays quiet (except emergency texts). "
            "You can reply, transfer it, hand it back to the bot or close it."
        )
    else:
        row = team.get(holder)
        presence = f" {holder} is {status_label(row, now)}." if row else ""
        if admin:
            text = (
                f"{holder} holds this conversation.{presence} As an admin you can transfer "
                "it, hand it back to the bot or close it."
            )
        else:
            text = (
                f"{holder} holds this conversation.{presence} You can read it; ask "
                f"{holder} or an admin to transfer it."
            )
    can_transfer = c.get("status") == "open" and (bool(c.get("mine")) or admin)
    targets = (
        [
            {
                "name": row["name"],
                "label": f"{row['name']}{' (you)' if row['you'] else ''}: "
                f"{'online' if row['online'] else 'offline'}, "
                f"holds {row['holds']}",
            }
            for row in team.values()
            if not row["disabled"] and row["name"] != holder
        ]
        if can_transfer
        else []
    )
    return {"text": text, "can_transfer": can_transfer, "targets": targets}


@bp.post("/c/<ref>/transfer")
@login_required
def transfer(ref: str) -> Response:
    """Give the conversation to another operator (the holder, or an admin)."""
    cid, conv = views.lookup(ref)
    r = views.redis()
    me = views.actor()
    holder = conv.get("claimed_by") or ""
    wanted = request.form.get("to", "")
    target = accounts.get(r, wanted) if wanted.strip() else None
    if conv.get("status") != "open":
        flash("This conversation is closed: there is nothing to transfer.", "error")
    elif holder != me and not current_user.is_admin:
        flash(
            f"Only {holder} or an admin can transfer this conversation."
            if holder
            else "Nobody holds this conversation: take it over first, or ask an admin.",
            "error",
        )
    elif target is None or target.disabled:
        flash("Choose an operator whose account is active.", "error")
    elif target.name == holder:
        flash(f"{holder} already holds this conversation.", "error")
    else:
        result = roster.transfer(r, cid, holder, target.name)
        if result == "ok":
            roster.add_system_line(
                r, cid, f"Transferred from {holder or 'nobody'} to {target.name} by {me}."
            )
            views.note(
                "transfer", ref, cid, conv, note=f"from {holder or 'nobody'} to {target.name}"
            )
            online = {row["name"]: row["online"] for row in team_view()}
            away = (
                ""
                if online.get(target.name)
                else (f" {target.name} is not online now: it waits for them in the queue.")
            )
            flash(f"Transferred to {target.name}.{away}", "ok")
        elif result == "moved":
            now_holder = store.conversation(r, cid).get("claimed_by") or "nobody"
            flash(f"Not transferred: it changed meanwhile ({now_holder} holds it now).", "error")
        else:
            flash("Not transferred: the conversation was closed meanwhile.", "error")
    return views.back(ref)


def critical_waiting() -> dict[str, Any]:
    """The critical conversations nobody holds (blocked numbers aside): their true count and
    the most urgent `MAX_CRITICAL` of them, masked, for the badge and notifications."""
    r = views.redis()
    low, high = store.PRIORITY_RANK["critical"], store.PRIORITY_RANK["critical"] + 1
    span = store.RANK_SPAN
    cids = [
        store.text_of(c) for c in r.zrange(store.QUEUE, low * span, high * span - 1, byscore=True)
    ]
    rows = [row for row in store.queued_rows(r, cids) if views.unattended_critical(row)]
    shown = rows[:MAX_CRITICAL]
    refs = views.refs_for([row["cid"] for row in shown])
    now = time.time()
    items = privacy.distinct(
        [views.summary(row["cid"], refs[row["cid"]], row, now) for row in shown]
    )
    return {
        "count": len(rows),
        "rows": [
            {key: item[key] for key in ("ref", "url", "channel", "number", "tag", "waiting_since")}
            for item in items
        ],
    }


@bp.get("/api/team")
@login_required
def team_api() -> Response:
    """Who is online, what each holds, and the critical conversations nobody holds."""
    now = time.time()
    rows = team_view(now)
    for row in rows:
        row["status"] = status_label(row, now)
    return jsonify(now=now, online_window=window(), team=rows, critical=critical_waiting())


@bp.get("/team")
@login_required
def team_page() -> str:
    """The team: online or not, and the conversations each one holds."""
    r = views.redis()
    now = time.time()
    rows = team_view(now)
    held = roster.holdings(r)
    cids = [cid for row in rows for cid in held.get(row["name"], [])]
    refs = views.refs_for(cids)
    convs = store.queued_rows(r, cids)
    by_cid = {row["cid"]: row for row in convs}
    looks = privacy.distinct(
        [views.summary(cid, refs[cid], by_cid[cid], now) for cid in cids if cid in by_cid]
    )
    for row in rows:
        row["status"] = status_label(row, now)
        row["held"] = [look for look in looks if look["claimed_by"] == row["name"]]
    return render_template("console/team.html", team=rows, now=now, window=int(window()))


@bp.app_template_global()
def ref_tags(events: list[dict[str, Any]]) -> dict[str, str]:
    """Ref -> tag for the audit log's conversations, no two different ones looking alike."""
    looks = {
        e["ref"]: {"ref": e["ref"], "number": e.get("target", ""), "tag": privacy.tag(e["ref"])}
        for e in events
        if e.get("ref")
    }
    return {row["ref"]: row["tag"] for row in privacy.distinct(list(looks.values()))}
