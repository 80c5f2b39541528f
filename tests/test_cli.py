"""The command line (`triage-line`, `python -m bot`): classify, eval, check and operators, run as
real subprocesses where the exit status and streams matter; docs/cli.md against `--help`."""

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import redis
from click.testing import CliRunner

from bot import accounts
from bot.cli import cli
from tests.helpers import env_file

ROOT = Path(__file__).resolve().parent.parent
UNTUNED = ROOT / "eval" / "untuned" / "fresh23.jsonl"
PASSWORD = "correct horse battery"


def run(*args: str, stdin: str = "", env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        text=True,
        capture_output=True,
        cwd=ROOT,
        env=env,
        timeout=60,
    )


def test_classify_keeps_order_and_reports_bad_lines() -> None:
    lines = [
        json.dumps({"id": "a", "text": "he is going to hurt me", "extra": 1}),
        "{not json",
        json.dumps({"id": "b", "text": "AYUDA"}),
        json.dumps(["a", "list"]),
        json.dumps({"id": "c", "text": "STOP"}),
    ]
    out = run("classify", stdin="\n".join(lines) + "\n")
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["id"] for r in rows] == ["a", None, "b", None, "c"]
    assert rows[0]["intent"] == "emergency" and rows[0]["priority"] == "critical"
    assert rows[0]["matched"] == "model" and rows[0]["top"][0][0] == "emergency"
    assert rows[1]["error"] and rows[3]["error"]
    assert (rows[2]["intent"], rows[2]["language"]) == ("help", "es")
    assert {k: rows[4][k] for k in ("id", "intent", "priority", "language", "matched")} == {
        "id": "c",
        "intent": "stop",
        "priority": "low",
        "language": "en",
        "matched": "keyword:stop",
    }


def test_classify_empty_input() -> None:
    out = run("classify", stdin="")
    assert out.returncode == 0 and out.stdout == ""


