"""`python -m bot check`: data files load, the head is current, train and eval stay apart."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from bot.triage.contract import contract
from bot.triage.dataset import overlap, read_tree
from bot.triage.head import MODEL_DIR, fingerprint, load_head
from bot.triage.keywords import Keywords
from bot.triage.train import TRAIN_DIR, load_training, training_files

EVAL_DIR = Path(__file__).resolve().parents[2] / "eval"


def check_all(intents_dir: Path, responses_dir: Path, out: TextIO,
              train_dir: Path = TRAIN_DIR, eval_dir: Path = EVAL_DIR,
              model_dir: Path = MODEL_DIR) -> list[str]:
    """Problems found (empty when all is well); progress lines go to `out`."""
    problems: list[str] = []
    try:
        terms = contract()
        out.write(f"ok   contract: {len(terms.intents)} intents\n")
    except (OSError, ValueError, KeyError) as exc:
        return [f"contract: {exc}"]
    try:
        keywords = Keywords(intents_dir)
        out.write(f"ok   {intents_dir}: {len(keywords.words)} keywords, "
                  f"{len(keywords.names)} language names\n")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        problems.append(f"{intents_dir}: {exc}")
    from bot.datafiles import DataError
    from bot.replies import load_responses

    try:
        out.write(f"ok   {responses_dir}: {len(load_responses(responses_dir))} languages\n")
    except (DataError, OSError) as exc:
        problems.append(str(exc))
    files = training_files(train_dir)
    try:
        train = load_training(files)
        evaluation = read_tree(eval_dir)
    except (OSError, ValueError) as exc:
        return [*problems, str(exc)]
    if bad := [ex.source for ex in evaluation if ex.intent not in terms.intents]:
        problems.append(f"unknown intent in evaluation data: {', '.join(bad[:5])}")
    shared = overlap(train, evaluation)
    for seen, held in shared[:10]:
        problems.append(f"the same text is in training and evaluation data: {seen.source} "
                        f"and {held.source}: {held.text[:60]!r}")
    if not shared:
        out.write(f"ok   {len(train)} training and {len(evaluation)} evaluation examples "
                  "share no text\n")
    try:
        head = load_head(model_dir)
    except (OSError, ValueError, KeyError) as exc:
        return [*problems, f"no usable head in {model_dir} ({exc}): run `python -m bot train`"]
    if tuple(head.intents) != terms.intents:
        problems.append(f"{model_dir}: the head's intents are not the contract's: retrain")
    if head.meta.get("trained_on") != fingerprint(files, head.settings,
                                                  head.meta.get("encoder", "")):
        problems.append(f"{model_dir}: the head is stale (the training data changed since it "
                        "was trained): run `python -m bot train`")
    else:
        out.write(f"ok   head trained on the current data ({head.meta.get('examples')} "
                  "examples)\n")
    return problems
