"""Find and remember: search every kept conversation, filter the queue, show a repeat contact's
earlier episodes, and export conversations as CSV (admins).

Search reads the index `tl:convs` (bot/history.py: every kept conversation by its last message
from the person), narrowed first by date, channel and number suffix (all in the index), then by
the fields of each conversation hash (one pipelined HMGET per batch), and only then, for words,
by the transcripts of what is left (at most `TEXT_SCAN_LIMIT` of them, newest first). Numbers
are masked as in the queue; nothing here ever shows a full number.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Response, abort, current_app, render_template, request, url_for
from flask_login import login_required

from bot import audit, history, services, store
from bot.console import annotate, bp, privacy
from bot.console import views as v
from bot.triage.contract import higher_priority

CHANNELS = ("sms", "whatsapp", "web")
STATUSES = {"open": "open", "closed": "closed", "quick_exit": "quick exit"}
PER_PAGE = 50
BATCH = 500
TEXT_SCAN_LIMIT = 5000  # transcripts read for one word search at most (newest first)
MAX_TEXT = 200
_REF = re.compile(r"^[0-9a-f]{1,64}$")
_SUFFIX = re.compile(r"^[0-9A-Za-z_-]{1,4}$")
_LANG = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{1,8})?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FIELDS = (
    *history.EPISODE_FIELDS,
    "ended_by",
    "language",
    "last_intent",
    "priority",
    "peak_priority",
    "last_text",
    "address",
    "count",
    "created",
    "last_in_ts",
    "claimed_by",
    "blocked",
    "closed_ts",
    "critical_since",
    "first_human_reply_ts",
)


# --- the query --------------------------------------------------------------------------------


@dataclass
class Query:
    """What an operator searches for; every field optional (then: every kept conversation)."""

    text: str = ""
    ref: str = ""
    number: str = ""  # the last digits of the number (at most 4, as the queue shows them)
    intent: str = ""
    language: str = ""
    channel: str = ""
    status: str = ""  # open | closed | quick_exit
    start: str = ""  # YYYY-MM-DD (UTC): last message from the person on or after
    end: str = ""  # YYYY-MM-DD (UTC): ... on or before
    errors: list[str] = field(default_factory=list)

    def args(self) -> dict[str, str]:
        """The query string of this search (for links, the pager and the export form)."""
        return {k: val for k, val in asdict(self).items() if k != "errors" and val}

    def bounds(self) -> tuple[float | str, float | str]:
        """The `tl:convs` score range of the dates: the start of `start` to the end of `end`."""
        lo = _day(self.start).timestamp() if self.start else "-inf"
        hi = (_day(self.end) + timedelta(days=1)).timestamp() - 1e-6 if self.end else "+inf"
        return lo, hi

    def describe(self) -> str:
        """For the audit log: which filters, without the words searched for."""
        parts = [f"{k}={val}" for k, val in self.args().items() if k != "text"]
        if self.text:
            parts.insert(0, f"text ({len(self.text)} characters)")
        return ", ".join(parts) or "everything"


def _day(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)


def read_query(args: Any) -> Query:
    """A Query from request arguments; what does not fit is named in `errors`."""
    q = Query()
    errors = q.errors
    q.text = " ".join((args.get("text") or "").split())[:MAX_TEXT]
    ref = (args.get("ref") or "").strip().lower()
    if ref and not _REF.match(ref):
        errors.append(
            "A reference is the letters and digits of a conversation's address (/console/c/…)."
        )
    q.ref = ref
    number = (args.get("number") or "").strip().lstrip("•")
    if number and not _SUFFIX.match(number):
        errors.append("Give the last digits of the number (up to 4), as the queue shows them.")
    q.number = number
    q.intent = (args.get("intent") or "").strip()
    if q.intent and q.intent not in services.line().content.contract.intents:
        errors.append("Unknown intent: choose one from the list.")
    q.language = (args.get("language") or "").strip().lower()
    if q.language and not _LANG.match(q.language):
        errors.append("A language is a code such as en, es or fr.")
    q.channel = (args.get("channel") or "").strip().lower()
    if q.channel and q.channel not in CHANNELS:
        errors.append("The channel is sms, whatsapp or web.")
    q.status = (args.get("status") or "").strip().lower()
    if q.status and q.status not in STATUSES:
        errors.append("The status is open, closed or quick exit.")
    for name in ("start", "end"):
        value = (args.get(name) or "").strip()
        if value:
            try:
                if not _DATE.match(value):
                    raise ValueError(value)
                _day(value)
            except ValueError:
                errors.append(f"'{value}' is not a date (YYYY-MM-DD).")
                value = ""
        setattr(q, name, value)
    if q.start and q.end and q.start > q.end:
        errors.append("The first date is after the last one.")
    return q


# --- running it -------------------------------------------------------------------------------


@dataclass
class Found:
    """The conversations a search matched, and how many transcripts it read for words."""

    total: int
    rows: list[dict[str, Any]]  # (cid, hash fields, snippet) of every match, newest first
    scanned: int = 0  # transcripts read for words
    truncated: bool = False  # more transcripts than TEXT_SCAN_LIMIT were left unread


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def run(r: store.Client, q: Query, secret: str) -> Found:
    """Every conversation that matches `q`, newest first (see the module's text)."""
    lo, hi = q.bounds()
    cids = [_text(c) for c in r.zrevrangebyscore(history.CONVS, hi, lo)]
    if q.channel:
        cids = [c for c in cids if c.partition(":")[0] == q.channel]
    if q.number:
        suffix = q.number.lower()
        cids = [c for c in cids if c.partition(":")[2].lower().endswith(suffix)]
    if q.ref:
        known = privacy.resolve(r, q.ref)
        cids = [c for c in cids if c == known or privacy.ref_for(secret, c) == q.ref][:1]
    names = FIELDS + ((history.INTENT_FIELD + q.intent,) if q.intent else ())
    rows = [
        {"cid": cid, "conv": conv, "snippet": ""}
        for cid, conv in fields_of(r, cids, names)
        if conv and _fits(q, conv)
    ]
    if not q.text:
        return Found(len(rows), rows)
    return _words(r, q.text, rows)


def fields_of(
    r: store.Client, cids: list[str], names: tuple[str, ...]
) -> Iterator[tuple[str, dict[str, str]]]:
    """Each of `cids` with those of its fields `names` that it has (an empty dict if it is gone),
    in order: one pipelined HMGET per `BATCH` conversations."""
    for start in range(0, len(cids), BATCH):
        batch = cids[start : start + BATCH]
        pipe = r.pipeline(transaction=False)
        for cid in batch:
            pipe.hmget(store.conv_key(cid), names)
        for cid, values in zip(batch, pipe.execute(), strict=True):
            yield cid, {n: _text(x) for n, x in zip(names, values, strict=True) if x is not None}


def _fits(q: Query, conv: dict[str, str]) -> bool:
    if q.language and (conv.get("language") or "") != q.language:
        return False
    if q.intent and not (
        conv.get(history.INTENT_FIELD + q.intent) or conv.get("last_intent") == q.intent
    ):
        return False
    status = conv.get("status") or "closed"
    if q.status == "open":
        return status == "open"
    if q.status == "closed":
        return status != "open"
    if q.status == "quick_exit":
        return status != "open" and conv.get("ended_by") == "person"
    return True


def _words(r: store.Client, text: str, rows: list[dict[str, Any]]) -> Found:
    """Keep the rows whose transcript holds `text` (case and accents as typed, any case)."""
    needle = text.casefold()
    kept: list[dict[str, Any]] = []
    readable = rows[:TEXT_SCAN_LIMIT]
    for start in range(0, len(readable), BATCH // 5):
        batch = readable[start : start + BATCH // 5]
        pipe = r.pipeline(transaction=False)
        for row in batch:
            pipe.lrange(store.log_key(row["cid"]), 0, -1)
        for row, lines in zip(batch, pipe.execute(), strict=True):
            for raw in lines:
                try:
                    said = str(json.loads(raw).get("text") or "")
                except (ValueError, AttributeError):
                    continue
                at = said.casefold().find(needle)
                if at >= 0:
                    row["snippet"] = snippet(said, at, len(needle))
                    kept.append(row)
                    break
    return Found(len(kept), kept, scanned=len(readable), truncated=len(rows) > len(readable))


def snippet(said: str, at: int, length: int, around: int = 60) -> str:
    """Up to `around` characters either side of the match at `at`, with … where `said` is cut."""
    start, end = max(0, at - around), min(len(said), at + length + around)
    return ("…" if start else "") + said[start:end] + ("…" if end < len(said) else "")


# --- what the pages show ----------------------------------------------------------------------


def status_of(conv: dict[str, str]) -> str:
    """The conversation's status as the console words it: open, closed or quick exit."""
    if conv.get("status") == "open":
        return "open"
    return "quick exit" if conv.get("ended_by") == "person" else "closed"


def result_view(cid: str, ref: str, conv: dict[str, str], snippet_text: str) -> dict[str, Any]:
    """One search result as the page shows it: masked number, status, priority, matched text."""
    address = conv.get("address") or cid.partition(":")[2]
    return {
        "ref": ref,
        "url": url_for("console.conversation_page", ref=ref),
        "channel": cid.partition(":")[0],
        "number": privacy.mask(address),
        "tag": privacy.tag(ref),  # as in the queue: two numbers that mask alike look different
        "status": status_of(conv),
        "priority": conv.get("priority") or "normal",
        "peak": conv.get("peak_priority") or "",
        "intent": conv.get("last_intent") or "unknown",
        "language": conv.get("language") or "",
        "last_in_ts": float(conv.get("last_in_ts") or 0),
        "count": int(conv.get("count") or 0),
        # closed episodes before the current one (a closed conversation's last is itself)
        "earlier": max(0, len(history.episodes(conv)) - (conv.get("status") != "open")),
        "claimed_by": conv.get("claimed_by") or "",
        "text": snippet_text or conv.get("last_text") or "",
        "matched": bool(snippet_text),
    }


def languages() -> list[str]:
    """The languages the line has replies in (the filters' choices)."""
    replies = services.line().content.replies or {}
    return sorted(set(replies) | {"en", "es", "fr"})


def choices() -> dict[str, Any]:
    """The values the search form and the queue filters offer."""
    return {
        "intents": services.line().content.contract.intents,
        "languages": languages(),
        "channels": CHANNELS,
        "statuses": STATUSES,
        "priorities": tuple(store.PRIORITY_RANK),
    }


@bp.get("/search")
@login_required
def search_page() -> tuple[str, int]:
    """The search form and one page of results (400 with the reasons if the query does not fit)."""
    q = read_query(request.args)
    page = v.requested_page()
    found, rows = None, []
    if not q.errors:
        found = run(v.redis(), q, current_app.config["SECRET_KEY"])
        shown = found.rows[(page - 1) * PER_PAGE : page * PER_PAGE]
        refs = v.refs_for([row["cid"] for row in shown])
        rows = privacy.distinct(
            [
                result_view(row["cid"], refs[row["cid"]], row["conv"], row["snippet"])
                for row in shown
            ]
        )
        if q.args() and page == 1:
            audit.record(v.redis(), v.actor(), "search", note=f"{q.describe()}: {found.total}")
    pages = max(1, -(-found.total // PER_PAGE)) if found else 1
    return render_template(
        "console/search.html",
        q=q,
        found=found,
        rows=rows,
        page=page,
        pages=pages,
        choices=choices(),
        text_limit=TEXT_SCAN_LIMIT,
    ), 400 if q.errors else 200


# --- CSV export (admins) ----------------------------------------------------------------------

CSV_COLUMNS = (
    "ref",
    "channel",
    "number",
    "status",
    "priority",
    "peak_priority",
    "language",
    "last_intent",
    "messages",
    "created_utc",
    "last_message_utc",
    "closed_utc",
    "earlier_episodes",
    "critical_since_utc",
    "first_human_reply_utc",
    "held_by",
    "outcome",
    "exploitation",
    "minor",
)


def iso(ts: Any) -> str:
    """A timestamp as UTC ISO 8601 for the CSV; empty if missing or not a number."""
    try:
        return datetime.fromtimestamp(float(ts), UTC).isoformat(timespec="seconds")
    except (TypeError, ValueError):
        return ""


def cell(value: Any) -> str:
    """A CSV cell a spreadsheet will not run: a leading =, +, -, @ or control gets a quote."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_response(rows: list[list[Any]], name: str) -> Response:
    """`rows` as a CSV download named `{name}-{time}.csv`, every cell made safe for spreadsheets."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([cell(x) for x in row])
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    return Response(
        "\ufeff" + out.getvalue(),  # a BOM: spreadsheets then read the file as UTF-8
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}-{stamp}.csv"'},
    )


def transcript_text(r: store.Client, cid: str) -> str:
    """The transcript as plain text for the CSV: one `[time] sender: text` line per message."""
    lines = []
    for entry in store.transcript(r, cid):
        when = iso(entry.ts)
        lines.append(f"[{when}] {v.sender_label(entry.sender)}: {entry.text}")
    return "\n".join(lines)


@bp.post("/search/export.csv")
@v.admin_required
def export_conversations() -> Response:
    """Every conversation the search matches, numbers masked; the transcripts only when the
    admin ticked "include message text". Audit-logged either way."""
    q = read_query(request.form)
    if q.errors:
        abort(400, " ".join(q.errors))
    with_text = request.form.get("include_text") == "yes"
    r = v.redis()
    found = run(r, q, current_app.config["SECRET_KEY"])
    refs = v.refs_for([row["cid"] for row in found.rows])
    table: list[list[Any]] = [list(CSV_COLUMNS) + (["transcript"] if with_text else [])]
    for row in found.rows:
        cid, conv = row["cid"], row["conv"]
        line = [
            refs[cid],
            cid.partition(":")[0],
            privacy.mask(conv.get("address") or cid.partition(":")[2]),
            status_of(conv),
            conv.get("priority") or "",
            conv.get("peak_priority") or "",
            conv.get("language") or "",
            conv.get("last_intent") or "",
            conv.get("count") or "0",
            iso(conv.get("created")),
            iso(conv.get("last_in_ts")),
            iso(conv.get("closed_ts")) if conv.get("status") != "open" else "",
            len(history.episodes(conv)),
            iso(conv.get("critical_since")),
            iso(conv.get("first_human_reply_ts")),
            conv.get("claimed_by") or "",
            conv.get("outcome") or "",
            conv.get("exploitation") or "",
            conv.get("minor") or "",
        ]
        if with_text:
            line.append(transcript_text(r, cid))
        table.append(line)
    audit.record(
        r,
        v.actor(),
        "export_conversations",
        note=f"{len(found.rows)} rows; {q.describe()}; "
        + ("MESSAGE TEXT INCLUDED" if with_text else "no message text"),
    )
    return csv_response(table, "conversations")


# --- a repeat contact's earlier episodes ------------------------------------------------------


def contact_history(ref: str) -> dict[str, Any] | None:
    """The earlier episodes of the conversation behind `ref` (newest first) and their highest
    priority; and the same number's conversation on the other phone channel, if any."""
    r = v.redis()
    cid = privacy.resolve(r, ref)
    if not cid:
        return None
    channel, _, address = cid.partition(":")
    others = (
        [f"{c}:{address}" for c in v.PHONE_CHANNELS if c != channel]
        if channel in v.PHONE_CHANNELS
        else []
    )
    pipe = r.pipeline(transaction=False)
    for key in [cid, *others]:
        pipe.hgetall(store.conv_key(key))
    found = [{_text(k): _text(x) for k, x in raw.items()} for raw in pipe.execute()]
    conv, elsewhere = found[0], []
    eps = history.episodes(conv)
    peak = ""
    for episode in eps:
        peak = higher_priority(peak or "low", episode.get("priority") or "low")
    other_refs = v.refs_for([o for o, c in zip(others, found[1:], strict=True) if c])
    for other, oconv in zip(others, found[1:], strict=True):
        if not oconv:
            continue
        top = higher_priority(oconv.get("priority") or "low", oconv.get("peak_priority") or "low")
        peak = higher_priority(peak or "low", top)
        elsewhere.append(
            {
                "channel": other.partition(":")[0],
                "url": url_for("console.conversation_page", ref=other_refs[other]),
                "priority": top,
                "status": status_of(oconv),
                "last_in_ts": float(oconv.get("last_in_ts") or 0),
                "episodes": len(history.episodes(oconv)),
            }
        )
    if not eps and not elsewhere:
        return None
    closed_now = conv.get("status") != "open"
    views = [episode_view(e, latest=closed_now and i == len(eps) - 1) for i, e in enumerate(eps)]
    return {
        "episodes": views[::-1],
        "peak": peak,
        "count": len(eps),
        "earlier": len(eps) - (1 if closed_now else 0),
        "elsewhere": elsewhere,
    }


def choice_label(choices: dict[str, str], key: str | None) -> str:
    """The wrap-up's wording for a stored key; the key itself if it is no longer a choice."""
    return choices.get(key, key) if key else ""


def episode_view(e: dict[str, Any], latest: bool) -> dict[str, Any]:
    """What the console shows of one closed episode; `latest` if it is the conversation's close."""
    since, reached = e.get("critical_since"), e.get("critical_reply_ts")
    return {
        "closed": e.get("closed") or 0,
        "opened": e.get("opened") or 0,
        "priority": e.get("priority") or "normal",
        "intent": e.get("intent") or "",
        "quick_exit": e.get("by") == "person",
        "ended": "the person left (quick exit)"
        if e.get("by") == "person"
        else "closed by an operator",
        "outcome": choice_label(annotate.OUTCOMES, e.get("outcome")),
        "exploitation": choice_label(annotate.EXPLOITATION, e.get("exploitation")),
        "minor": choice_label(annotate.MINOR, e.get("minor")),
        "reached_after": (reached - since) if since and reached else None,
        "latest": latest,
    }


@bp.context_processor
def helpers() -> dict[str, Any]:
    """Give every console template `contact_history` and the queue filter choices."""
    return {"contact_history": contact_history, "queue_filter_choices": choices}


# --- filters on the queue ---------------------------------------------------------------------

QUEUE_FILTERS = ("priority", "language", "channel", "mine", "unassigned")


def queue_filters() -> dict[str, str]:
    """The queue's filters from the query string: `priority`, `language`, `channel`, `mine=1`,
    `unassigned=1`. A value that does not fit is answered 400 with the reason (JSON for the
    API), as `?page=` is."""
    args = request.args
    out: dict[str, str] = {}
    problem = None
    for name in ("priority", "language", "channel"):
        value = (args.get(name) or "").strip().lower()
        if not value:
            continue
        ok = {
            "priority": value in store.PRIORITY_RANK,
            "channel": value in CHANNELS,
            "language": bool(_LANG.match(value)),
        }[name]
        if not ok:
            problem = f"'{name}' cannot be '{value[:20]}'."
        out[name] = value
    for name in ("mine", "unassigned"):
        value = (args.get(name) or "").strip().lower()
        if value in ("1", "yes", "on", "true"):
            out[name] = "1"
        elif value not in ("", "0", "no", "off", "false"):
            problem = f"'{name}' is 1 or absent."
    if problem:
        v.bad_request("bad_filter", problem)
    return out


def filtered_queue_view(page: int, filters: dict[str, str]) -> dict[str, Any]:
    """`views.queue_view` for a filtered queue: the same order and paging rule (page 1 holds
    every critical and high conversation that matches), counts of what matches. The overdue
    banner still counts every unclaimed critical conversation, filtered out or not."""
    r = v.redis()
    per_page = max(1, int(current_app.config["CONSOLE_QUEUE_PAGE_SIZE"]))
    if "priority" in filters:
        lo, hi = store.priority_band(filters["priority"])
        scored = r.zrange(store.QUEUE, lo, hi, byscore=True, withscores=True)
    else:
        scored = r.zrange(store.QUEUE, 0, -1, withscores=True)
    members = [(_text(c), s) for c, s in scored]
    if "channel" in filters:
        members = [(c, s) for c, s in members if c.partition(":")[0] == filters["channel"]]
    if {"language", "mine", "unassigned"} & set(filters):
        me = v.actor()
        kept = []
        found = fields_of(r, [cid for cid, _ in members], ("language", "claimed_by"))
        for (cid, score), (_, conv) in zip(members, found, strict=True):
            lang, holder = conv.get("language", ""), conv.get("claimed_by", "")
            if "language" in filters and lang != filters["language"]:
                continue
            if "mine" in filters and holder != me:
                continue
            if "unassigned" in filters and holder:
                continue
            kept.append((cid, score))
        members = kept
    counts = dict.fromkeys(store.PRIORITY_RANK, 0)
    names = list(store.PRIORITY_RANK)
    for _, score in members:
        counts[names[min(len(names) - 1, int(score // store.RANK_SPAN))]] += 1
    urgent = sum(counts[p] for p in store.URGENT)
    if page <= 1:
        chosen = members[: max(urgent, per_page)]
    else:
        start = max(per_page, urgent) + (page - 2) * per_page
        chosen = members[start : start + per_page]
    rows = store.queued_rows(r, [c for c, _ in chosen])
    refs = v.refs_for([row["cid"] for row in rows])
    now = time.time()
    out = [v.summary(row["cid"], refs[row["cid"]], row, now) for row in rows]
    every_urgent = store.queue_page(r, 1, 0, 0)  # all critical and high, for the banner
    total = len(members)
    return {
        "rows": sorted(out, key=lambda s: not s["overdue"]),
        "total": total,
        "counts": counts,
        "page": page,
        "pages": 1 + -(-max(0, total - max(per_page, urgent)) // per_page),
        "critical_waiting_since": sorted(
            float(row.get("waiting_since") or now)
            for row in every_urgent
            if v.unattended_critical(row)
        ),
        "filters": filters,
    }
