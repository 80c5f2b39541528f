"""Load the YAML/JSON data files in `intents/` and `responses/`, naming file and line on error."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from yaml.representer import SafeRepresenter

from bot.schemas import Schema, validate

# libyaml's parser when PyYAML was built with it (several times faster), else the pure one
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE = "tag:yaml.org,2002:merge"  # `<<: *defaults` merges a mapping in: not a key given twice


class DataError(ValueError):
    """A data file that cannot be used; `str()` names the file and, where known, the line."""

    def __init__(self, path: Path | str, message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {message}")


def load_file(path: Path, schema: Schema | None = None) -> Any:
    """Parse one `.yaml`/`.yml`/`.json` file and check it against `schema` (when given); a
    malformed file, a key given twice or a schema problem raises DataError naming its line."""
    data, problems = _read(Path(path), schema)
    if problems:
        raise problems[0]
    return data


def check_file(path: Path, schema: Schema | None = None) -> list[DataError]:
    """Every problem of one file (parse error, keys given twice, schema), each with its line."""
    return _read(Path(path), schema)[1]


def _read(path: Path, schema: Schema | None) -> tuple[Any, list[DataError]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [DataError(path, f"cannot read: {exc}")]
    if path.suffix == ".json":
        return _read_json(path, text, schema)
    loader = _LOADER(text)
    try:
        node = loader.get_single_node()
        problems = sorted(
            duplicate_keys(node) + (validate(node, schema) if schema else []),
            key=lambda problem: problem[0],
        )
        data = None
        if not problems and node is not None:
            data = loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        return None, [DataError(path, f"invalid YAML: {problem}", line)]
    finally:
        loader.dispose()
    return data, [DataError(path, message, line) for line, message in problems]


def _read_json(path: Path, text: str, schema: Schema | None) -> tuple[Any, list[DataError]]:
    """A JSON file gets the same checks, without lines (the parser does not give them)."""
    twice: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict:
        keys = [k for k, _ in items]
        twice.extend(k for n, k in enumerate(keys) if k in keys[:n])
        return dict(items)

    try:
        data = json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        return None, [DataError(path, exc.msg, exc.lineno)]
    problems = [DataError(path, f"duplicate key {key!r}") for key in twice]
    if schema:
        node = SafeRepresenter(sort_keys=False).represent_data(data)
        problems += [DataError(path, message) for _, message in validate(node, schema)]
    return (None if problems else data), problems


def duplicate_keys(node: yaml.Node | None) -> list[tuple[int, str]]:
    """Keys given twice in one mapping, anywhere in `node` (YAML would keep the last one
    silently), each at the line of its second occurrence."""
    problems: list[tuple[int, str]] = []
    stack: list[tuple[yaml.Node, str]] = [(node, "")] if node is not None else []
    seen: set[int] = set()
    while stack:
        node, where = stack.pop()
        if id(node) in seen:  # an alias repeats a node: check it once
            continue
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend((item, f"{where}[{n}]") for n, item in enumerate(node.value))
        elif isinstance(node, yaml.MappingNode):
            first: dict[tuple[str, str], int] = {}
            for key, value in node.value:
                if not isinstance(key, yaml.ScalarNode) or key.tag == _MERGE:
                    continue
                line = key.start_mark.line + 1
                if (key.tag, key.value) in first:
                    inside = f" in {where}" if where else ""
                    problems.append(
                        (
                            line,
                            f"duplicate key {key.value!r}{inside} (first on line "
                            f"{first[key.tag, key.value]})",
                        )
                    )
                else:
                    first[key.tag, key.value] = line
                stack.append((value, f"{where}.{key.value}" if where else str(key.value)))
    return sorted(problems)


def data_files(directory: Path) -> list[Path]:
    """The data files of a directory, sorted, so loading order never depends on the file system."""
    return sorted(
        p for p in directory.iterdir() if p.suffix in {".yaml", ".yml", ".json"} and p.is_file()
    )


def line_of(path: Path, needle: str, *, last: bool = False) -> int | None:
    """The first (or `last`) line of `path` that mentions `needle` as a whole word outside a
    comment, to point an error at a key or a list entry."""
    found = None
    pattern = re.compile(rf"(?<!\w){re.escape(needle)}(?!\w)")
    try:
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not text.lstrip().startswith("#") and pattern.search(text):
                found = number
                if not last:
                    break
    except (OSError, UnicodeDecodeError):
        return None
    return found
