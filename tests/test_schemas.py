"""Data files against their schemas (bot/schemas.py): unknown keys, keys twice, the same entry
twice and wrong types are reported with file and line by `python -m bot check`, every problem
of every file at once; at run time such a file is one more DataError (the last good data stays)."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.content import Content
from bot.datafiles import DataError, load_file
from bot.replies import load_responses
from bot.schemas import keywords_file
from bot.triage.contract import contract, contract_file, load_contract
from bot.triage.hygiene import data_file_problems
from bot.triage.keywords import Keywords

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """Copies of intents/ and responses/ to break."""
    for name in ("intents", "responses"):
        shutil.copytree(ROOT / name, tmp_path / name)
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def line_of(path: Path, text: str, nth: int = 1) -> int:
    """The line of the `nth` line of `path` that contains `text`."""
    found = [
        n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line
    ]
    return found[nth - 1]


def check(data: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "check",
            "--intents",
            str(data / "intents"),
            "--responses",
            str(data / "responses"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_the_shipped_data_files_match_their_schemas() -> None:
    out = io.StringIO()
    assert data_file_problems(ROOT / "intents", ROOT / "responses", out) == []
    assert "data files match their schemas" in out.getvalue()


def test_check_reports_every_problem_of_every_file_with_its_line(data: Path) -> None:
    keywords = data / "intents" / "keywords.yaml"
    languages = data / "intents" / "language.yaml"
    english = data / "responses" / "en.yaml"
    lines = data / "responses" / "interpreters" / "lines.yaml"
    edit(keywords, "    pt: [pare]\n", "    pt: [pare]\n    negateable: true\n")  # unknown key
    edit(keywords, "    en: [help, sos]", "    en: [help, sos, Help]")  # the same keyword twice
    edit(keywords, "    fr: [aide]\n", "    fr: [aide]\n    es: [socorro]\n")  # `es:` twice
    edit(
        languages,
        "  sw: {sw: [kiswahili], en: [swahili]}",
        "  sw: {sw: [kiswahili], en: [swahili]}\n  nb: {nb: [norsk, no]}",
    )  # `no` is false
    edit(english, "  thanks: >-\n", "  thanks: 3\n  thanks_old: >-\n")  # a number; unknown key
    edit(lines, "  de: ", '  de: "{hotlne}"\n  de2: ')  # bad placeholder; not a language

    run = check(data)

    assert run.returncode == 1, run.stdout
    expected = [
        f"{keywords}:{line_of(keywords, 'negateable')}: unknown key 'negateable' in keywords.stop",
        f"{keywords}:{line_of(keywords, 'sos, Help')}: duplicate entry 'Help' in keywords.help.en",
        f"{keywords}:{line_of(keywords, 'es: [socorro]')}: duplicate key 'es' in keywords.help "
        f"(first on line {line_of(keywords, 'es: [ayuda')})",
        f"{languages}:{line_of(languages, 'norsk')}: names.nb.nb[1] must be text, "
        "not true/false (quote it)",
        f"{english}:{line_of(english, 'thanks: 3')}: replies.thanks must be text, "
        "not a whole number",
        f"{english}:{line_of(english, 'thanks_old')}: unknown key 'thanks_old' in replies",
        f"{lines}:{line_of(lines, 'hotlne')}: lines.de has a placeholder that cannot be filled",
        f"{lines}:{line_of(lines, 'de2')}: unknown key 'de2' in lines: the key is not a language",
    ]
    for problem in expected:
        assert f"FAIL {problem}" in run.stdout, problem


def test_a_key_twice_is_an_error_at_the_second(tmp_path: Path) -> None:
    path = tmp_path / "keywords.yaml"
    path.write_text(
        "version: 1\nkeywords:\n  stop:\n    en: [stop]\n  stop:\n    en: [end]\n", encoding="utf-8"
    )
    with pytest.raises(DataError) as caught:
        load_file(path)  # with no schema too: YAML would keep the last one silently
    assert (caught.value.line, caught.value.message) == (
        5,
        "duplicate key 'stop' in keywords (first on line 3)",
    )


def test_a_key_twice_in_json_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "xx.json"
    path.write_text('{"version": 1, "version": 2}', encoding="utf-8")
    with pytest.raises(DataError, match="duplicate key 'version'"):
        load_file(path)


def test_an_unknown_key_stops_the_load_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "keywords.yaml"
    path.write_text(
        "version: 1\nkeywords:\n  stop: {en: [stop]}\ncourtsey: [please]\n", encoding="utf-8"
    )
    with pytest.raises(DataError) as caught:
        load_file(path, keywords_file(contract().intents))
    assert str(caught.value).startswith(f"{path}:4: unknown key 'courtsey'")


def test_a_keyword_under_two_intents_names_its_second_line(data: Path) -> None:
    keywords = data / "intents" / "keywords.yaml"
    edit(keywords, "    en: [info, information]", "    en: [info, information, sos]")
    with pytest.raises(DataError) as caught:
        Keywords(data / "intents")
    assert caught.value.line == line_of(keywords, "information, sos")
    assert "'sos' is listed under two intents (help, info)" in caught.value.message


def test_the_contract_is_checked_too(data: Path) -> None:
    contract = contract_file(data / "intents")
    text = contract.read_text(encoding="utf-8")
    contract.write_text(
        text.replace(
            "  - {name: thanks,         priority: low}\n",
            "  - {name: thanks,         priority: low}\n"
            "  - {name: greeting, priority: high, critcal: true}\n",
        ),
        encoding="utf-8",
    )
    number = line_of(contract, "critcal")
    problems = data_file_problems(data / "intents", data / "responses", io.StringIO())
    assert problems == [
        f"{contract}:{number}: unknown key 'critcal' in intents[15] (allowed: name, priority)",
        f"{contract}:{number}: duplicate entry 'name: greeting' in intents "
        f"(first on line {line_of(contract, '{name: greeting')})",
    ]
    with pytest.raises(ValueError, match=f"{contract}:{number}: "):
        load_contract(contract)


def test_a_schema_error_at_run_time_keeps_the_last_good_replies(data: Path) -> None:
    content = Content(ROOT / "intents", data / "responses", check_every=0)
    assert content.errors == []
    good = content.replies
    english = data / "responses" / "en.yaml"
    edit(english, "replies:\n", "replies:\n  negateable: >-\n    no\n")
    content.load()
    assert content.replies is good
    assert len(content.errors) == 1
    assert content.errors[0].startswith(
        f"{english}:{line_of(english, 'negateable')}: unknown key 'negateable' in replies"
    )
    with pytest.raises(DataError):
        load_responses(data / "responses", contract().intents)


def test_two_reply_files_for_one_language_are_an_error(data: Path) -> None:
    copy = data / "responses" / "zz.yaml"
    shutil.copy(data / "responses" / "en.yaml", copy)
    with pytest.raises(DataError) as caught:
        load_responses(data / "responses", contract().intents)
    assert str(caught.value) == (
        f"{copy}:{line_of(copy, 'language: en')}: language en has replies in en.yaml too"
    )


def test_a_contract_with_other_priorities_is_refused(data: Path) -> None:
    contract = contract_file(data / "intents")
    edit(
        contract, "priorities: [critical, high, normal, low]", "priorities: [urgent, high, normal]"
    )
    with pytest.raises(ValueError, match="priorities must be critical, high, normal, low"):
        load_contract(contract)
