"""What operators write down about a conversation, and the canned answers they reply with.

None of it is ever sent to the person, nor shown to them: the web chat reads only the transcript
(`tl:log:{cid}`), and nothing here is written there.

- **Notes**: `tl:notes:{cid}`, a list of JSON `{ts, author, text, kind}` (kind `note`, or `wrapup`
  for the line each close with a wrap-up adds). It carries the conversation's hash tag, so erase
  deletes it and the sweep keeps it expiring with the conversation; each write sets it to expire
  exactly when the conversation hash does.
- **Tags**: the conversation hash's `tags` field, a JSON list of short texts (shown in the queue
  row, so they come with the `HGETALL` the queue already makes).
- **Wrap-up**: hash fields written on close: `outcome`, `exploitation`, `minor` (the keys of
  `OUTCOMES`, `EXPLOITATION`, `MINOR`), `wrapup_by`, `wrapup_ts`. A conversation that reopens
  keeps its last wrap-up until the next one replaces it; every wrap-up is also a note.
- **Canned answers**: the hash `tl:canned`, id -> JSON `{lang, title, text, by, ts}`, seeded
  once from `responses/canned/seed.yaml` (the field `_seeded` remembers it, so deleting every
  answer does not bring the seed back).
"""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bot import store
from bot.datafiles import DataError, load_file

MAX_NOTE = 2000
MAX_NOTES = 500  # the oldest go first beyond this
MAX_TAGS = 8
MAX_TAG = 40
MAX_TAG_WORDS = 5

OUTCOMES = {
    "referred_hotline": "Referred to the hotline",
    "emergency_called": "Emergency services called",
    "resources_sent": "Resources sent",
    "no_contact": "No contact",
    "other": "Other",
}
EXPLOITATION = {
    "labour": "Labour",
    "sex": "Sex",
    "both": "Both (labour and sex)",
    "other": "Other",
    "unclear": "Unclear",
}
MINOR = {"yes": "Yes", "no": "No", "unknown": "Unknown"}
WRAPUP_FIELDS = ("outcome", "exploitation", "minor", "wrapup_by", "wrapup_ts")


def notes_key(cid: str) -> str:
    """The Redis list of a conversation's notes (carrying its hash tag)."""
    return f"tl:notes:{{{cid}}}"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


# KEYS[1] the conversation hash, KEYS[2] its notes (same slot). ARGV: the note's JSON, the
# retention in ms (for a hash without a TTL), how many notes to keep. Nothing is written for a
# conversation that is gone (expired or erased): 0. The notes expire when the hash does.
_ADD_NOTE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[3]), -1)
local t = redis.call('PEXPIRETIME', KEYS[1])
if t > 0 then
  redis.call('PEXPIREAT', KEYS[2], t)
else
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
end
return 1
"""
# KEYS[1] the conversation hash; ARGV field, value pairs (value "" deletes the field). Only if
# the hash exists: a write must never recreate an expired or erased conversation without a TTL.
_HSET_IF_EXISTS = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 1, #ARGV, 2 do
  if ARGV[i + 1] == '' then
    redis.call('HDEL', KEYS[1], ARGV[i])
  else
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
return 1
"""


def _hset_if_exists(r: store.Client, cid: str, fields: dict[str, str]) -> bool:
    args = [x for pair in fields.items() for x in pair]
    return bool(r.eval(_HSET_IF_EXISTS, 1, store.conv_key(cid), *args))


# --- notes ------------------------------------------------------------------------------------


def add_note(
    r: store.Client, cid: str, author: str, text: str, retention_seconds: int, kind: str = "note"
) -> bool:
    """Add an internal note; False if the conversation no longer exists."""
    entry = json.dumps({"ts": time.time(), "author": author, "text": text, "kind": kind})
    done = r.eval(
        _ADD_NOTE,
        2,
        store.conv_key(cid),
        notes_key(cid),
        entry,
        retention_seconds * 1000,
        MAX_NOTES,
    )
    if done:
        r.incr(store.VERSION)  # consoles watching the conversation redraw
    return bool(done)


def notes(r: store.Client, cid: str) -> list[dict[str, Any]]:
    """The notes of a conversation, oldest first."""
    out = []
    for raw in r.lrange(notes_key(cid), 0, -1):
        try:
            item = json.loads(raw)
        except ValueError:
            continue
        if isinstance(item, dict) and item.get("text"):
            out.append(item)
    return out


def check_note(text: str) -> str | None:
    """Why a note cannot be saved, or None."""
    if not text.strip():
        return "The note is empty."
    if len(text) > MAX_NOTE:
        return f"A note holds at most {MAX_NOTE} characters."
    return None


