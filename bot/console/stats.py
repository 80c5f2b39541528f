"""See the shift: `/console/stats` and its CSV export (admins).

Everything comes from counters and indexes kept as messages arrive (bot/history.py), never from
transcripts: the hourly counter hashes give the volume by hour, intent, language and channel;
`tl:critical` gives the critical episodes (when each became critical, when a person first
answered), `tl:closed` the closed ones (quick exits, wrap-up outcomes), the queue what is open
and overdue now. A few dozen pipelined reads however many conversations are kept.
"""

from __future__ import annotations

import math
import statistics
import time
from datetime import UTC, datetime
from typing import Any

from flask import abort, current_app, render_template, request
from flask_login import login_required

from bot import audit, history, store
from bot.console import annotate, bp
from bot.console import search as s
from bot.console import views as v

WINDOWS = {8: "last 8 hours", 24: "last 24 hours", 168: "last 7 days"}
WITHIN = 300  # seconds: Crisis Text Line reaches 94 % of high-risk texters within 5 minutes
CRITICAL_FIELDS = ("critical_since", "critical_reply_ts", *history.EPISODE_FIELDS)


def requested_hours() -> int:
    """The `hours` the figures cover (24 by default); 400 if it is not one of `WINDOWS`."""
    raw = (request.values.get("hours") or "24").strip()
    if not raw.isdigit() or int(raw) not in WINDOWS:
        abort(400, f"'hours' is one of {', '.join(map(str, WINDOWS))}.")
    return int(raw)


def _convs(r: store.Client, cids: list[str], names: tuple[str, ...]) -> list[dict[str, str]]:
    return [conv for _, conv in s.fields_of(r, cids, names)]


def percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile (the 90th: 9 in 10 values are at most this)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def figures(r: store.Client, now: float, hours: int, overdue_after: int) -> dict[str, Any]:
    """The shift's figures over the last `hours` (the current hour and the ones before)."""
    first = int(now // 3600 * 3600) - (hours - 1) * 3600
    starts = [first + i * 3600 for i in range(hours)]
    pipe = r.pipeline(transaction=False)
    for start in starts:
        pipe.hgetall(history.stats_key(start))
    pipe.zrangebyscore(history.CRITICAL, first, "+inf")
    pipe.zrangebyscore(history.CLOSED, first, "+inf")
    replies = pipe.execute()
    buckets = [{s._text(k): int(x) for k, x in raw.items()} for raw in replies[:hours]]
    critical_cids = [s._text(c) for c in replies[hours]]
    closed_cids = [s._text(c) for c in replies[hours + 1]]

    hourly, totals = [], {"in": 0, "new": 0, "critical": 0}
    groups: dict[str, dict[str, int]] = {"intent": {}, "lang": {}, "chan": {}}
    for start, bucket in zip(starts, buckets, strict=True):
        hourly.append(
            {
                "ts": start,
                "in": bucket.get("in", 0),
                "new": bucket.get("new", 0),
                "critical": bucket.get("critical", 0),
            }
        )
        for name, n in bucket.items():
            if name in totals:
                totals[name] += n
            group, _, key = name.partition(":")
            if key and group in groups:
                groups[group][key] = groups[group].get(key, 0) + n

    counts = store.queue_counts(r)
    urgent_rows = store.queue_page(r, 1, 0, 0)  # every critical and high conversation
    overdue_now = sum(
        1
        for row in urgent_rows
        if v.unattended_critical(row)
        and now - float(row.get("waiting_since") or now) > overdue_after
    )
    return {
        "hours": hours,
        "since": first,
        "now": now,
        "hourly": hourly,
        "peak_hour": max([h["in"] for h in hourly] + [1]),
        "totals": totals,
        "by_intent": _ranked(groups["intent"]),
        "by_language": _ranked(groups["lang"]),
        "by_channel": _ranked(groups["chan"]),
        "open": counts,
        "open_total": sum(counts.values()),
        "overdue_now": overdue_now,
        "critical": _critical(_convs(r, critical_cids, CRITICAL_FIELDS), first, now, overdue_after),
        "closed": _closed(_convs(r, closed_cids, history.EPISODE_FIELDS), first),
        "overdue_after": overdue_after,
        "overdue_label": f"{overdue_after // 60} min"
        if overdue_after % 60 == 0
        else f"{overdue_after} s",
    }


def _ranked(counts: dict[str, int]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def _critical(
    convs: list[dict[str, str]], since: float, now: float, overdue_after: int
) -> dict[str, Any]:
    """Critical episodes that began since `since`: how soon a person first answered each."""
    episodes = []  # (became critical, first human reply or None, still open)
    for conv in convs:
        for e in history.episodes(conv):
            if (e.get("critical_since") or 0) >= since:
                episodes.append((e["critical_since"], e.get("critical_reply_ts"), False))
        began = history.to_float(conv.get("critical_since"))
        if conv.get("status") == "open" and began and began >= since:
            episodes.append((began, history.to_float(conv.get("critical_reply_ts")), True))
    delays = [reply - began for began, reply, _ in episodes if reply]
    waiting = [now - began for began, reply, open_ in episodes if not reply and open_]
    missed = sum(1 for _, reply, open_ in episodes if not reply and not open_)
    # waiting less than 5 minutes: not yet a miss, nor a success
    judged = len(delays) + missed + sum(1 for w in waiting if w > WITHIN)
    fast = sum(1 for d in delays if d <= WITHIN)
    late = (
        sum(1 for d in delays if d > overdue_after)
        + missed
        + sum(1 for w in waiting if w > overdue_after)
    )
    return {
        "episodes": len(episodes),
        "reached": len(delays),
        "waiting": len(waiting),
        "missed": missed,
        "median": statistics.median(delays) if delays else None,
        "p90": percentile(delays, 0.9),
        "within": fast,
        "judged": judged,
        "share": fast / judged if judged else None,
        "late": late,
    }


def _closed(convs: list[dict[str, str]], since: float) -> dict[str, Any]:
    """Episodes closed since `since`: how they ended and their wrap-up."""
    closed = quick = wrapped = 0
    outcome: dict[str, int] = {}
    exploitation: dict[str, int] = {}
    minor: dict[str, int] = {}
    for conv in convs:
        for e in history.episodes(conv):
            if (e.get("closed") or 0) < since:
                continue
            closed += 1
            quick += e.get("by") == "person"
            if e.get("outcome"):
                wrapped += 1
                for counter, name, choices in (
                    (outcome, "outcome", annotate.OUTCOMES),
                    (exploitation, "exploitation", annotate.EXPLOITATION),
                    (minor, "minor", annotate.MINOR),
                ):
                    if e.get(name):
                        key = s.choice_label(choices, e[name])
                        counter[key] = counter.get(key, 0) + 1
    return {
        "closed": closed,
        "quick_exits": quick,
        "wrapped": wrapped,
        "outcome": _ranked(outcome),
        "exploitation": _ranked(exploitation),
        "minor": _ranked(minor),
    }


def duration(seconds: float | None) -> str:
    """A duration as the stats page words it; a dash when there is none."""
    if seconds is None:
        return "–"
    return v.ago(seconds)


def share(value: float | None) -> str:
    """A fraction as a whole percentage; a dash when there is none."""
    return "–" if value is None else f"{value:.0%}"


@bp.get("/stats")
@login_required
def stats_page() -> str:
    """The shift's figures over the requested window."""
    hours = requested_hours()
    f = figures(v.redis(), time.time(), hours, int(current_app.config["OVERDUE_SECONDS"]))
    return render_template(
        "console/stats.html",
        f=f,
        windows=WINDOWS,
        duration=duration,
        share=share,
        within_minutes=WITHIN // 60,
    )


@bp.post("/stats/export.csv")
@v.admin_required
def export_stats() -> Any:
    """The figures of the page as CSV (no conversation, no number, no text); audit-logged."""
    hours = requested_hours()
    now = time.time()
    f = figures(v.redis(), now, hours, int(current_app.config["OVERDUE_SECONDS"]))
    rows: list[list[Any]] = [["section", "name", "value"]]
    rows.append(["window", "from_utc", s.iso(f["since"])])
    rows.append(["window", "to_utc", s.iso(now)])
    for name, n in f["totals"].items():
        rows.append(
            [
                "totals",
                {"in": "messages", "new": "new_conversations", "critical": "became_critical"}[name],
                n,
            ]
        )
    for h in f["hourly"]:
        when = datetime.fromtimestamp(h["ts"], UTC).strftime("%Y-%m-%dT%H:00Z")
        rows += [["hour_messages", when, h["in"]], ["hour_new_conversations", when, h["new"]]]
    for section in ("by_intent", "by_language", "by_channel"):
        rows += [[section, k, n] for k, n in f[section]]
    rows += [["open_now", k, n] for k, n in f["open"].items()]
    rows.append(["overdue", "critical_unclaimed_now", f["overdue_now"]])
    c = f["critical"]
    rows.append(["overdue", "critical_reached_late_or_never", c["late"]])
    for name in ("episodes", "reached", "waiting", "missed", "within", "judged"):
        rows.append(["critical_first_human_reply", name, c[name]])
    for name in ("median", "p90"):
        value = c[name]
        rows.append(
            [
                "critical_first_human_reply",
                f"{name}_seconds",
                "" if value is None else round(value, 1),
            ]
        )
    rows.append(
        [
            "critical_first_human_reply",
            f"share_within_{WITHIN // 60}_minutes",
            "" if c["share"] is None else round(c["share"], 4),
        ]
    )
    closed = f["closed"]
    for name in ("closed", "quick_exits", "wrapped"):
        rows.append(["closed", name, closed[name]])
    for section in ("outcome", "exploitation", "minor"):
        rows += [[section, k, n] for k, n in closed[section]]
    audit.record(v.redis(), v.actor(), "export_stats", note=f"{WINDOWS[hours]}")
    return s.csv_response(rows, "shift-figures")


@bp.app_template_filter("utc_hour")
def utc_hour(ts: float, full: bool = False) -> str:
    """The hour of a timestamp in UTC (`HH:00`; with the date if `full`), for templates."""
    return datetime.fromtimestamp(float(ts), UTC).strftime("%Y-%m-%d %H:00" if full else "%H:00")


@bp.app_template_filter("utc_day")
def utc_day(ts: float) -> str:
    """The UTC date of a timestamp (`YYYY-MM-DD`), for templates."""
    return datetime.fromtimestamp(float(ts), UTC).strftime("%Y-%m-%d")
