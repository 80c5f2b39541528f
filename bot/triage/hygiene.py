"""`python -m bot check`: data files load, the head is current, train and eval stay apart."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from bot import schemas
from bot.datafiles import DataError, check_file
from bot.replies import load_responses
from bot.triage.classify import head_problem
from bot.triage.contract import contract_file, load_contract
from bot.triage.dataset import overlap, read_tree
from bot.triage.head import MODEL_DIR, fingerprint, load_head
from bot.triage.keywords import Keywords
from bot.triage.train import TRAIN_DIR, load_training, training_files

EVAL_DIR = Path(__file__).resolve().parents[2] / "eval"


def check_all(
    intents_dir: Path,
    responses_dir: Path,
    out: TextIO,
    train_dir: Path = TRAIN_DIR,
    eval_dir: Path = EVAL_DIR,
    model_dir: Path = MODEL_DIR,
) -> list[str]:
    """Problems found (empty when all is well); progress lines go to `out`."""
    problems = data_file_problems(intents_dir, responses_dir, out)

    def report(exc: Exception, prefix: str) -> None:
        # a loader stops at its first problem: the schema pass above may have named it already
        problem = str(exc) if isinstance(exc, DataError) else f"{prefix}: {exc}"
        if problem not in problems:
            problems.append(problem)

    terms = keywords = None
    try:
        terms = load_contract(contract_file(intents_dir))
        out.write(f"ok   contract: {len(terms.intents)} intents\n")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        report(exc, "contract")
    try:
        keywords = Keywords(intents_dir)
        out.write(
            f"ok   {intents_dir}: {len(keywords.words)} keywords, "
            f"{len(keywords.names)} language names\n"
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        report(exc, str(intents_dir))
    try:
        intents = terms.intents if terms else ()
        out.write(
            f"ok   {responses_dir}: {len(load_responses(responses_dir, intents))} languages\n"
        )
    except (DataError, OSError) as exc:
        report(exc, str(responses_dir))
    if terms is None:
        return problems
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
        problems.append(
            f"the same text is in training and evaluation data: {seen.source} "
            f"and {held.source}: {held.text[:60]!r}"
        )
    if not shared:
        out.write(
            f"ok   {len(train)} training and {len(evaluation)} evaluation examples share no text\n"
        )
    try:
        head = load_head(model_dir)
    except (OSError, ValueError, KeyError) as exc:
        return [*problems, f"no usable head in {model_dir} ({exc}): run `python -m bot train`"]
    if keywords and (problem := head_problem(tuple(head.intents), terms, keywords)):
        problems.append(f"{model_dir}: {problem}")
    if head.meta.get("trained_on") != fingerprint(
        files, head.settings, head.meta.get("encoder", "")
    ):
        problems.append(
            f"{model_dir}: the head is stale (the training data changed since it "
            "was trained): run `python -m bot train`"
        )
    else:
        out.write(f"ok   head trained on the current data ({head.meta.get('examples')} examples)\n")
    return problems


def data_file_problems(intents_dir: Path, responses_dir: Path, out: TextIO) -> list[str]:
    """Every problem of every data file against its schema (bot/schemas.py), `path:line: ...`:
    malformed YAML, a key twice, an unknown key, a wrong type, the same entry twice."""
    files = schemas.files_to_check(intents_dir, responses_dir)
    problems = [str(problem) for path, schema in files for problem in check_file(path, schema)]
    if not problems:
        out.write(f"ok   {len(files)} data files match their schemas\n")
    return problems
