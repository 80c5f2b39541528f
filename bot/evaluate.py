"""Accuracy report for a labelled JSONL file and false-alarm counts on everyday texts."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from bot.classify import INTENTS, default_classifier

CRITICAL = {"emergency", "self_harm"}
HIGH_ALARM = {"help", "report", "talk_to_person"}


def _ratio(a: float, b: float) -> float:
    return round(a / b, 4) if b else 0.0


def evaluate_rows(rows: list[dict]) -> dict:
    """Metrics for labelled rows `{"id","text","intent","language"}`."""
    clf = default_classifier()
    pairs = Counter()
    lang_ok = 0
    misses = []
    crit_tp = crit_fn = crit_fp = 0
    for row in rows:
        res = clf.classify(row["text"], conversation_language=row.get("conversation_language"))
        gold = row["intent"]
        pairs[(gold, res.intent)] += 1
        lang_ok += res.language == row.get("language")
        g_crit, p_crit = gold in CRITICAL, res.intent in CRITICAL
        crit_tp += g_crit and p_crit
        crit_fn += g_crit and not p_crit
        crit_fp += p_crit and not g_crit
        if gold != res.intent:
            # a missed critical message is the worst error, then any miss of a high one
            severity = 3 if g_crit else 2 if p_crit else 1
            misses.append({
                "id": row.get("id"), "text": row["text"], "expected": gold, "got": res.intent,
                "matched": res.matched, "severity": severity,
            })
        elif res.language != row.get("language"):
            pass
    n = len(rows)
    per_intent = {}
    for intent in INTENTS:
        tp = pairs[(intent, intent)]
        fp = sum(c for (g, p), c in pairs.items() if p == intent and g != intent)
        fn = sum(c for (g, p), c in pairs.items() if g == intent and p != intent)
        prec, rec = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
        f1 = round(2 * prec * rec / (prec + rec), 4) if prec + rec else 0.0
        per_intent[intent] = {"precision": prec, "recall": rec, "f1": f1, "support": tp + fn}
    confusion = {g: {p: pairs[(g, p)] for p in INTENTS if pairs[(g, p)]} for g in INTENTS}
    misses.sort(key=lambda m: -m["severity"])
    return {
        "messages": n,
        "intent_accuracy": _ratio(sum(pairs[(i, i)] for i in INTENTS), n),
        "language_accuracy": _ratio(lang_ok, n),
        "critical_recall": _ratio(crit_tp, crit_tp + crit_fn),
        "critical_precision": _ratio(crit_tp, crit_tp + crit_fp),
        "per_intent": per_intent,
        "confusion": {g: row for g, row in confusion.items() if row},
        "worst_misses": misses[:20],
        "misses": len(misses),
    }


def evaluate_file(path: Path) -> dict:
    """Metrics for a labelled JSONL file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    return evaluate_rows(rows)


def noise_file(path: Path) -> dict:
    """Counts of critical and help/report/talk_to_person flags on the SMS Spam Collection TSV."""
    clf = default_classifier()
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    texts = [line.split("\t", 1)[1] for line in lines[1:] if "\t" in line]
    counts = Counter()
    examples: dict[str, list[str]] = {}
    for text in texts:
        intent = clf.classify(text).intent
        counts[intent] += 1
        if intent in CRITICAL | HIGH_ALARM:
            examples.setdefault(intent, []).append(text[:100])
    return {
        "messages": len(texts),
        "critical": sum(counts[i] for i in CRITICAL),
        "help_report_talk": sum(counts[i] for i in HIGH_ALARM),
        "by_intent": dict(counts.most_common()),
        "flagged_examples": {k: v[:10] for k, v in examples.items()},
    }


def render(report: dict) -> str:
    """The report as text for a terminal."""
    out: list[str] = []
    ev = report.get("eval")
    if ev:
        out.append(f"messages            {ev['messages']}")
        out.append(f"intent accuracy     {ev['intent_accuracy']:.3f}")
        out.append(f"language accuracy   {ev['language_accuracy']:.3f}")
        out.append(f"critical recall     {ev['critical_recall']:.3f}   (emergency + self_harm)")
        out.append(f"critical precision  {ev['critical_precision']:.3f}")
        out.append("")
        out.append(f"{'intent':<16}{'prec':>7}{'rec':>7}{'f1':>7}{'n':>6}")
        for intent, m in ev["per_intent"].items():
            out.append(f"{intent:<16}{m['precision']:>7.2f}{m['recall']:>7.2f}{m['f1']:>7.2f}"
                       f"{m['support']:>6}")
        out.append("")
        out.append("confusion (expected -> got: count), errors only")
        for gold, row in ev["confusion"].items():
            wrong = {p: c for p, c in row.items() if p != gold}
            if wrong:
                out.append(f"  {gold:<16}" + ", ".join(f"{p}:{c}" for p, c in sorted(
                    wrong.items(), key=lambda kv: -kv[1])))
        out.append("")
        out.append(f"worst misses ({len(ev['worst_misses'])} of {ev['misses']})")
        for m in ev["worst_misses"]:
            out.append(f"  {m['id']}: expected {m['expected']}, got {m['got']}"
                       f" (matched {m['matched']!r}): {m['text'][:80]}")
    nz = report.get("noise")
    if nz:
        out.append("")
        out.append(f"noise messages      {nz['messages']}")
        out.append(f"flagged critical    {nz['critical']}")
        out.append(f"help/report/talk    {nz['help_report_talk']}")
        for intent, texts in nz["flagged_examples"].items():
            for text in texts[:5]:
                out.append(f"  {intent}: {text}")
    return "\n".join(out)
