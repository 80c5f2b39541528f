"""Load the YAML/JSON data files in `intents/` and `responses/`, naming file and line on error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

# libyaml's parser when PyYAML was built with it (several times faster), else the pure one
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class DataError(ValueError):
    """A data file that cannot be used; `str()` names the file and, where known, the line."""

    def __init__(self, path: Path | str, message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {message}")


def load_file(path: Path) -> Any:
    """Parse one `.yaml`/`.yml`/`.json` file; a malformed one raises DataError naming its line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(path, f"cannot read: {exc}") from exc
    if path.suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(path, exc.msg, exc.lineno) from exc
    try:
        return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise DataError(path, f"invalid YAML: {problem}", line) from exc


def data_files(directory: Path) -> list[Path]:
    """The data files of a directory, sorted, so loading order never depends on the file system."""
    return sorted(
        p for p in directory.iterdir() if p.suffix in {".yaml", ".yml", ".json"} and p.is_file()
    )


def line_of(path: Path, needle: str) -> int | None:
    """The first line of `path` that mentions `needle`, to point an error at a key."""
    try:
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if needle in text:
                return number
    except (OSError, UnicodeDecodeError):
        return None
    return None
