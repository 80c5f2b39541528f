"""`python -m bot classify | eval | check`, run as real subprocesses."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARAPHRASES = ROOT / "tests" / "data" / "paraphrases.jsonl"


def run(*args: str, stdin: str = "", env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, text=True,
                          capture_output=True, cwd=ROOT, env=env, timeout=60)


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
    assert rows[1]["error"] and rows[3]["error"]
    assert (rows[2]["intent"], rows[2]["language"]) == ("help", "es")
    assert rows[4] | {"confidence": 0} == {"id": "c", "intent": "stop", "priority": "low",
                                           "language": "en", "confidence": 0, "matched": "stop"}


def test_classify_empty_input() -> None:
    out = run("classify", stdin="")
    assert out.returncode == 0 and out.stdout == ""


def test_classify_does_not_import_flask_or_redis() -> None:
    code = ("import sys, io; sys.stdin = io.StringIO('{\"id\": 1, \"text\": \"hi\"}'); "
            "from bot.cli import main; main(['classify']); "
            "print('flask' in sys.modules, 'redis' in sys.modules, file=sys.stderr)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stderr.split() == ["False", "False"]


def test_eval_json_shape() -> None:
    out = run("eval", str(PARAPHRASES), "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)["eval"]
    for key in ("intent_accuracy", "language_accuracy", "critical_recall", "critical_precision"):
        assert 0.0 <= report[key] <= 1.0
    assert set(report["per_intent"]["help"]) == {"precision", "recall", "f1", "support"}
    assert len(report["per_intent"]) == 16
    assert len(report["worst_misses"]) <= 20
    assert report["intent_accuracy"] >= 0.9  # fresh paraphrases, written from the contract


def test_eval_text_and_noise(tmp_path: Path) -> None:
    tsv = tmp_path / "noise.tsv"
    tsv.write_text("label\ttext\nham\tsee you at the bus stop\nspam\tURGENT call now to win\n"
                   "ham\tcan you help me move my couch\n")
    out = run("eval", str(PARAPHRASES), "--noise", str(tsv))
    assert out.returncode == 0, out.stderr
    assert "intent accuracy" in out.stdout and "critical recall" in out.stdout
    assert "worst misses" in out.stdout and "flagged critical    0" in out.stdout


def test_check_passes_on_the_repository() -> None:
    out = run("check")
    assert out.returncode == 0, out.stdout
    assert "ok" in out.stdout


def test_check_names_file_and_line_of_a_malformed_file(tmp_path: Path) -> None:
    intents = tmp_path / "intents"
    intents.mkdir()
    (intents / "help.yaml").write_text("version: 1\nintent: help\nkeywords:\n  en: [help]\n")
    (intents / "broken.yaml").write_text(
        "version: 1\nintent: stop\nkeywords:\n  en: [stop\n  es: [parar]\n")
    out = run("check", "--intents", str(intents), "--responses", str(ROOT / "responses"))
    assert out.returncode == 1
    assert "broken.yaml:" in out.stdout and "FAIL" in out.stdout


def test_check_reports_a_bad_entry(tmp_path: Path) -> None:
    bad = '{"version": 1, "intent": "help",\n "phrases": {"en": [1.5, {"a": "b"}]}}'
    (tmp_path / "x.json").write_text(bad)
    out = run("check", "--intents", str(tmp_path), "--responses", str(ROOT / "responses"))
    assert out.returncode == 1 and "x.json" in out.stdout
