"""Command line: `classify` (JSONL in and out), `eval` (accuracy report), `check` (data files)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

REPO = Path(__file__).resolve().parent.parent


def classify_stream(source: TextIO, sink: TextIO) -> int:
    """Classify each JSON line of `source` into `sink`, in order; bad lines get an error object."""
    from bot.classify import default_classifier

    classifier = default_classifier()
    for raw in source:
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
            if not isinstance(record, dict):
                raise ValueError("line is not a JSON object")
            text = record.get("text")
            if text is not None and not isinstance(text, str):
                raise ValueError("`text` must be a string")
        except ValueError as exc:
            sink.write(json.dumps({"id": None, "error": f"invalid input line: {exc}"}) + "\n")
            continue
        conversation = record.get("conversation_language")
        result = classifier.classify(text or "", conversation_language=conversation)
        out = {
            "id": record.get("id"),
            "intent": result.intent,
            "priority": result.priority,
            "language": result.language,
            "confidence": result.confidence,
            "matched": result.matched,
        }
        if result.switch_to:
            out["switch_to"] = result.switch_to
        sink.write(json.dumps(out, ensure_ascii=False) + "\n")
    return 0


def check(intents_dir: Path, responses_dir: Path, out: TextIO) -> int:
    """Validate intents/ and responses/; print each problem as `file:line: message`; 1 on error."""
    from bot.datafiles import DataError
    from bot.lexicon import load_lexicon

    errors = 0
    try:
        lexicon = load_lexicon(intents_dir)
        out.write(f"ok   {intents_dir}: {len(lexicon.intents)} intents, "
                  f"{sum(map(len, lexicon.by_first.values()))} phrases, "
                  f"{len(lexicon.keywords)} keywords\n")
    except DataError as exc:
        out.write(f"FAIL {exc}\n")
        errors += 1
    try:
        from bot.replies import load_responses
    except ImportError:
        out.write(f"skip {responses_dir}: bot.replies is not available yet\n")
    else:
        try:
            responses = load_responses(responses_dir)
            out.write(f"ok   {responses_dir}: {len(responses)} languages\n")
        except DataError as exc:
            out.write(f"FAIL {exc}\n")
            errors += 1
    return 1 if errors else 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m bot`."""
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("classify", help="classify JSONL messages from stdin to stdout")
    ev = sub.add_parser("eval", help="accuracy report on a labelled JSONL file")
    ev.add_argument("file", nargs="?", type=Path, help="labelled JSONL: id, text, intent, language")
    ev.add_argument("--noise", type=Path, help="SMS Spam Collection TSV: count false alarms")
    ev.add_argument("--json", action="store_true", help="print one JSON object")
    ck = sub.add_parser("check", help="validate intents/ and responses/")
    ck.add_argument("--intents", type=Path, default=REPO / "intents")
    ck.add_argument("--responses", type=Path, default=REPO / "responses")
    args = parser.parse_args(argv)

    if args.command == "classify":
        return classify_stream(sys.stdin, sys.stdout)
    if args.command == "check":
        return check(args.intents, args.responses, sys.stdout)
    from bot import evaluate

    if not args.file and not args.noise:
        parser.error("eval needs FILE or --noise FILE")
    report: dict = {}
    if args.file:
        report["eval"] = evaluate.evaluate_file(args.file)
    if args.noise:
        report["noise"] = evaluate.noise_file(args.noise)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1))
    else:
        print(evaluate.render(report))
    return 0
