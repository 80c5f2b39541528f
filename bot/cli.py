"""Command line: `classify` (JSONL in and out), `eval`, `train`, `check` and `sweep`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

REPO = Path(__file__).resolve().parent.parent
BATCH = 32  # lines classified together: the encoder is faster on a batch


def _parse(raw: str) -> dict:
    record = json.loads(raw)
    if not isinstance(record, dict):
        raise ValueError("line is not a JSON object")
    text = record.get("text")
    if text is not None and not isinstance(text, str):
        raise ValueError("`text` must be a string")
    return record


def classify_stream(source: TextIO, sink: TextIO) -> int:
    """Classify each JSON line of `source` into `sink`, in order; bad lines get an error object."""
    from bot.triage.classify import default_classifier

    classifier = default_classifier()
    pending: list[dict | str] = []

    def flush() -> None:
        records = [r for r in pending if isinstance(r, dict)]
        results = iter(classifier.classify_many(
            [r.get("text") or "" for r in records],
            [r.get("conversation_language") for r in records]))
        for item in pending:
            if isinstance(item, str):
                sink.write(json.dumps({"id": None, "error": item}) + "\n")
                continue
            res = next(results)
            out = {"id": item.get("id")} | res.as_dict()
            if out["switch_to"] is None:
                del out["switch_to"]
            sink.write(json.dumps(out, ensure_ascii=False) + "\n")
        pending.clear()

    for raw in source:
        if not raw.strip():
            continue
        try:
            pending.append(_parse(raw))
        except ValueError as exc:
            pending.append(f"invalid input line: {exc}")
        if len(pending) >= BATCH:
            flush()
    flush()
    return 0


def check(intents_dir: Path, responses_dir: Path, out: TextIO) -> int:
    """Validate data files, the trained head and data hygiene; print each problem; 1 on error."""
    from bot.triage import hygiene

    problems = hygiene.check_all(intents_dir, responses_dir, out)
    for problem in problems:
        out.write(f"FAIL {problem}\n")
    return 1 if problems else 0


def evaluate(files: list[Path], noise: list[Path], as_json: bool) -> int:
    """Print the report for labelled `files` and everyday-text `noise` sets."""
    from bot import evaluate as ev

    if not files and not noise:
        files, noise = ev.default_sets()
    report = {"eval": {}, "noise": {}}
    for path in files:
        report["eval"][str(path)] = ev.evaluate_examples(ev.read_examples(path))
        if not as_json:
            print(ev.render_set(str(path), report["eval"][str(path)]) + "\n", flush=True)
    for path in noise:
        report["noise"][str(path)] = ev.noise_examples(ev.read_examples(path))
        if not as_json:
            print(ev.render_noise(str(path), report["noise"][str(path)]) + "\n", flush=True)
    if as_json:
        print(json.dumps(report, ensure_ascii=False, indent=1))
    return 0


def sweep(out: TextIO) -> int:
    """Drop what expired conversations left in Redis (REDIS_URL, as the app reads it)."""
    from bot import envfile, retention
    from bot.config import Config
    from bot.redis_client import connect

    envfile.load()  # the same .env as ./run
    config = Config()
    r = connect(config.REDIS_URL, config.DATA_DIR, config.REDIS_CLUSTER)
    counts = retention.sweep(r, config.RETENTION_DAYS * 86400)
    out.write(json.dumps(counts) + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m bot`."""
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("classify", help="classify JSONL messages from stdin to stdout")
    ev = sub.add_parser("eval", help="accuracy on labelled sets (default: eval/untuned, "
                                     "eval/noise)")
    ev.add_argument("files", nargs="*", type=Path, help="labelled JSONL: id, text, intent, "
                                                        "language")
    ev.add_argument("--noise", type=Path, action="append", default=[],
                    help="everyday texts (JSONL, or the SMS Spam Collection TSV): false alarms")
    ev.add_argument("--json", action="store_true", help="print one JSON object")
    sub.add_parser("train", help="fit the head on data/train and save data/model/")
    ck = sub.add_parser("check", help="validate data files, the head and train/eval hygiene")
    ck.add_argument("--intents", type=Path, default=REPO / "intents")
    ck.add_argument("--responses", type=Path, default=REPO / "responses")
    sub.add_parser("sweep", help="remove what expired conversations left in Redis (cron)")
    args = parser.parse_args(argv)

    if args.command == "classify":
        return classify_stream(sys.stdin, sys.stdout)
    if args.command == "check":
        return check(args.intents, args.responses, sys.stdout)
    if args.command == "sweep":
        return sweep(sys.stdout)
    if args.command == "train":
        from bot.triage.train import train

        train()
        return 0
    return evaluate(args.files, args.noise, args.json)