def test_classify_does_not_import_flask_or_redis() -> None:
    code = (
        'import sys, io; sys.stdin = io.StringIO(\'{"id": 1, "text": "hi"}\'); '
        "from bot.cli import main; main(['classify']); "
        "print('flask' in sys.modules, 'redis' in sys.modules, file=sys.stderr)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stderr.split() == ["False", "False"]


def test_eval_json_shape() -> None:
    out = run("eval", str(UNTUNED), "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)["eval"][str(UNTUNED)]
    for key in ("intent_accuracy", "language_accuracy", "critical_recall", "critical_precision"):
        assert 0.0 <= report[key] <= 1.0
    assert set(report["per_intent"]["help"]) == {"precision", "recall", "f1", "support"}
    assert len(report["per_intent"]) == 16
    assert set(report["intent_accuracy_by_language"]) == {"en/es/fr", "other"}


def test_eval_text_and_noise(tmp_path: Path) -> None:
    tsv = tmp_path / "noise.tsv"
    tsv.write_text(
        "label\ttext\nham\tsee you at the bus stop\nspam\tURGENT call now to win\n"
        "ham\tcan you help me move my couch\n"
    )
    out = run("eval", str(UNTUNED), "--noise", str(tsv))
    assert out.returncode == 0, out.stderr
    assert "intent accuracy" in out.stdout and "critical recall" in out.stdout
    assert "worst misses" in out.stdout
    assert "messages              3" in out.stdout
    assert "flagged critical      0" in out.stdout


def test_check_passes_on_the_repository() -> None:
    out = run("check")
    assert out.returncode == 0, out.stdout
    assert "head trained on the current data" in out.stdout


def test_check_names_a_malformed_keyword_file(tmp_path: Path) -> None:
    intents = tmp_path / "intents"
    intents.mkdir()
    (intents / "language.yaml").write_text((ROOT / "intents" / "language.yaml").read_text())
    (intents / "keywords.yaml").write_text("version: 1\nkeywords:\n  stop: {en: [stop\n")
    out = run("check", "--intents", str(intents), "--responses", str(ROOT / "responses"))
    assert out.returncode == 1
    assert "keywords.yaml" in out.stdout and "FAIL" in out.stdout


def test_check_exit_status_and_usage_errors() -> None:
    assert run("check", "--intents", str(ROOT / "no-such-dir")).returncode == 1
    out = run("no-such-command")
    assert out.returncode == 2 and "Usage: python -m bot" in out.stderr
    assert run().returncode == 2  # a command is required


def test_classify_reader_leaving_early_is_not_an_error() -> None:
    # more output than a pipe holds: the writer meets the closed pipe mid-stream
    lines = "".join(json.dumps({"id": i, "text": "help me"}) + "\n" for i in range(1000))
    cmd = f"{sys.executable} -m bot classify | head -c 1 >/dev/null; exit ${{PIPESTATUS[0]}}"
    out = subprocess.run(
        ["bash", "-c", cmd], input=lines, text=True, capture_output=True, cwd=ROOT, timeout=60
    )
    assert (out.returncode, out.stderr) == (0, "")


def test_the_installed_script_is_the_same_group() -> None:
    script = Path(sys.executable).parent / "triage-line"  # scripts/bootstrap: pip install -e .
    out = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("Usage: triage-line ")
    listed = run("--help").stdout.split("Commands:")[1]
    assert out.stdout.split("Commands:")[1] == listed
    for name in ("check", "classify", "eval", "operators", "sweep", "train"):
        assert f"\n  {name} " in listed


def walk(group: click.Group, path: tuple[str, ...] = ()):
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        yield (*path, name), command
        if isinstance(command, click.Group):
            yield from walk(command, (*path, name))


def test_every_command_has_a_one_line_help() -> None:
    found = dict(walk(cli))
    assert {
        "operators add",
        "operators list",
        "operators disable",
        "operators enable",
        "operators password",
        "operators end-sessions",
    } <= {" ".join(p) for p in found}
    for path, command in found.items():
        short = command.get_short_help_str(limit=70)
        assert short and not short.endswith("..."), path


def test_the_cli_reference_matches_the_help() -> None:
    out = subprocess.run(
        [sys.executable, "scripts/cli_reference.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "40"},  # the terminal's width does not matter
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_operators_builds_the_app_from_the_env_file(valkey, tmp_path, monkeypatch) -> None:
    """`triage-line operators` (no flask): .env read as app.py reads it, then create_app()."""
    db_url = valkey.url.rstrip("/") + "/4"
    env_file(
        monkeypatch,
        tmp_path,
        f"REDIS_URL={db_url}\nDATA_DIR=./line-data\nSECRET_KEY=s\n"
        "UPKEEP_SECONDS=0\nSWEEP_MINUTES=0\n",
        unset=(
            "REDIS_URL",
            "DATA_DIR",
            "SECRET_KEY",
            "UPKEEP_SECONDS",
            "SWEEP_MINUTES",
            "REDIS_CLUSTER",
        ),
    )
    target = redis.Redis.from_url(db_url)
    target.flushdb()
    try:
        runner = CliRunner()
        listed = runner.invoke(cli, ["operators", "list"])
        assert listed.exit_code == 0, listed.output
        assert listed.output == "no accounts yet: triage-line operators add NAME --admin\n"
        added = runner.invoke(
            cli,
            ["operators", "add", "cli", "--admin", "--password-file", "-"],
            input=PASSWORD + "\n",
        )
        assert (added.exit_code, added.output) == (0, "created admin cli\n")
        assert accounts.authenticate(target, "cli", PASSWORD).is_admin  # in the .env's Redis
        assert os.environ["DATA_DIR"] == str(tmp_path / "line-data")  # relative to the .env
        missing = runner.invoke(cli, ["operators", "disable", "nobody"])
        assert missing.exit_code == 1 and "no account named 'nobody'" in missing.output
    finally:
        target.flushdb()
        target.close()
