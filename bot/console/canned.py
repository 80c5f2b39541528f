"""Canned answers: admins manage them at `/console/canned`; operators pick them in the reply box.

Stored in Redis (bot/console/annotate.py), seeded from `responses/canned/seed.yaml` the first
time; every change is in the audit log. `GET /console/api/canned?lang=es` gives every answer with
the configured numbers filled in, the conversation's language first.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from flask import Response, abort, current_app, flash, jsonify, redirect, render_template, request
from flask import url_for as url
from flask_login import login_required

from bot import audit, services
from bot.console import annotate, bp
from bot.console.annotate import Canned
from bot.console.views import actor, admin_required, redis
from bot.datafiles import DataError
from bot.replies import fill

log = logging.getLogger(__name__)
FIRST_LANGUAGES = ("en", "es", "fr")


def seeded() -> list[Canned]:
    """Every canned answer, after copying the seed into Redis if it never was."""
    path = Path(current_app.config["RESPONSES_DIR"]) / "canned" / "seed.yaml"
    try:
        annotate.ensure_seeded(redis(), path)
    except DataError as exc:
        log.error("canned answers not seeded: %s", exc)
    return annotate.all_canned(redis())


def languages(answers: list[Canned]) -> list[str]:
    """The languages an answer may be written in: those with replies, and those in use."""
    replies = services.line().content.replies or {}
    known = set(replies) | {a.lang for a in answers} | set(FIRST_LANGUAGES)
    return [*FIRST_LANGUAGES, *sorted(known - set(FIRST_LANGUAGES))]


def filled(text: str) -> str:
    """`text` with the configured numbers filled in (as saved if it cannot be filled)."""
    try:
        return fill(text, services.line().numbers)
    except (KeyError, IndexError, ValueError):  # checked on save; never break the reply box
        return text


@bp.get("/api/canned")
@login_required
def canned_api() -> Response:
    """Every canned answer with the numbers filled in; `?lang=` first, then English."""
    language = request.args.get("lang", "")[:16]
    answers = annotate.language_first(seeded(), language)
    return jsonify(
        language=language,
        answers=[
            {"id": a.id, "lang": a.lang, "title": a.title, "text": filled(a.text)} for a in answers
        ],
    )


def form_fields() -> tuple[str, str, str]:
    """The submitted language, title (spaces collapsed) and text."""
    form = request.form
    return (
        form.get("lang", "").strip(),
        " ".join(form.get("title", "").split()),
        form.get("text", "").strip(),
    )


def render_page(status: int = 200, **context: object) -> tuple[str, int]:
    """The canned answers page with `context` (an error, the rejected draft), as `status`."""
    answers = seeded()
    return render_template(
        "console/canned.html",
        answers=answers,
        languages=languages(answers),
        filled=filled,
        draft=context.pop("draft", None) or {},
        **context,
    ), status


@bp.get("/canned")
@admin_required
def canned_page() -> tuple[str, int]:
    """Every canned answer, with the form to add one."""
    return render_page()


@bp.post("/canned")
@admin_required
def canned_add() -> Response | tuple[str, int]:
    """Add the submitted canned answer and audit it; the form again, with why, if invalid."""
    lang, title, text = form_fields()
    problem = annotate.check_canned(lang, title, text)
    if problem:
        return render_page(400, error=problem, draft={"lang": lang, "title": title, "text": text})
    answer = Canned(annotate.new_id(), lang, title, text, by=actor(), ts=time.time())
    annotate.put_canned(redis(), answer)
    audit.record(redis(), actor(), "canned_add", note=f"{lang}: {title}")
    flash(f"Added “{title}” ({lang}).", "ok")
    return redirect(url("console.canned_page"), code=303)


def existing(answer_id: str) -> Canned:
    """The canned answer; 404 if it was deleted meanwhile."""
    answer = annotate.get_canned(redis(), answer_id)
    if answer is None:
        abort(404, "This canned answer no longer exists (deleted by another admin?).")
    return answer


@bp.get("/canned/<answer_id>")
@admin_required
def canned_edit_page(answer_id: str) -> str:
    """The form to edit one canned answer."""
    answer = existing(answer_id)
    return render_template(
        "console/canned_edit.html", answer=answer, languages=languages(seeded()), filled=filled
    )


@bp.post("/canned/<answer_id>")
@admin_required
def canned_edit(answer_id: str) -> Response | tuple[str, int]:
    """Save the edited canned answer, auditing which parts changed; the form again if invalid."""
    answer = existing(answer_id)
    lang, title, text = form_fields()
    problem = annotate.check_canned(lang, title, text)
    if problem:
        draft = Canned(answer.id, lang, title, text, answer.by, answer.ts)
        return render_template(
            "console/canned_edit.html",
            answer=draft,
            error=problem,
            languages=languages(seeded()),
            filled=filled,
        ), 400
    changed = [
        name
        for name, old, new in (
            ("language", answer.lang, lang),
            ("title", answer.title, title),
            ("text", answer.text, text),
        )
        if old != new
    ]
    if changed:
        annotate.put_canned(redis(), Canned(answer.id, lang, title, text, actor(), time.time()))
        audit.record(
            redis(), actor(), "canned_edit", note=f"{lang}: {title} ({', '.join(changed)} changed)"
        )
        flash(f"Saved “{title}” ({lang}).", "ok")
    else:
        flash("Nothing changed.", "ok")
    return redirect(url("console.canned_page"), code=303)


@bp.post("/canned/<answer_id>/delete")
@admin_required
def canned_delete(answer_id: str) -> Response:
    """Delete a canned answer and audit it."""
    answer = existing(answer_id)
    if annotate.delete_canned(redis(), answer.id):
        audit.record(redis(), actor(), "canned_delete", note=f"{answer.lang}: {answer.title}")
        flash(f"Deleted “{answer.title}” ({answer.lang}).", "ok")
    return redirect(url("console.canned_page"), code=303)
