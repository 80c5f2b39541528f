"""The command line, one click group: `triage-line` (the script `pip install -e .` puts in
`.venv/bin/`), `python -m bot` (the same group) and, for the accounts, `flask --app app operators`.

`classify`, `eval`, `train`, `check` and `sweep` import neither Flask nor the web app;
`operators` is loaded only when named (or listed by `--help`) and builds the app from the
repository's `.env`, as `app.py` does.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO, TypeVar

import click

REPO = Path(__file__).resolve().parent.parent
BATCH = 32  # lines classified together: the encoder is faster on a batch
PROG = "triage-line"


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
        results = iter(
            classifier.classify_many(
                [r.get("text") or "" for r in records],
                [r.get("conversation_language") for r in records],
            )
        )
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


class Commands(click.Group):
    """The top-level group: `operators` is imported only when asked for (it needs Flask), and
    a reader that leaves early (`... classify < in | head`) is not an error."""

    LAZY = {"operators": "bot.operators_cli:operators"}

    def list_commands(self, ctx: click.Context) -> list[str]:
        """The commands, the lazily imported `operators` included."""
        return sorted([*super().list_commands(ctx), *self.LAZY])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """A command; `operators` is imported only now."""
        if cmd_name in self.LAZY:
            module, _, name = self.LAZY[cmd_name].partition(":")
            return getattr(importlib.import_module(module), name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> object:
        """Run the command; a reader that left (`| head`) exits quietly."""
        try:
            return super().invoke(ctx)
        except BrokenPipeError:  # the reader left (`| head`): exit 0, say nothing
            sys.stderr.close()
            ctx.exit(0)


@click.group(PROG, cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """The triage line's command line: classify offline, evaluate, train, check the data,
    sweep Redis, manage operator accounts. `python -m bot` is the same command."""


@cli.command("classify")
def classify_command() -> None:
    """Classify JSONL messages from stdin to stdout.

    The contract's offline command (../shared/spec/triage.md). In: one JSON object a line,
    {"id": ..., "text": ...}, optionally "conversation_language" (the conversation's language so
    far); other fields are ignored. Out: one JSON object a line, in the same order: id, intent,
    priority, language, and how it was read (confidence, matched, doubt, the three likeliest
    intents in top). A line that is not a JSON object gets {"id": null, "error": ...} and the
    command goes on. Exit status 0.
    """
    click.get_current_context().exit(classify_stream(sys.stdin, sys.stdout))


@cli.command("eval")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--noise",
    type=click.Path(path_type=Path),
    multiple=True,
    metavar="PATH",
    help="Everyday texts (JSONL, or the SMS Spam Collection TSV): false alarms. Repeatable.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def eval_command(files: tuple[Path, ...], noise: tuple[Path, ...], as_json: bool) -> None:
    """Accuracy on labelled sets (default: eval/untuned, eval/noise).

    FILES are labelled JSONL (id, text, intent, language). With neither FILES nor --noise, every
    set in eval/untuned/ and eval/noise/.
    """
    click.get_current_context().exit(evaluate(list(files), list(noise), as_json))


@cli.command("train")
def train_command() -> None:
    """Fit the head on data/train and save data/model/.

    The head has one output per intent of the contract ($INTENTS_DIR/contract.yaml).
    """
    from bot.triage.train import train

    train()


F = TypeVar("F", bound=Callable[..., object])


def _directory_option(name: str, variable: str, what: str) -> Callable[[F], F]:
    """`--NAME DIR`, from $VARIABLE when not given, else the repository's NAME/."""
    return click.option(
        f"--{name}",
        type=click.Path(path_type=Path),
        default=REPO / name,
        envvar=variable,
        metavar="DIR",
        help=f"{what} (default: ${variable}, else {name}/).",
    )


@cli.command("check")
@_directory_option("intents", "INTENTS_DIR", "The contract, keyword and language files")
@_directory_option("responses", "RESPONSES_DIR", "The reply texts")
def check_command(intents: Path, responses: Path) -> None:
    """Validate data files, the head and train/eval hygiene.

    Prints each problem as a FAIL line; exit status 1 when there is one.
    """
    click.get_current_context().exit(check(intents, responses, sys.stdout))


@cli.command("sweep")
def sweep_command() -> None:
    """Remove what expired conversations left in Redis (cron).

    Reads REDIS_URL (or the embedded server under DATA_DIR) from the environment and the
    repository's .env, as the app does; prints the counts as one JSON object.
    """
    click.get_current_context().exit(sweep(sys.stdout))


def main(argv: list[str] | None = None, prog_name: str | None = None) -> int:
    """Run the command line on `argv` (default: `sys.argv[1:]`); returns the exit status.

    The `triage-line` script and `python -m bot` call this.
    """
    try:
        cli.main(args=argv, prog_name=prog_name or PROG)
    except SystemExit as exc:  # click always ends with sys.exit, also on success
        code = exc.code
        if code is None or isinstance(code, int):
            return code or 0
        print(code, file=sys.stderr)
        return 1
    return 0
