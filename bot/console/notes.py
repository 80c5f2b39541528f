"""Internal notes and tags on a conversation, and what the conversation page shows of them and of
the wrap-up. Never sent, never shown to the person (stored apart from the transcript:
bot/console/annotate.py). Any operator may write them, holder or not, open or closed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Response, flash, request
from flask_login import login_required

from bot import store
from bot.console import annotate, bp, privacy
from bot.console.views import actor, back, lookup, note, redis, retention


@bp.post("/c/<ref>/notes")
@login_required
def add_note(ref: str) -> Response:
    """Add an operator note to the conversation (audited by length, never its text)."""
    cid, conv = lookup(ref)
    text = request.form.get("note", "").strip()
    problem = annotate.check_note(text)
    if problem:
        flash(problem, "error")
    elif annotate.add_note(redis(), cid, actor(), text, retention()):
        note("note", ref, cid, conv, note=f"{len(text)} characters")  # never the text itself
        flash("Note saved (only operators see it).", "ok")
    else:
        flash("This conversation no longer exists: the note was not saved.", "error")
    return back(ref)


@bp.post("/c/<ref>/tags")
@login_required
def set_tags(ref: str) -> Response:
    """Replace the conversation's tags (audited by count, never the words)."""
    cid, conv = lookup(ref)
    tags, problem = annotate.parse_tags(request.form.get("tags", ""))
    if problem:
        flash(problem, "error")
    elif annotate.set_tags(redis(), cid, tags):
        note("tags", ref, cid, conv, note=f"{len(tags)} tag(s)")  # the words may identify
        flash("Tags saved." if tags else "Tags removed.", "ok")
    else:
        flash("This conversation no longer exists: the tags were not saved.", "error")
    return back(ref)


@bp.app_template_global()
def conversation_notes(ref: str) -> dict[str, Any]:
    """For the conversation page: its notes (newest last) and its last wrap-up."""
    cid = privacy.resolve(redis(), ref)
    if not cid:
        return {"notes": [], "wrapup": None}
    found = annotate.notes(redis(), cid)
    wrapup = annotate.wrapup_of(store.conversation(redis(), cid))
    for item in [*found, *([wrapup] if wrapup else [])]:
        item["ts"] = float(item.get("ts") or 0)
        item["iso"] = datetime.fromtimestamp(item["ts"], UTC).isoformat(timespec="seconds")
    return {"notes": found, "wrapup": wrapup}


@bp.app_template_global()
def wrapup_choices() -> dict[str, dict[str, str]]:
    """The close form's choices."""
    return {
        "outcome": annotate.OUTCOMES,
        "exploitation": annotate.EXPLOITATION,
        "minor": annotate.MINOR,
    }
