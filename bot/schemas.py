"""What each data file may contain: allowed keys, value types, lists whose entries must differ.

A schema is plain data (the classes below); `validate` checks a parsed YAML node tree against
one and returns every problem with its line, so a misspelt key (`negateable:`), a word YAML
reads as something else (`no` is false, `1.0` a number) or the same keyword twice is reported
instead of silently ignored. `bot.datafiles.load_file(path, schema)` applies it on every load;
`python -m bot check` reports the problems of all files (`files_to_check`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

Problem = tuple[int, str]  # (line, counted from 1; message)
PLACEHOLDERS = ("emergency", "crisis", "hotline", "textline")  # filled in replies and answers
_FILLED = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)

_TYPES = {
    "tag:yaml.org,2002:str": "text",
    "tag:yaml.org,2002:int": "a whole number",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:bool": "true/false",
    "tag:yaml.org,2002:null": "empty (null)",
    "tag:yaml.org,2002:timestamp": "a date",
}


def line(node: yaml.Node) -> int:
    """The line of `node`, counted from 1; 0 when unknown (a JSON file)."""
    return node.start_mark.line + 1 if node.start_mark is not None else 0


def _found(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return _TYPES.get(node.tag, node.tag)


def _is_text(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:str"


def _where(where: str) -> str:
    return f" in {where}" if where else ""


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


class Schema:
    """One kind of value; `check` appends the problems of `node` to `out`."""

    def check(self, node: yaml.Node, where: str, out: list[Problem]) -> None:
        """Append to `out` the problems of `node`, found at `where` (a dotted path)."""
        raise NotImplementedError


@dataclass(frozen=True)
class Text(Schema):
    """A string (quoted or not, but not something YAML reads as a number, date, true/false)."""

    nonempty: bool = True
    placeholders: bool = False  # may use {emergency} {crisis} {hotline} {textline}, no other
    contains: str | None = None  # must contain this (a template's "{name}")
    pattern: str | None = None  # a regular expression the whole text matches
    what: str = "text"

    def check(self, node: yaml.Node, where: str, out: list[Problem]) -> None:
        """Append a problem if `node` is not text, is empty, off `pattern` or lacks `contains`."""
        if not _is_text(node):
            hint = " (quote it)" if isinstance(node, yaml.ScalarNode) and node.value else ""
            out.append(
                (line(node), f"{where or 'the file'} must be {self.what}, not {_found(node)}{hint}")
            )
            return
        text = node.value
        if self.nonempty and not text.strip():
            out.append((line(node), f"{where} is empty"))
        elif self.pattern and not re.fullmatch(self.pattern, text):
            out.append((line(node), f"{where} must be {self.what}, not {text!r}"))
        elif self.contains and self.contains not in text:
            out.append((line(node), f"{where} must contain {self.contains}: {text!r}"))
        elif self.placeholders:
            try:
                text.format(**dict.fromkeys(PLACEHOLDERS, ""))
            except (KeyError, IndexError, ValueError) as exc:
                out.append(
                    (
                        line(node),
                        f"{where} has a placeholder that cannot be filled "
                        f"({exc}): use only {_FILLED}",
                    )
                )


@dataclass(frozen=True)
class Integer(Schema):
    """A whole number, written unquoted."""

    def check(self, node: yaml.Node, where: str, out: list[Problem]) -> None:
        """Append a problem if `node` is not a whole number."""
        if not (isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:int"):
            out.append((line(node), f"{where} must be a whole number, not {_found(node)}"))


@dataclass(frozen=True)
class Key:
    """What the keys of a mapping with free keys must be: text matching `pattern`, and one of
    `one_of()` when given (it returns None when the list cannot be known)."""

    what: str
    pattern: str = r".+"
    one_of: Callable[[], Iterable[str] | None] | None = None

    def problem(self, node: yaml.Node) -> str | None:
        """What is wrong with `node` as such a key (to follow "the key"), or None."""
        if not _is_text(node):
            return f"must be {self.what}, not {_found(node)} (quote it)"
        if not re.fullmatch(self.pattern, node.value):
            return f"is not {self.what}"
        allowed = self.one_of() if self.one_of else None
        if allowed is not None and node.value not in allowed:
            return f"is not {self.what} ({', '.join(allowed)})"
        return None


@dataclass(frozen=True)
class Record(Schema):
    """A mapping: the keys in `fields` (those in `required` must be there), and, only when
    `rest_key` is given, other keys of that kind with values of `rest`."""

    fields: Mapping[str, Schema] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    rest_key: Key | None = None
    rest: Schema | None = None

    def check(self, node: yaml.Node, where: str, out: list[Problem]) -> None:
        """Check the known fields, other keys against `rest_key`, and that required keys exist."""
        if not isinstance(node, yaml.MappingNode):
            out.append((line(node), f"{where or 'the file'} must be a mapping, not {_found(node)}"))
            return
        present = set()
        for key, value in node.value:
            name = key.value if _is_text(key) else None
            if name is not None and name in self.fields:
                present.add(name)
                self.fields[name].check(value, _join(where, name), out)
            elif self.rest_key is not None and self.rest is not None:
                problem = self.rest_key.problem(key)
                if problem:
                    out.append(
                        (line(key), f"unknown key {key.value!r}{_where(where)}: the key {problem}")
                    )
                else:
                    present.add(name)
                    self.rest.check(value, _join(where, key.value), out)
            else:
                allowed = ", ".join(self.fields) or "none"
                out.append(
                    (line(key), f"unknown key {key.value!r}{_where(where)} (allowed: {allowed})")
                )
        if missing := [k for k in self.required if k not in present]:
            out.append(
                (
                    line(node),
                    f"missing {'key' if len(missing) == 1 else 'keys'} "
                    f"{', '.join(missing)}{_where(where)}",
                )
            )


def table(key: Key, value: Schema) -> Record:
    """A mapping whose keys are all of one kind (language codes, intents)."""
    return Record(rest_key=key, rest=value)


def _same(text: str) -> str:
    return " ".join(text.split()).casefold()


@dataclass(frozen=True)
class Seq(Schema):
    """A list of `item`s. `unique`: no entry twice (text compared ignoring case and spacing);
    `unique_by`: for a list of mappings, no two with the same value of that key."""

    item: Schema
    unique: bool = False
    unique_by: str | None = None
    nonempty: bool = False

    def check(self, node: yaml.Node, where: str, out: list[Problem]) -> None:
        """Check each item, that a `nonempty` list has one, and that no entry repeats."""
        if not isinstance(node, yaml.SequenceNode):
            out.append((line(node), f"{where} must be a list, not {_found(node)}"))
            return
        if self.nonempty and not node.value:
            out.append((line(node), f"{where} is an empty list"))
        first: dict[str, int] = {}
        for n, item in enumerate(node.value):
            self.item.check(item, f"{where}[{n}]", out)
            ident = self._identity(item)
            if ident is None:
                continue
            if ident[1] in first:
                earlier = first[ident[1]]
                out.append(
                    (
                        ident[0],
                        f"duplicate entry {ident[2]!r} in {where} ("
                        + (
                            "twice on this line"
                            if earlier == ident[0]
                            else f"first on line {earlier}"
                        )
                        + ")",
                    )
                )
            else:
                first[ident[1]] = ident[0]

    def _identity(self, item: yaml.Node) -> tuple[int, str, str] | None:
        if self.unique and _is_text(item):
            return line(item), _same(item.value), item.value
        if self.unique_by and isinstance(item, yaml.MappingNode):
            for key, value in item.value:
                if _is_text(key) and key.value == self.unique_by and _is_text(value):
                    return line(value), _same(value.value), f"{self.unique_by}: {value.value}"
        return None


def validate(node: yaml.Node | None, schema: Schema) -> list[Problem]:
    """Every way `node` (a composed YAML document; None for an empty file) breaks `schema`."""
    if node is None:
        return [(1, "the file is empty")]
    out: list[Problem] = []
    schema.check(node, "", out)
    return sorted(out, key=lambda p: p[0])


# --- the data files ------------------------------------------------------------------------


VERSION = Integer()
NAME = r"[a-z][a-z0-9_]*"
LANGUAGE = Key("a language code (ISO 639: en, es, zh-Hant)", r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")
WORDS = Seq(Text(), unique=True, nonempty=True)

CONTRACT = Record(
    {
        "version": VERSION,
        "priorities": Seq(
            Text(pattern=NAME, what="a name (a-z, 0-9, _)"), unique=True, nonempty=True
        ),
        "intents": Seq(
            Record(
                {
                    "name": Text(pattern=NAME, what="a name (a-z, 0-9, _)"),
                    "priority": Text(pattern=NAME, what="a name (a-z, 0-9, _)"),
                },
                required=("name", "priority"),
            ),
            unique_by="name",
            nonempty=True,
        ),
    },
    required=("priorities", "intents"),
)

LANGUAGE_NAMES = Record(
    {
        "version": VERSION,
        "names": table(LANGUAGE, table(LANGUAGE, WORDS)),
        "templates": table(LANGUAGE, Seq(Text(contains="{name}"), unique=True, nonempty=True)),
    },
    required=("names",),
)

NORMALISE = Record(
    {
        "version": VERSION,
        "emoji": Record(rest_key=Key("an emoji", r".+"), rest=Text()),
        "shorthand": Record(rest_key=Key("a word", r"\w+"), rest=Text()),
    },
)

REPLY_TEXT = Text(placeholders=True)
INTERPRETER_LINES = Record(
    {"version": VERSION, "review": Text(), "lines": table(LANGUAGE, REPLY_TEXT)},
    required=("lines",),
)
INTERPRETER_BACK = Record(
    {
        "version": VERSION,
        "review": Text(),
        "back_translation_of": Text(),
        "lines": table(LANGUAGE, Text()),
        "checks": table(LANGUAGE, Text()),  # per line: how the back-translation compares
    },
    required=("lines",),
)
CANNED_SEED = Record(
    {
        "version": VERSION,
        "answers": Seq(
            Record({"title": Text()}, required=("title",), rest_key=LANGUAGE, rest=REPLY_TEXT),
            unique_by="title",
        ),
    },
    required=("answers",),
)


# The files whose keys are intents are checked against the contract of their intents directory
# (`intents` None: the contract cannot be read, which is reported on its own).
Intents = tuple[str, ...] | None
# Replies that are not an intent's: how to opt out, the interpreter line, a photo or voice note.
EXTRA_KEYS = ("stop_hint", "interpretation", "media")


def required_replies(intents: tuple[str, ...]) -> tuple[str, ...]:
    """The replies every reply file has: one per intent of the contract, and EXTRA_KEYS."""
    return (*intents, *EXTRA_KEYS)


@cache
def keywords_file(intents: Intents) -> Record:
    """`intents/keywords.yaml`: words per intent of the contract, per language."""
    intent = Key("an intent of intents/contract.yaml", NAME, (lambda: intents) if intents else None)
    return Record(
        {
            "version": VERSION,
            "keywords": table(intent, table(LANGUAGE, WORDS)),
            "courtesy": Seq(Text(), unique=True),
        },
        required=("keywords",),
    )


def _replies(intents: Intents, text: Schema, *, required: bool) -> Record:
    """The `replies:` mapping: one per required reply (all present when `required`). With the
    intents unknown, any reply name, and the extra replies when `required`."""
    if intents is None:
        extra = EXTRA_KEYS if required else ()
        return Record(rest_key=Key("a reply name", NAME), rest=text, required=extra)
    keys = required_replies(intents)
    return Record(dict.fromkeys(keys, text), required=keys if required else ())


def _reply_document(replies: Record, **more: Schema) -> Record:
    """A file of replies in one language: its code, how it was reviewed, the replies."""
    language = Text(pattern=LANGUAGE.pattern, what=LANGUAGE.what)
    fields = {"version": VERSION, "language": language, "review": Text(), **more}
    return Record({**fields, "replies": replies}, required=("replies",))


@cache
def reply_file(intents: Intents) -> Record:
    """`responses/<lang>.yaml`: every required reply (`required_replies`) and nothing else."""
    return _reply_document(_replies(intents, REPLY_TEXT, required=True))


@cache
def back_translation(intents: Intents) -> Record:
    """`responses/back/<lang>.yaml`: literal English of a reply file, for reviewers."""
    return _reply_document(_replies(intents, Text(), required=False), back_translation_of=Text())


def files_to_check(intents_dir: Path, responses_dir: Path) -> list[tuple[Path, Schema]]:
    """Every data file the bot, the console or a reviewer reads, with its schema. The contract,
    the two keyword files and the reply files must exist; the others are checked when present."""
    from bot.datafiles import data_files
    from bot.triage.contract import contract_file, load_contract

    intents_dir, responses_dir = Path(intents_dir), Path(responses_dir)
    try:
        intents: Intents = load_contract(contract_file(intents_dir)).intents
    except (OSError, ValueError):
        intents = None  # its own entry below says what is wrong
    found: list[tuple[Path, Schema]] = [
        (contract_file(intents_dir), CONTRACT),
        (intents_dir / "keywords.yaml", keywords_file(intents)),
        (intents_dir / "language.yaml", LANGUAGE_NAMES),
    ]
    if (intents_dir / "normalise.yaml").is_file():
        found.append((intents_dir / "normalise.yaml", NORMALISE))
    if responses_dir.is_dir():
        found += [(path, reply_file(intents)) for path in data_files(responses_dir)]
    back = responses_dir / "back"
    if back.is_dir():
        found += [(path, back_translation(intents)) for path in data_files(back)]
    for path, schema in (
        (responses_dir / "interpreters" / "lines.yaml", INTERPRETER_LINES),
        (responses_dir / "interpreters" / "back.yaml", INTERPRETER_BACK),
        (responses_dir / "canned" / "seed.yaml", CANNED_SEED),
    ):
        if path.is_file():
            found.append((path, schema))
    return found
