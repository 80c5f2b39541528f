"""`python -m bot eval`: accuracy on labelled sets, false alarms on everyday texts."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from bot.triage.classify import Classification, default_classifier
from bot.triage.contract import contract
from bot.triage.dataset import Example, read_jsonl

REPO = Path(__file__).resolve().parent.parent
EVAL_DIR = REPO / "eval"
MAIN_LANGUAGES = frozenset({"en", "es", "fr"})
HIGH_ALARM = frozenset({"help", "report", "talk_to_person"})
BATCH = 64


def _ratio(a: float, b: float) -> float:
    return round(a / b, 4) if b else 0.0


def classify_examples(examples: list[Example]) -> list[Classification]:
    """Classify in batches (the encoder is faster on several texts at once)."""
    clf = default_classifier()
    out: list[Classification] = []
    for start in range(0, len(examples), BATCH):
        chunk = examples[start : start + BATCH]
        out += clf.classify_many([ex.text for ex in chunk], [None] * len(chunk))
    return out


def evaluate_examples(examples: list[Example]) -> dict:
    """Metrics for labelled examples."""
    intents, critical = contract().intents, contract().critical
    results = classify_examples(examples)
    pairs: Counter[tuple[str, str]] = Counter()
    by_group: Counter[tuple[str, bool]] = Counter()
    lang_ok = tp = fn = fp = caught_with_doubt = 0
    misses = []
    for ex, res in zip(examples, results, strict=True):
        gold, got = ex.intent, res.intent
        pairs[(gold, got)] += 1
        group = "en/es/fr" if ex.language in MAIN_LANGUAGES else "other"
        by_group[(group, gold == got)] += 1
        lang_ok += res.language == ex.language
        is_crit, said_crit = gold in critical, got in critical
        tp += is_crit and said_crit
        fn += is_crit and not said_crit
        fp += said_crit and not is_crit
        caught_with_doubt += is_crit and (said_crit or res.doubt)
        if gold != got:
            severity = 3 if is_crit and not res.doubt else 2 if is_crit or said_crit else 1
            misses.append(
                {
                    "id": ex.id,
                    "text": ex.text,
                    "expected": gold,
                    "got": got,
                    "language": ex.language,
                    "doubt": res.doubt,
                    "top": res.top,
                    "severity": severity,
                }
            )
    per_intent = {}
    for intent in intents:
        hit = pairs[(intent, intent)]
        said = sum(c for (g, p), c in pairs.items() if p == intent)
        support = sum(c for (g, p), c in pairs.items() if g == intent)
        prec, rec = _ratio(hit, said), _ratio(hit, support)
        f1 = round(2 * prec * rec / (prec + rec), 4) if prec + rec else 0.0
        per_intent[intent] = {"precision": prec, "recall": rec, "f1": f1, "support": support}
    misses.sort(key=lambda m: -m["severity"])
    groups = {
        g: _ratio(by_group[(g, True)], by_group[(g, True)] + by_group[(g, False)])
        for g in ("en/es/fr", "other")
    }
    return {
        "messages": len(examples),
        "intent_accuracy": _ratio(sum(pairs[(i, i)] for i in intents), len(examples)),
        "intent_accuracy_by_language": groups,
        "language_accuracy": _ratio(lang_ok, len(examples)),
        "critical_recall": _ratio(tp, tp + fn),
        "critical_recall_with_doubt": _ratio(caught_with_doubt, tp + fn),
        "critical_precision": _ratio(tp, tp + fp),
        "per_intent": per_intent,
        "confusion": {
            g: {p: c for (g2, p), c in pairs.items() if g2 == g and p != g}
            for g in intents
            if any(g2 == g and p != g for g2, p in pairs)
        },
        "worst_misses": misses[:25],
        "misses": len(misses),
    }


def noise_examples(examples: list[Example]) -> dict:
    """How often everyday texts are flagged critical, put in doubt, or read as a plea."""
    results = classify_examples(examples)
    crit = contract().critical
    counts = Counter(r.intent for r in results)
    flagged = [
        (ex.text, r.intent) for ex, r in zip(examples, results, strict=True) if r.intent in crit
    ]
    n = len(examples)
    return {
        "messages": n,
        "critical": len(flagged),
        "critical_per_1000": round(1000 * len(flagged) / n, 2) if n else 0.0,
        "doubt": sum(r.doubt for r in results),
        "help_report_talk": sum(counts[i] for i in HIGH_ALARM),
        "flagged_examples": [f"{intent}: {text[:100]}" for text, intent in flagged[:15]],
    }


def read_examples(path: Path) -> list[Example]:
    """A JSONL file, or the SMS Spam Collection's TSV (label, tab, text) as `unknown` texts."""
    if path.suffix == ".tsv":
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()[1:]
        return [
            Example(line.split("\t", 1)[1], "unknown", "en", f"{path}:{i}")
            for i, line in enumerate(lines, 2)
            if "\t" in line
        ]
    return list(read_jsonl(path))


def default_sets() -> tuple[list[Path], list[Path]]:
    """The project's untuned labelled sets and its noise sets."""
    return (
        sorted((EVAL_DIR / "untuned").glob("*.jsonl")),
        sorted((EVAL_DIR / "noise").glob("*.jsonl")),
    )


def render_set(name: str, ev: dict) -> str:
    """One labelled set's report as text."""
    out = [
        f"== {name}",
        f"messages              {ev['messages']}",
        f"intent accuracy       {ev['intent_accuracy']:.3f}   "
        f"(en/es/fr {ev['intent_accuracy_by_language']['en/es/fr']:.3f}, "
        f"other languages {ev['intent_accuracy_by_language']['other']:.3f})",
        f"language accuracy     {ev['language_accuracy']:.3f}",
        f"critical recall       {ev['critical_recall']:.3f}   "
        f"(with the doubt band {ev['critical_recall_with_doubt']:.3f})",
        f"critical precision    {ev['critical_precision']:.3f}",
        "",
        f"{'intent':<16}{'prec':>7}{'rec':>7}{'f1':>7}{'n':>6}",
    ]
    for intent, m in ev["per_intent"].items():
        if m["support"] or m["precision"]:
            out.append(
                f"{intent:<16}{m['precision']:>7.2f}{m['recall']:>7.2f}{m['f1']:>7.2f}"
                f"{m['support']:>6}"
            )
    out += ["", "confusion (expected -> got: count)"]
    for gold, row in ev["confusion"].items():
        out.append(
            f"  {gold:<16}"
            + ", ".join(f"{p}:{c}" for p, c in sorted(row.items(), key=lambda kv: -kv[1]))
        )
    out += [
        "",
        f"worst misses ({len(ev['worst_misses'])} of {ev['misses']}; "
        "missed critical first, then false alarms)",
    ]
    for m in ev["worst_misses"]:
        top = " ".join(f"{i}:{p:.2f}" for i, p in m["top"])
        flag = " [doubt]" if m["doubt"] else ""
        out.append(
            f"  {m['id']} ({m['language']}) {m['expected']} -> {m['got']}{flag} "
            f"[{top}]: {m['text'][:70]}"
        )
    return "\n".join(out)


def render_noise(name: str, nz: dict) -> str:
    """One noise set's report as text."""
    out = [
        f"== {name} (everyday texts)",
        f"messages              {nz['messages']}",
        f"flagged critical      {nz['critical']}   ({nz['critical_per_1000']} per 1,000)",
        f"in the doubt band     {nz['doubt']}",
        f"help/report/talk      {nz['help_report_talk']}",
    ]
    out += [f"  {line}" for line in nz["flagged_examples"]]
    return "\n".join(out)
