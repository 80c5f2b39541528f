"""Reply texts per language, loaded from `responses/`, with a built-in fallback that cannot fail."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from bot.datafiles import DataError, data_files, line_of, load_file
from bot.schemas import INTERPRETER_LINES, reply_file

log = logging.getLogger(__name__)

HOTLINE = "1-888-373-7888"
TEXTLINE = "233733"
Replies = dict[str, dict[str, str]]


def fallback_text(emergency_number: str, *, danger: bool) -> str:
    """The reply sent when anything else fails: hotline always, emergency number first in danger."""
    hotline = f"National Human Trafficking Hotline: {HOTLINE}, text {TEXTLINE} (24/7)."
    if danger:
        return f"If you are in danger now, call {emergency_number}. {hotline}"
    return f"{hotline} In danger now? Call {emergency_number}."


def load_responses(directory: Path, intents: tuple[str, ...] | None) -> Replies:
    """Read `responses/<lang>.yaml`, a reply for each of `intents` (the contract's; None when it
    cannot be read: any reply names) and the extra replies; raise DataError naming the file (and
    line) of any problem."""
    directory = Path(directory)
    if not directory.is_dir():
        raise DataError(directory, "responses directory not found")
    replies: Replies = {}
    read_from: dict[str, Path] = {}
    for path in data_files(directory):
        # every required reply, non-empty, with known placeholders: bot/schemas.py
        doc = load_file(path, reply_file(tuple(intents) if intents is not None else None))
        lang = str(doc.get("language") or path.stem)
        if lang in replies:
            raise DataError(
                path,
                f"language {lang} has replies in {read_from[lang].name} too",
                line_of(path, "language:"),
            )
        replies[lang] = {str(k): " ".join(v.split()) for k, v in doc["replies"].items()}
        read_from[lang] = path
    if "en" not in replies:
        raise DataError(directory, "no English replies (en.yaml)")
    return replies


@dataclass(frozen=True)
class Numbers:
    """The emergency and crisis numbers filled into replies (from the configuration)."""

    emergency: str = "911"
    crisis: str = "988"


def load_interpreter_lines(directory: Path) -> dict[str, str]:
    """`responses/interpreters/lines.yaml`: per language without replies, one sentence in that
    language saying the hotline has interpreters. Empty if the file is absent."""
    path = Path(directory) / "interpreters" / "lines.yaml"
    if not path.is_file():
        return {}
    lines = load_file(path, INTERPRETER_LINES)["lines"]
    return {str(k): " ".join(str(v).split()) for k, v in lines.items()}


def reply_text(
    replies: Replies,
    key: str,
    language: str,
    numbers: Numbers,
    interpreter: str | None = None,
) -> str:
    """The reply for `key` in `language`. A language without replies gets English, followed by
    `interpreter` (the interpreter line, in that language when we have it) when given."""
    if language in replies:
        texts = replies[language]
        return fill(texts.get(key, replies["en"][key]), numbers)
    english = replies["en"][key]
    return fill(f"{english} {interpreter}" if interpreter else english, numbers)


def fill(text: str, numbers: Numbers) -> str:
    """`text` with {emergency}, {crisis}, {hotline} and {textline} filled in (the reply files'
    placeholders; also the console's canned answers)."""
    return text.format(
        emergency=numbers.emergency, crisis=numbers.crisis, hotline=HOTLINE, textline=TEXTLINE
    )


def interpreter_line(replies: Replies, lines: dict[str, str], language: str) -> str:
    """The interpreter line for a language without replies: its own if known, else English."""
    return lines.get(language) or replies["en"]["interpretation"]
