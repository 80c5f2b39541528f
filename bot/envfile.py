"""The repository's `.env`, read the way `./run` reads it, for every other way in.

`./run` sources `.env` from the repository root before starting gunicorn. The other ways in
(`flask --app app operators ...`, `python -m bot sweep`) call `load()` before the app reads its
settings, so an account lands in the same Redis (or the same embedded Valkey under `DATA_DIR`)
as the running line. Differences from the shell, on purpose: a variable already set in the
environment is kept (so a one-off `REDIS_URL=... flask ...` still works), nothing is executed,
and `$NAME`/`${NAME}` are expanded from the environment only. A relative `DATA_DIR`,
`INTENTS_DIR` or `RESPONSES_DIR` is taken from the `.env`'s directory, as `./run` (which runs
there) does.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / ".env"
PATHS = ("DATA_DIR", "INTENTS_DIR", "RESPONSES_DIR")
_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")


def _expand(text: str, seen: dict[str, str]) -> str:
    def lookup(match: re.Match[str]) -> str:
        name = match[1] or match[2]
        return os.environ.get(name, seen.get(name, ""))  # the environment wins, as in load()

    return _VAR.sub(lookup, text)


def _value(raw: str, seen: dict[str, str]) -> str:
    raw = raw.strip()
    if raw.startswith("'"):
        return raw[1:].partition("'")[0]
    if raw.startswith('"'):
        body = re.match(r'"((?:[^"\\]|\\.)*)"', raw)
        inner = body[1] if body else raw[1:]
        return _expand(re.sub(r'\\([\\"$`])', r"\1", inner), seen)
    return _expand(re.split(r"\s+#", raw, maxsplit=1)[0].strip(), seen)


def parse(text: str) -> dict[str, str]:
    """`KEY=value` lines (`export` allowed, `#` comments, '...' and "..." quoting)."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        match = _LINE.match(line)
        if match and not line.lstrip().startswith("#"):
            found[match[1]] = _value(match[2], found)
    return found


def load(path: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """Set the variables of `path` (default: `.env` at the repository root) that the
    environment does not already have; returns those set. No file: nothing happens."""
    env_file = Path(path) if path is not None else DEFAULT
    try:
        text = env_file.read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError):
        return {}
    applied = {}
    for key, value in parse(text).items():
        if key in os.environ:
            continue
        if key in PATHS and value and not os.path.isabs(value):
            value = str((env_file.parent / value).resolve())
        os.environ[key] = applied[key] = value
    return applied
