"""Console pages and their JSON: the queue, one conversation, its actions, the audit log."""

from __future__ import annotations

import json
import logging
import math
import re
import time
import uuid
from datetime import UTC, datetime
from functools import wraps
from typing import Any, NoReturn

from flask import (
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from bot import accounts, audit, history, services, store
from bot.config import retention_seconds
from bot.console import annotate, bp, phones, privacy, roster, sessions

log = logging.getLogger(__name__)
MAX_REPLY = 1600
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
_KEY_RE = re.compile(r"^[0-9a-f]{32}$")


@bp.after_request
def security_headers(response: Response) -> Response:
    """No framing, no inline script, and no copy of a transcript in any cache."""
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if request.endpoint != "console.static":
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(CSRFError)
def csrf_failed(error: CSRFError) -> tuple[str, int]:
    """A form without a valid CSRF token: ask the operator to reload and try again (400)."""
    message = (
        "The security token (CSRF) of this form is missing or expired. "
        "Go back, reload the page and try again."
    )
    return render_template(
        "console/error.html", code=400, title="Form expired", message=message
    ), 400


@bp.errorhandler(403)
@bp.errorhandler(404)
def refused(error: HTTPException) -> tuple[str, int]:
    """The console's own page for 403 and 404, with the reason given to `abort`."""
    title = "Not allowed" if error.code == 403 else "Not found"
    return render_template(
        "console/error.html", code=error.code, title=title, message=error.description
    ), error.code


def admin_required(view: Any) -> Any:
    """Operators who are not admins get 403."""

    @wraps(view)
    @login_required
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_admin:
            abort(403, "Only an admin can do this.")
        return view(*args, **kwargs)

    return wrapper


def redis() -> Any:
    """The app's Redis client (behind the circuit breaker)."""
    return current_app.redis


def retention() -> int:
    """How long a conversation is kept, in seconds, from the configuration."""
    return retention_seconds(current_app.config)


def actor() -> str:
    """The logged-in operator's name, as the audit log and transcripts record it."""
    return current_user.name


def refs_for(cids: list[str]) -> dict[str, str]:
    """The refs of `cids` (cid -> ref), remembered so that their console URLs resolve."""
    return privacy.remember(redis(), current_app.config["SECRET_KEY"], cids, retention())


def lookup(ref: str) -> tuple[str, dict[str, str]]:
    """The conversation id and session behind `ref`; :raise 404: if erased, expired or unknown."""
    cid = privacy.resolve(redis(), ref)
    conv = store.conversation(redis(), cid) if cid else {}
    if not cid or not conv:
        abort(404, "This conversation no longer exists (closed and expired, or erased).")
    return cid, conv


def unattended_critical(row: dict[str, str]) -> bool:
    """Whether a queue row is critical, held by nobody and not blocked."""
    return (
        row.get("priority") == "critical"
        and not row.get("claimed_by")
        and row.get("blocked") != "1"
    )


def is_overdue(row: dict[str, str], now: float) -> bool:
    """A critical conversation nobody has taken for longer than OVERDUE_SECONDS."""
    since = float(row.get("waiting_since") or now)
    return unattended_critical(row) and now - since > current_app.config["OVERDUE_SECONDS"]


def summary(cid: str, ref: str, row: dict[str, str], now: float) -> dict[str, Any]:
    """What the queue shows of one conversation: the full number only to whoever holds it."""
    holder = row.get("claimed_by") or None
    address = row.get("address") or cid.partition(":")[2]
    mine = holder == actor()
    channel = cid.partition(":")[0]  # sms, whatsapp or web
    # A web-chat token is the person's key to their chat: nobody needs to see it whole.
    full = mine and channel in PHONE_CHANNELS
    return {
        "ref": ref,
        "url": url_for("console.conversation_page", ref=ref),
        "channel": channel,
        "number": address if full else privacy.mask(address),
        "intent": row.get("last_intent") or "unknown",
        "language": row.get("language") or "",
        "priority": row.get("priority") or "normal",
        "last_text": row.get("last_text") or "",
        "waiting_since": float(row.get("waiting_since") or now),
        "last_in_ts": float(row.get("last_in_ts") or 0),
        "claimed_by": holder,
        "mine": mine,
        "blocked": row.get("blocked") == "1",
        "status": row.get("status") or "closed",
        "overdue": is_overdue(row, now),
        # a critical message came while an operator holds it: they must answer, or the bot will
        "alert": bool(row.get("alert")),
        "tag": privacy.tag(ref),  # two numbers that mask alike still look different
        "reason": priority_reason(row),
        "ended_by": row.get("ended_by") or "",  # "person": the web chat's quick exit
        "tags": annotate.tags_of(row),  # operators' own words, never shown to the person
    }


def priority_reason(row: dict[str, str]) -> str:
    """Why the conversation has its priority: the message that raised it, its intent and the
    classifier's confidence ("" when not recorded)."""
    try:
        why = json.loads(row.get("priority_reason") or "{}")
    except ValueError:
        return ""
    if not isinstance(why, dict) or not why.get("intent"):
        return ""
    top = why.get("top") if isinstance(why.get("top"), list) else None
    if why.get("media"):
        how = "photo or voice note"
    elif why.get("doubt") and top and len(top) == 2:
        how = f"close to critical: read as {top[0]} {float(top[1]):.0%}"
    elif why.get("matched") == "model" and why.get("confidence") is not None:
        how = f"{why['intent']} {float(why['confidence']):.0%}"
    else:
        how = f"{why['intent']} (rule)"
    if why.get("earlier"):  # raised: an earlier episode was critical or high (bot/history.py)
        how += f" · wrote before, was {why['earlier']}"
    text = (why.get("text") or "").strip()
    if len(text) > 80:
        text = text[:79] + "…"
    return f"“{text}” · {how}" if text else how


MAX_PAGE = 1_000_000


def requested_page() -> int:
    """`?page=N`, a whole number from 1 (1 when absent); anything else is answered 400 with the
    reason (JSON for the API), never read as page 1 nor passed on to Redis."""
    raw = request.args.get("page", "1").strip()
    if re.fullmatch(r"[0-9]{1,7}", raw) and 1 <= int(raw) <= MAX_PAGE:
        return int(raw)
    bad_request("bad_page", f"'page' must be a whole number from 1 to {MAX_PAGE:,}.")


def bad_request(error: str, reason: str) -> NoReturn:
    """Answer 400 with `reason`: JSON (`error`, `message`) under /console/api/, else the error
    page."""
    if request.path.startswith("/console/api/"):
        refusal = jsonify(error=error, message=reason)
        refusal.status_code = 400
        abort(refusal)
    abort(
        Response(
            render_template("console/error.html", code=400, title="Bad request", message=reason),
            400,
        )
    )


def queue_view(page: int) -> dict[str, Any]:
    """One page of open conversations (overdue first, then priority, then longest wait), the
    true count per priority, how many pages, and when each unclaimed critical one started
    waiting (so every page can flag the overdue ones, wherever they are listed)."""
    from bot.console import search  # ?priority= &language= &channel= &mine=1 &unassigned=1

    if filters := search.queue_filters():
        return search.filtered_queue_view(page, filters)
    per_page = max(1, int(current_app.config["CONSOLE_QUEUE_PAGE_SIZE"]))
    counts = store.queue_counts(redis())
    urgent = sum(counts[p] for p in store.URGENT)
    rows = store.queue_page(redis(), page, per_page, urgent)
    first_page_rows = rows if page == 1 else store.queue_page(redis(), 1, 0, urgent)
    refs = refs_for([row["cid"] for row in rows])
    now = time.time()
    out = privacy.distinct([summary(row["cid"], refs[row["cid"]], row, now) for row in rows])
    total = sum(counts.values())
    return {
        "rows": sorted(out, key=lambda s: not s["overdue"]),  # stable: keeps the queue's order
        "total": total,
        "counts": counts,
        "page": page,
        "pages": 1 + math.ceil(max(0, total - max(per_page, urgent)) / per_page),
        "critical_waiting_since": sorted(
            float(row.get("waiting_since") or now)
            for row in first_page_rows
            if unattended_critical(row)
        ),
    }


def page_settings() -> dict[str, Any]:
    """The poll interval and overdue threshold the console's pages and scripts use."""
    cfg = current_app.config
    overdue = int(cfg["OVERDUE_SECONDS"])
    return {
        "poll": cfg["CONSOLE_POLL_SECONDS"],
        "overdue": overdue,
        "overdue_label": f"{overdue // 60} min" if overdue % 60 == 0 else f"{overdue} s",
    }


@bp.get("")
@bp.get("/")
@login_required
def queue_page() -> str:
    """The queue: one page of open conversations, and how many critical ones are overdue."""
    now = time.time()
    view = queue_view(requested_page())
    overdue_after = current_app.config["OVERDUE_SECONDS"]
    return render_template(
        "console/queue.html",
        q=view,
        rows=view["rows"],
        overdue=sum(now - since > overdue_after for since in view["critical_waiting_since"]),
        version=store.version(redis()),
        now=now,
        settings=page_settings(),
    )


@bp.get("/api/queue")
@login_required
def queue_api() -> Response:
    """One page of the queue (`?page=N`) as JSON; only the version when nothing changed since
    `?v=`."""
    version = store.version(redis())
    if request.args.get("v") == str(version):
        return jsonify(version=version, now=time.time(), changed=False)
    return jsonify(version=version, now=time.time(), changed=True, **queue_view(requested_page()))


def sender_label(sender: str) -> str:
    """Who wrote a transcript line, as the console shows it ("Operator ana", "Person", ...)."""
    if sender.startswith("operator:"):
        return "Operator " + sender.partition(":")[2]
    return {"person": "Person", "bot": "Bot", "system": "Console"}.get(sender, sender)


def entry_view(entry: store.Entry, delivery: dict[str, str] | None = None) -> dict[str, Any]:
    """One transcript line as the console shows it, with an operator SMS's delivery status."""
    sid = (entry.meta or {}).get("sid") if entry.sender.startswith("operator:") else None
    return {
        "delivery": (delivery or {}).get(sid, "sent") if sid else "",
        "direction": entry.direction,
        "sender": sender_label(entry.sender),
        "kind": entry.sender.partition(":")[0],
        "text": entry.text,
        "ts": entry.ts,
        "iso": datetime.fromtimestamp(entry.ts, UTC).isoformat(timespec="seconds"),
        "intent": entry.intent or "",
        "priority": entry.priority or "",
        "why": why(entry),
        "parts": phones.parts(entry.text),  # the text, its phone numbers as tel: links
    }


def why(entry: store.Entry) -> str:
    """How the classifier read an inbound message: its likeliest intents, and the doubt band."""
    meta = entry.meta or {}
    if entry.direction != "in" or not meta.get("matched"):
        return ""
    if meta["matched"] != "model":
        return f"rule {meta['matched']}"
    top = ", ".join(f"{intent} {p:.0%}" for intent, p in meta.get("top") or [])
    doubt = (
        "; close to critical: priority raised, emergency number given" if meta.get("doubt") else ""
    )
    return f"read as {top}{doubt}"


PHONE_CHANNELS = ("sms", "whatsapp")
PHONE_PREFIXES = ("sms:", "whatsapp:")
WHATSAPP_WINDOW = 24 * 3600  # free text only this long after the person's last message


def whatsapp_window_closed(cid: str, conv: dict[str, str], now: float) -> bool:
    """WhatsApp allows free text only within 24 hours of the person's last message."""
    last = float(conv.get("last_in_ts") or 0)
    return cid.startswith("whatsapp:") and now - last > WHATSAPP_WINDOW


def stale(conv: dict[str, str], now: float) -> bool:
    """True when the person's last message is older than the safe reply window."""
    last = float(conv.get("last_in_ts") or 0)
    return now - last > current_app.config["SAFE_REPLY_MINUTES"] * 60


def entries(cid: str) -> list[dict[str, Any]]:
    """The transcript, with Twilio's latest delivery status on operator SMS."""
    delivery: dict[str, str] = {}
    if cid.startswith(PHONE_PREFIXES):
        try:
            delivery = services.outbound().delivery(cid)
        except Exception:
            log.exception("delivery status unavailable")
    lines = roster.merged(store.transcript(redis(), cid), roster.system_lines(redis(), cid))
    return [entry_view(e, delivery) for e in lines]


def render_conversation(
    ref: str,
    cid: str,
    conv: dict[str, str],
    *,
    draft: str = "",
    error: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    """The conversation page, with a refused reply's `draft` and `error`, as `status`."""
    now = time.time()
    info = summary(cid, ref, conv, now)
    return render_template(
        "console/conversation.html",
        c=info,
        entries=entries(cid),
        opted_out=bool(redis().exists(store.optout_key(cid))),
        stale=stale(conv, now),
        window_closed=whatsapp_window_closed(cid, conv, now),
        safe_minutes=current_app.config["SAFE_REPLY_MINUTES"],
        draft=draft,
        error=error,
        reply_key=uuid.uuid4().hex,
        version=store.version(redis()),
        settings=page_settings(),
    ), status


@bp.get("/c/<ref>")
@login_required
def conversation_page(ref: str) -> tuple[str, int]:
    """The conversation: its transcript, its state and what the operator may do with it."""
    cid, conv = lookup(ref)
    return render_conversation(ref, cid, conv)


@bp.get("/api/c/<ref>")
@login_required
def conversation_api(ref: str) -> Response:
    """The transcript and who holds the conversation; only the version when unchanged."""
    version = store.version(redis())
    if request.args.get("v") == str(version):
        return jsonify(version=version, changed=False)
    cid = privacy.resolve(redis(), ref)
    conv = store.conversation(redis(), cid) if cid else {}
    if not conv:
        return jsonify(version=version, changed=True, gone=True), 404
    return jsonify(
        version=version,
        changed=True,
        status=conv.get("status"),
        claimed_by=conv.get("claimed_by"),
        ended_by=conv.get("ended_by") or "",
        entries=entries(cid),
    )


def note(action: str, ref: str, cid: str, conv: dict[str, str], **extra: str) -> None:
    """Write the audit entry for an action on a conversation (masked number only)."""
    target = privacy.mask(conv.get("address") or cid.partition(":")[2])
    audit.record(
        redis(), actor(), action, ref=ref, target=f"{cid.partition(':')[0]} {target}", **extra
    )


def back(ref: str) -> Response:
    """Back to the conversation page (303, after a form)."""
    return redirect(url_for("console.conversation_page", ref=ref), code=303)


@bp.post("/c/<ref>/claim")
@login_required
def claim(ref: str) -> Response:
    """Give the conversation to the operator, unless it is closed or someone else holds it."""
    cid, conv = lookup(ref)
    if conv.get("status") != "open":
        flash("This conversation is closed; it reopens when the person writes again.", "error")
    elif store.claim(redis(), cid, actor()):
        note("claim", ref, cid, conv)
        flash("You hold this conversation: the bot stays quiet until you hand it back.", "ok")
    else:
        holder = store.conversation(redis(), cid).get("claimed_by") or "someone else"
        flash(f"Not claimed: {holder} already holds this conversation.", "error")
    return back(ref)


def may_manage(conv: dict[str, str]) -> bool:
    """The holder, an admin, or anyone while nobody holds it."""
    holder = conv.get("claimed_by")
    return not holder or holder == actor() or current_user.is_admin


@bp.post("/c/<ref>/release")
@login_required
def release(ref: str) -> Response:
    """Hand the conversation back to the bot (its holder or an admin)."""
    cid, conv = lookup(ref)
    if not conv.get("claimed_by"):
        flash("Nobody holds this conversation.", "error")
    elif not may_manage(conv):
        flash(f"Only {conv['claimed_by']} or an admin can hand this back.", "error")
    else:
        store.release(redis(), cid)
        note("hand_back", ref, cid, conv)
        flash("Handed back to the bot.", "ok")
    return back(ref)


@bp.post("/c/<ref>/close")
@login_required
def close(ref: str) -> Response:
    """Close the conversation with its wrap-up (required from its holder); back to the queue."""
    cid, conv = lookup(ref)
    if not may_manage(conv):
        flash(f"Only {conv['claimed_by']} or an admin can close this.", "error")
        return back(ref)
    # the holder must say how it ended (issue 13); an admin, or anyone when nobody holds it, may
    holder = conv.get("claimed_by") == actor()
    wrap, problem = annotate.read_wrapup(request.form, required=holder)
    if problem:
        flash(problem, "error")
        return back(ref)
    store.close(redis(), cid)
    annotate.save_wrapup(redis(), cid, wrap, actor(), retention())
    note("close", ref, cid, conv, note=annotate.wrapup_summary(wrap))
    flash("Conversation closed.", "ok")
    return redirect(url_for("console.queue_page"), code=303)


@bp.post("/c/<ref>/reply")
@login_required
def reply(ref: str) -> Response | tuple[str, int]:
    """Send the operator's text to the person (SMS, WhatsApp or web chat) and add it to the
    transcript. `template=yes` sends the approved WhatsApp template instead of the text."""
    cid, conv = lookup(ref)
    template = cid.startswith("whatsapp:") and request.form.get("template") == "yes"
    text = "" if template else request.form.get("text", "").strip()
    key = request.form.get("key", "")

    def refuse(message: str, status: int) -> tuple[str, int]:
        return render_conversation(ref, cid, conv, draft=text, error=message, status=status)

    if conv.get("claimed_by") != actor():
        return refuse("Claim the conversation before replying.", 409)
    if conv.get("status") != "open":
        return refuse("This conversation is closed: it cannot be messaged.", 409)
    if redis().exists(store.optout_key(cid)):
        return refuse("This number has opted out (STOP): it cannot be messaged.", 403)
    if whatsapp_window_closed(cid, conv, time.time()) and not template:
        return refuse(
            "More than 24 hours since the person's last WhatsApp message: WhatsApp allows only "
            "the approved template now. Send the template; free text works again once they "
            "answer.",
            409,
        )
    if not text and not template:
        return refuse("The reply is empty.", 400)
    if len(text) > MAX_REPLY:
        return refuse(f"The reply is longer than {MAX_REPLY} characters.", 400)
    if stale(conv, time.time()) and request.form.get("confirm_stale") != "yes":
        return refuse(
            "The person's last message is older than "
            f"{current_app.config['SAFE_REPLY_MINUTES']} minutes: the phone may have changed "
            "hands. Tick the confirmation to send anyway.",
            409,
        )
    if not _KEY_RE.match(key):
        return refuse("The form is out of date: send again.", 400)
    lock = f"tl:opreply:{key}"
    if not redis().set(lock, actor(), nx=True, ex=86400):
        flash("That reply was already sent.", "ok")
        return back(ref)

    meta: dict[str, Any] = {}
    if cid.startswith(PHONE_PREFIXES):
        try:
            meta["sid"] = services.outbound().send(
                cid=cid,
                to=conv.get("address") or cid.partition(":")[2],
                body=text,
                key=f"op:{key}",
                template=template,
            )
        except Exception as exc:
            log.exception("operator reply to %s failed", privacy.mask(cid))
            redis().delete(lock)
            note("reply_failed", ref, cid, conv, note=type(exc).__name__)
            return refuse(f"The message could not be sent ({exc}). Nothing was delivered.", 502)
    if template:
        meta["template"] = True
        text = "(WhatsApp template sent: it asks the person to write back)"
    entry = store.Entry("out", f"operator:{actor()}", text, meta=meta or None)
    store.append_entry(redis(), cid, entry, retention())
    history.human_replied(redis(), cid, entry.ts)  # time to the first human reply (stats)
    if conv.get("alert"):
        store.clear_alert(redis(), cid)  # answered: the bot will not step in
    note("reply", ref, cid, conv, note=f"{len(text)} characters")
    flash("Reply sent.", "ok")
    return back(ref)


@bp.post("/c/<ref>/block")
@admin_required
def block(ref: str) -> Response:
    """Block or unblock the number: a blocked one's messages are stored, never queued above low."""
    cid, conv = lookup(ref)
    blocked = request.form.get("blocked") == "1"
    store.set_blocked(redis(), cid, blocked)
    note("block" if blocked else "unblock", ref, cid, conv)
    flash(
        "Number blocked: its messages are stored and never queued above low."
        if blocked
        else "Number unblocked.",
        "ok",
    )
    return back(ref)


@bp.post("/c/<ref>/erase")
@admin_required
def erase(ref: str) -> Response:
    """Erase the conversation and its ref, once the admin ticked the confirmation."""
    cid, conv = lookup(ref)
    if request.form.get("confirm") != "yes":
        flash("Tick the box to confirm erasing this conversation.", "error")
        return back(ref)
    store.erase(redis(), cid)
    privacy.forget(redis(), ref)
    note("erase", ref, cid, conv)
    flash("Conversation erased: transcript, session and queue entry are gone.", "ok")
    return redirect(url_for("console.queue_page"), code=303)


@bp.get("/audit")
@admin_required
def audit_page() -> str:
    """The newest events of the audit log."""
    return render_template("console/audit.html", events=audit.recent(redis()))


@bp.get("/operators")
@admin_required
def operators_page() -> str:
    """Every account, its role, and how many live sessions it has."""
    found = accounts.all_accounts(redis())
    return render_template(
        "console/operators.html",
        operators=[(a, sessions.live_count(redis(), a.name)) for a in found],
    )


@bp.post("/operators/<name>/end-sessions")
@admin_required
def end_sessions(name: str) -> Response:
    """Log an operator out everywhere (a lost laptop, a shift handed over, a doubt)."""
    account = accounts.get(redis(), name)
    if account is None:
        abort(404, "No such operator.")
    ended = sessions.end_all(redis(), account.name)
    audit.record(redis(), actor(), "end_sessions", target=account.name, note=f"{ended} session(s)")
    flash(f"Ended {ended} session(s) of {account.name}.", "ok")
    return redirect(url_for("console.operators_page"), code=303)


@bp.app_template_filter("clock")
def clock(ts: float) -> str:
    """A timestamp as a UTC date and time, for templates."""
    return datetime.fromtimestamp(float(ts), UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@bp.app_template_filter("ago")
def ago(seconds: float) -> str:
    """A duration in seconds, compact (`45s`, `3m 05s`, `2h 10m`), for templates."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    return f"{seconds // 3600}h {seconds // 60 % 60:02d}m"