# --- tags -------------------------------------------------------------------------------------


def parse_tags(raw: str) -> tuple[list[str], str | None]:
    """Comma-separated tags, tidied (spaces collapsed, duplicates dropped whatever their case);
    and why they cannot be saved, or None."""
    tags: list[str] = []
    for part in raw.split(","):
        tag = " ".join(part.split())
        if not tag or tag.casefold() in (t.casefold() for t in tags):
            continue
        if len(tag) > MAX_TAG or len(tag.split()) > MAX_TAG_WORDS:
            return [], (
                f"A tag is a few words: at most {MAX_TAG_WORDS} words and {MAX_TAG} "
                f"characters (“{tag[:MAX_TAG]}…” is longer)."
            )
        tags.append(tag)
    if len(tags) > MAX_TAGS:
        return [], f"At most {MAX_TAGS} tags on a conversation."
    return tags, None


def set_tags(r: store.Client, cid: str, tags: list[str]) -> bool:
    """Replace the conversation's tags (none: remove them); False if it no longer exists."""
    done = _hset_if_exists(r, cid, {"tags": json.dumps(tags) if tags else ""})
    if done:
        r.incr(store.VERSION)
    return done


def tags_of(row: dict[str, str]) -> list[str]:
    """The tags of a conversation, from its hash (as the queue reads it)."""
    try:
        tags = json.loads(row.get("tags") or "[]")
    except ValueError:
        return []
    return [str(t) for t in tags] if isinstance(tags, list) else []


# --- wrap-up ----------------------------------------------------------------------------------


def read_wrapup(form: Any, *, required: bool) -> tuple[dict[str, str], str | None]:
    """The wrap-up from a close form: ({} when none was given and none is required), or why it
    cannot be used. The outcome is what makes a wrap-up; exploitation and minor default to
    unclear and unknown."""
    outcome = (form.get("outcome") or "").strip()
    exploitation = (form.get("exploitation") or "").strip() or "unclear"
    minor = (form.get("minor") or "").strip() or "unknown"
    if not outcome:
        if required:
            return {}, "Choose the outcome of this conversation before closing it."
        return {}, None
    if outcome not in OUTCOMES:
        return {}, "Unknown outcome: choose one of the list."
    if exploitation not in EXPLOITATION:
        return {}, "Unknown kind of exploitation: choose one of the list."
    if minor not in MINOR:
        return {}, "Was a minor involved? Choose yes, no or unknown."
    return {"outcome": outcome, "exploitation": exploitation, "minor": minor}, None


def wrapup_summary(wrap: dict[str, str]) -> str:
    """One line for the audit log and the notes (categories only: nothing identifying)."""
    if not wrap:
        return ""
    return (
        f"outcome: {OUTCOMES[wrap['outcome']]}; exploitation: "
        f"{EXPLOITATION[wrap['exploitation']]}; minor involved: {MINOR[wrap['minor']]}"
    )


def save_wrapup(
    r: store.Client, cid: str, wrap: dict[str, str], by: str, retention_seconds: int
) -> bool:
    """Store the wrap-up on the conversation hash, and as a note."""
    if not wrap:
        return False
    fields = {**wrap, "wrapup_by": by, "wrapup_ts": repr(time.time())}
    if not _hset_if_exists(r, cid, fields):
        return False
    add_note(r, cid, by, "Closed. " + wrapup_summary(wrap) + ".", retention_seconds, kind="wrapup")
    return True


def wrapup_of(conv: dict[str, str]) -> dict[str, Any] | None:
    """The last wrap-up of a conversation, in words, or None."""
    outcome = conv.get("outcome")
    if outcome not in OUTCOMES:
        return None
    return {
        "outcome": OUTCOMES[outcome],
        "exploitation": EXPLOITATION.get(conv.get("exploitation") or "", "Unclear"),
        "minor": MINOR.get(conv.get("minor") or "", "Unknown"),
        "by": conv.get("wrapup_by") or "",
        "ts": float(conv.get("wrapup_ts") or 0),
    }


# --- canned answers ---------------------------------------------------------------------------

CANNED = "tl:canned"
SEEDED = "_seeded"
MAX_TITLE = 80
MAX_CANNED_TEXT = 1600  # an operator reply's limit
_LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
_ID = re.compile(r"^[0-9a-f]{12}$")
PLACEHOLDERS = ("emergency", "crisis", "hotline", "textline")


