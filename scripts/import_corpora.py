"""One-off: split the public corpora into training and evaluation files (see data/README.md).

    python scripts/import_corpora.py SMS_TSV CHATTERBOT_WHEEL

The SMS Spam Collection (Almeida and Gomez Hidalgo, free for any use with a citation) and the
chatterbot-corpus conversations (BSD-3) are split by a hash of each text's key, so the same
text never lands on both sides: two thirds train the head as `unknown`, one third measures how
often everyday texts are flagged critical.
"""

from __future__ import annotations

import hashlib
import json
import sys
import zipfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bot.triage.dataset import same_text_key  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def bucket(text: str, parts: int) -> int:
    return hashlib.sha256(same_text_key(text).encode()).digest()[0] % parts


def write(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{path.relative_to(REPO)}: {len(rows)}")


def sms(tsv: Path) -> None:
    train, held = [], []
    for i, line in enumerate(tsv.read_text(encoding="utf-8").splitlines()[1:], 1):
        label, _, text = line.partition("\t")
        if not text.strip() or not same_text_key(text):
            continue
        row = {
            "id": f"sms-{i:04d}",
            "text": text,
            "intent": "unknown",
            "language": "en",
            "kind": label,
        }
        (held if bucket(text, 3) == 0 else train).append(row)
    write(REPO / "data/train/corpora/sms_spam_collection.jsonl", train)
    write(REPO / "eval/noise/sms_spam_collection.jsonl", held)


LANGS = {
    "english": "en",
    "spanish": "es",
    "french": "fr",
    "portuguese": "pt",
    "german": "de",
    "italian": "it",
    "russian": "ru",
    "ukrainian": "uk",
    "chinese": "zh",
    "traditionalchinese": "zh",
    "japanese": "ja",
    "korean": "ko",
    "thai": "th",
    "hindi": "hi",
    "hinglish": "hi",
    "bengali": "bn",
    "urdu": "ur",
    "persian": "fa",
    "turkish": "tr",
    "indonesian": "id",
    "dutch": "nl",
    "swedish": "sv",
    "hebrew": "he",
    "tamil": "ta",
    "telugu": "te",
    "marathi": "mr",
    "oriya": "or",
    "yoruba": "yo",
}


def chat(wheel: Path) -> None:
    train, held = [], []
    with zipfile.ZipFile(wheel) as zf:
        names = sorted(n for n in zf.namelist() if n.endswith(".yml"))
        for name in names:
            parts = name.split("/")
            lang, topic = LANGS.get(parts[-2]), parts[-1][:-4]
            if lang is None:
                continue
            doc = yaml.safe_load(zf.read(name)) or {}
            for convo in doc.get("conversations") or []:
                for text in convo:
                    if not isinstance(text, str) or not same_text_key(text):
                        continue
                    row = {
                        "text": text.strip(),
                        "intent": "unknown",
                        "language": lang,
                        "topic": topic,
                    }
                    if bucket(text, 2) == 0:
                        held.append(row)
                    # greetings, thanks and short replies are other intents or nothing: the
                    # head learns `unknown` from the longer everyday lines only (three words, or
                    # eight characters in scripts written without spaces)
                    elif topic not in {"greetings", "conversations"} and (
                        len(text.split()) >= 3 or " " not in text.strip() and len(text) >= 8
                    ):
                        train.append(row)
    seen: set[str] = set()
    for rows in (train, held):
        unique = []
        for row in rows:
            key = same_text_key(row["text"])
            if key not in seen:
                seen.add(key)
                unique.append(row)
        rows[:] = unique
    for i, row in enumerate(held, 1):
        row["id"] = f"chat-{i:05d}"
    write(REPO / "data/train/corpora/chatterbot_corpus.jsonl", train)
    write(REPO / "eval/noise/chatterbot_corpus.jsonl", held)


if __name__ == "__main__":
    sms(Path(sys.argv[1]))
    chat(Path(sys.argv[2]))
