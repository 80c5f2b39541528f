"""`python -m bot classify | eval | check`, run as real subprocesses."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UNTUNED = ROOT / "eval" / "untuned" / "fresh23.jsonl"


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
    assert rows[0]["matched"] == "model" and rows[0]["top"][0][0] == "emergency"
    assert rows[1]["error"] and rows[3]["error"]
    assert (rows[2]["intent"], rows[2]["language"]) == ("help", "es")
    assert {k: rows[4][k] for k in ("id", "intent", "priority", "language", "matched")} == {
        "id": "c", "intent": "stop", "priority": "low", "language": "en",
        "matched": "keyword:stop"}


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
    tsv.write_text("label\ttext\nham\tsee you at the bus stop\nspam\tURGENT call now to win\n"
                   "ham\tcan you help me move my couch\n")
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