@dataclass
class Canned:
    """One canned answer in one language, with who saved it last and when."""

    id: str
    lang: str
    title: str
    text: str
    by: str = ""
    ts: float = 0.0

    def to_json(self) -> str:
        """The answer as stored in `tl:canned` (the id is the hash field, not part of the JSON)."""
        return json.dumps({k: v for k, v in asdict(self).items() if k != "id"})

    @classmethod
    def from_json(cls, cid: str, raw: str | bytes) -> Canned:
        """The answer stored under `cid` (see `to_json`); ValueError, KeyError or TypeError if
        `raw` is not one."""
        data = json.loads(raw)
        return cls(
            cid,
            data["lang"],
            data["title"],
            data["text"],
            data.get("by", ""),
            float(data.get("ts") or 0),
        )


def check_canned(lang: str, title: str, text: str) -> str | None:
    """Why a canned answer cannot be saved, or None."""
    if not _LANG.match(lang):
        return "Choose the language of the answer."
    if not title.strip():
        return "The title is empty: it is what operators type after / to find the answer."
    if len(title) > MAX_TITLE:
        return f"A title holds at most {MAX_TITLE} characters."
    if not text.strip():
        return "The text is empty."
    if len(text) > MAX_CANNED_TEXT:
        return f"The text holds at most {MAX_CANNED_TEXT} characters (one operator reply)."
    try:
        text.format(**dict.fromkeys(PLACEHOLDERS, ""))
    except (KeyError, IndexError, ValueError) as exc:
        return (
            "The text has a placeholder that cannot be filled "
            f"({exc}): use {{emergency}}, {{crisis}}, {{hotline}} or {{textline}}, "
            "and no other braces."
        )
    return None


def load_seed(path: Path) -> list[Canned]:
    """The starting set from `responses/canned/seed.yaml`; DataError names what is wrong."""
    doc = load_file(path)
    answers = doc.get("answers") if isinstance(doc, dict) else None
    if not isinstance(answers, list):
        raise DataError(path, "expected a mapping with an 'answers' list", 1)
    out = []
    for n, item in enumerate(answers, 1):
        if not isinstance(item, dict) or not isinstance(item.get("title"), str):
            raise DataError(path, f"answer {n} needs a title")
        title = " ".join(item["title"].split())
        for lang, text in item.items():
            if lang == "title":
                continue
            text = " ".join(str(text).split())
            problem = check_canned(str(lang), title, text)
            if problem:
                raise DataError(path, f"answer {n} ({title}, {lang}): {problem}")
            out.append(Canned(new_id(), str(lang), title, text, by="seed"))
    return out


def new_id() -> str:
    """A fresh random canned-answer id (12 hex digits)."""
    return secrets.token_hex(6)


def ensure_seeded(r: store.Client, seed_path: Path) -> None:
    """Copy the seed into Redis the first time (one worker of all wins `HSETNX`)."""
    if r.hexists(CANNED, SEEDED):
        return
    seed = load_seed(seed_path) if seed_path.is_file() else []
    if r.hsetnx(CANNED, SEEDED, repr(time.time())) and seed:
        r.hset(CANNED, mapping={c.id: c.to_json() for c in seed})


def all_canned(r: store.Client) -> list[Canned]:
    """Every canned answer, by title then language."""
    out = []
    for key, raw in r.hgetall(CANNED).items():
        cid = _text(key)
        if not _ID.match(cid):
            continue
        try:
            out.append(Canned.from_json(cid, raw))
        except (ValueError, KeyError, TypeError):
            continue
    return sorted(out, key=lambda c: (c.title.casefold(), c.lang))


def get_canned(r: store.Client, cid: str) -> Canned | None:
    """One canned answer, or None if the id is malformed or unknown."""
    if not _ID.match(cid):
        return None
    raw = r.hget(CANNED, cid)
    return None if raw is None else Canned.from_json(cid, raw)


def put_canned(r: store.Client, answer: Canned) -> None:
    """Save a canned answer under its id, adding or replacing it."""
    r.hset(CANNED, answer.id, answer.to_json())


def delete_canned(r: store.Client, cid: str) -> bool:
    """Delete a canned answer; False if the id is malformed or was not there."""
    return bool(_ID.match(cid) and r.hdel(CANNED, cid))


def language_first(answers: list[Canned], language: str) -> list[Canned]:
    """The conversation's language first, then English, then the others (each by title)."""

    def rank(c: Canned) -> int:
        if c.lang == language:
            return 0
        return 1 if c.lang == "en" else 2

    return sorted(answers, key=lambda c: (rank(c), c.lang, c.title.casefold()))
