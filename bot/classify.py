"""Lexicon intent classifier: typo-tolerant phrase matching, negation, contract precedence."""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from pathlib import Path

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from bot.language import SUPPORTED, detect_language
from bot.lexicon import (
    ANY,
    Lexicon,
    Phrase,
    correct,
    load_lexicon,
    max_edits,
    swap_or_double,
)
from bot.model import Model, load_model
from bot.normalise import normalise

INTENTS: tuple[str, ...] = (
    "emergency", "self_harm", "help", "report", "talk_to_person", "info", "signs", "services",
    "get_involved", "resources", "language", "stop", "start", "greeting", "thanks", "unknown",
)
PRIORITY: dict[str, str] = {
    "emergency": "critical", "self_harm": "critical", "help": "high", "report": "high",
    "talk_to_person": "high", "info": "normal", "signs": "normal", "services": "normal",
    "get_involved": "low", "resources": "low", "language": "normal", "stop": "low",
    "start": "low", "greeting": "low", "thanks": "low", "unknown": "normal",
}
_RANK = {name: i for i, name in enumerate(INTENTS)}
_CJK = re.compile("[\u3400-\u9fff\u0600-\u06ff]")
REPO_INTENTS = Path(__file__).resolve().parent.parent / "intents"
STRONG = 1.0  # a score at or above this makes an intent a candidate for precedence
WEAK = 0.6  # below STRONG but at or above this: used only when no intent is strong; one cue is 0.5
MAX_GAP = 1  # words allowed between two words of a phrase ("took [away] my passport")
CRITICAL = frozenset({"emergency", "self_harm"})


@dataclass(frozen=True)
class Result:
    """The outcome of classifying one message."""

    intent: str
    priority: str
    language: str
    confidence: float
    matched: str | None = None
    switch_to: str | None = None

    def as_dict(self) -> dict:
        """A plain dict, ready for JSON."""
        return asdict(self)


@dataclass(frozen=True)
class _Hit:
    phrase: Phrase
    start: int
    end: int


def _match_at(tokens: list[str], start: int, phrase: Phrase, gap: int) -> int | None:
    """End index if `phrase` matches `tokens` from `start` with up to `gap` extra words between
    two of its words, else None."""
    pos = start + 1
    for word in phrase.tokens[1:]:
        for skip in range(gap + 1):
            if pos + skip < len(tokens) and tokens[pos + skip] == word:
                pos += skip + 1
                break
        else:
            return None
    return pos


class Classifier:
    """Classifies messages against a loaded `Lexicon`."""

    # the learned backstop (bot/model.py) speaks only when the phrases found nothing decisive;
    # thresholds chosen by leave-one-set-out (bench/generalise.py --sweep): a lower bar for the
    # critical intents (a missed emergency is the worst error) held the noise guard
    model_min = 0.9
    model_min_critical = 0.94  # 0.88 let 3 everyday texts of the spam collection through once
    # fresh21 joined the examples ("Good night. Am going to sleep." at 0.89); 0.8 let 3 earlier
    critical_needs_cue = False  # True: also need a danger word of the phrases ("knife", "die")
    upgrade_min = 2.0  # > 1: the model never overrules a decision of the phrases
    # people in trouble write short texts; long ones the phrases missed are chatter or spam,
    # and skipping them keeps classify above 5,000 messages/s
    model_max_words = 16

    def __init__(self, lexicon: Lexicon, model: Model | None = None) -> None:
        self.lexicon = lexicon
        self.model = model
        self._typos: dict[str, str] = {}
        self._keyword_keys = [k for k in lexicon.keywords if len(k) >= 4]
        self._starts = set(lexicon.singles) | {first for first, _ in lexicon.by_pair}
        self._combo_words: dict[str, list[tuple[int, int]]] = {}
        self._combo_stems: dict[str, list[tuple[int, int]]] = {}
        for c, combo in enumerate(lexicon.combos):
            for g, group in enumerate(combo.groups):
                for word in group:
                    table = self._combo_stems if word.endswith("*") else self._combo_words
                    table.setdefault(word.rstrip("*"), []).append((c, g))
        self._stem_lengths = sorted({len(stem) for stem in self._combo_stems})
        self._stem_heads = {stem[:3] for stem in self._combo_stems}
        # laughter: a `joking` entry as a whole word, drawn out with its own letters ("jajaja",
        # "lmaooo"), but not a word that merely starts so ("lolked", a typo of "locked")
        jokes = "|".join(
            re.escape(j) + "[" + re.escape("".join(sorted(set(j)))) + "]*" for j in lexicon.joking
        )
        self._joking = re.compile(rf"(?:^| )(?:{jokes})(?= |$)") if jokes else None
        self._word_languages = _exclusive_words(lexicon)
        # every language with phrases in the data is one the detector may name
        self._languages = frozenset(SUPPORTED) | {
            p.language for ps in lexicon.by_first.values() for p in ps if p.language != ANY
        }
        ranks, counts = lexicon.word_rank, lexicon.word_count
        ranks.clear()
        counts.clear()
        every = [p for ps in lexicon.by_first.values() for p in ps]
        every += lexicon.keywords.values()
        for phrase in every:
            rank = _RANK.get(phrase.intent, len(INTENTS))
            for word in phrase.tokens:
                ranks[word] = min(ranks.get(word, rank), rank)
                counts[word] = counts.get(word, 0) + 1

    @classmethod
    def from_directory(cls, directory: Path) -> Classifier:
        """Load `directory` (raises DataError naming file and line on a malformed file)."""
        return cls(load_lexicon(Path(directory)), load_model(Path(directory), INTENTS))

    def _canon(self, token: str) -> str:
        word = self._typos.get(token)
        if word is None:
            word = correct(self.lexicon, token)
            if len(self._typos) < 200_000:
                self._typos[token] = word
        return word

    def _negated(self, tokens: list[str], start: int) -> bool:
        """A negation right before `start` ("not locked in"), or one filler word before it ("not
        really locked in"); not a negated stop ("it will not stop bleeding")."""
        lex = self.lexicon
        if start >= 1 and tokens[start - 1] in lex.negations:
            return tokens[start] not in lex.negated_stops
        return (
            start >= 2
            and tokens[start - 2] in lex.negations
            and tokens[start - 1] in lex.negation_fillers
        )

    def hits(self, norm: str) -> tuple[list[str], list[_Hit]]:
        """Canonical tokens of a normalised text and every phrase found in them."""
        raw = norm.split()
        canon, known = self._canon, self._typos
        tokens = [known.get(t) or canon(t) for t in raw]
        # a word corrected from a short typo may only complete a longer phrase: "me conto" must
        # not become "me corto", but "kil myself" may become "kill myself"
        fixed = [i for i, (r, t) in enumerate(zip(raw, tokens, strict=True)) if r != t]
        shaky = {i for i in fixed if len(raw[i]) < 6}
        found: list[_Hit] = []
        singles, by_pair = self.lexicon.singles, self.lexicon.by_pair
        n = len(tokens)
        starts = self._starts
        for i, tok in enumerate(tokens):
            if tok not in starts:
                continue
            candidates: list[Phrase] = []
            single = singles.get(tok)
            if single:
                candidates += single
            if i + 1 < n:
                pair = by_pair.get((tok, tokens[i + 1]))
                if pair:
                    candidates += pair
            if i + 2 < n:
                gapped = by_pair.get((tok, tokens[i + 2]))
                if gapped:
                    candidates += [p for p in gapped if not p.negatable]
            for phrase in candidates:
                end = _match_at(tokens, i, phrase, 0 if phrase.negatable else MAX_GAP)
                if end is None:
                    continue
                if phrase.negatable and self._negated(tokens, i):
                    found.append(_Hit(replace(phrase, intent="~" + phrase.intent), i, end))
                    continue
                if fixed and any(i <= j < end for j in fixed):
                    if phrase.weight < STRONG:
                        continue  # cues are loose evidence already: no typo tolerance on top
                    if len(phrase.tokens) < 3 and any(i <= j < end for j in shaky):
                        continue
                found.append(_Hit(phrase, i, end))
        found += self._combos(raw)
        if not _CJK.search(norm):
            return tokens, found
        seen = {h.phrase for h in found}
        for phrase in self.lexicon.cjk:
            word = " ".join(phrase.tokens)
            if phrase not in seen and word in norm:
                idx = norm.find(word)
                before = norm[max(0, idx - 2) : idx]
                if not (phrase.negatable and any(n in before for n in "不没別别")):
                    found.append(_Hit(phrase, 0, len(tokens)))
        return tokens, found

    def _combos(self, tokens: list[str]) -> list[_Hit]:
        """Hits of data-defined word combinations found near each other in `tokens`."""
        spots: dict[tuple[int, int], list[int]] = {}
        stems, lengths, heads = self._combo_stems, self._stem_lengths, self._stem_heads
        for i, tok in enumerate(tokens):
            for key in self._combo_words.get(tok, ()):
                spots.setdefault(key, []).append(i)
            if tok[:3] not in heads:
                continue
            for n in lengths:
                if n > len(tok):
                    break
                for key in stems.get(tok[:n], ()):
                    spots.setdefault(key, []).append(i)
        if not spots:
            return []
        out = []
        combos = self.lexicon.combos
        for c in sorted({c for c, _ in spots}):  # only combos with a word in the message
            combo = combos[c]
            groups = [spots.get((c, g)) for g in range(len(combo.groups))]
            if not all(groups):
                continue
            for i in groups[0]:
                near = [min((j for j in s if abs(j - i) <= combo.window), default=None,
                            key=lambda j, i=i: abs(j - i)) for s in groups[1:]]
                if any(j is None for j in near):
                    continue
                start = min([i, *near])
                if combo.negatable and self._negated(tokens, start):
                    continue
                phrase = Phrase(combo.intent, (combo.text,), combo.weight, ANY, combo.text,
                                combo.negatable)
                out.append(_Hit(phrase, start, max([i, *near]) + 1))
                break
        return out

    def _keyword(self, tokens: list[str], norm: str) -> Phrase | None:
        """The keyword the whole message is, after typo correction per word, else as a whole."""
        keywords = self.lexicon.keywords
        core = self._strip_politeness(tokens)
        found = keywords.get(" ".join(core))
        if found is not None or len(norm) > 24:
            return found
        raw = " ".join(self._strip_politeness(norm.split()))
        if len(raw) < 4:
            return None
        close = process.extract(raw, self._keyword_keys, scorer=DamerauLevenshtein.distance,
                                processor=None, score_cutoff=max_edits(raw), limit=8)
        if not close:
            return None
        # equally close keywords: the longer one, as in lexicon.correct
        word, dist, _ = min(close, key=lambda c: (c[1], c[0][0] != raw[0], -len(c[0])))
        if word[0] != raw[0] and dist > 1:
            return None
        if len(word) <= 4 and not swap_or_double(raw, word):
            return None  # as in lexicon.correct: four letters forgive only a swap or a double
        return keywords[word]

    def _strip_politeness(self, tokens: list[str]) -> list[str]:
        """Drop leading/trailing "please", "ok", "por favor"... so "START porfa" is a keyword."""
        changed = len(tokens) <= 8  # keywords are short: skip the work on long messages
        while changed and tokens:
            changed = False
            for words in self.lexicon.politeness:
                n = len(words)
                if len(tokens) > n and tuple(tokens[-n:]) == words:
                    tokens, changed = tokens[:-n], True
                elif len(tokens) > n and tuple(tokens[:n]) == words:
                    tokens, changed = tokens[n:], True
        return tokens

    def _not_now(self, tokens: list[str]) -> bool:
        """A danger told as past or fiction ("last year", "in the movie") with no "now" in it."""
        if self.lexicon.now.intersection(tokens):
            return False
        joined = " " + " ".join(tokens) + " "
        return any(" " + " ".join(m) + " " in joined for m in self.lexicon.not_now)

    def _speaks_for_self(self, tokens: list[str], lo: int = 0, hi: int | None = None) -> bool:
        """First-person words in tokens[lo:hi] that are not "I think/saw" or "my <friend>":
        the writer's own case."""
        first, others, rep = self.lexicon.first_person, self.lexicon.others, self.lexicon.reporting
        for i in range(max(0, lo), min(len(tokens), len(tokens) if hi is None else hi)):
            tok = tokens[i]
            if tok not in first:
                continue
            nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
            after = tokens[i + 2] if i + 2 < len(tokens) else ""
            if nxt in others or nxt in rep and not (nxt == "have" and after == "to"):
                continue  # "i think", "my cousin"; but "i have to" is the writer's own case
            return True
        return False

    def _names_other(self, tokens: list[str]) -> bool:
        """Whether the message names someone other than the writer ("my cousin", "her")."""
        others = self.lexicon.others
        joined = " " + " ".join(tokens) + " "
        return any(t in others for t in tokens) or any(
            " " + key + " " in joined for key in others if " " in key)

    def _resolve(self, tokens: list[str], found: list[_Hit]) -> list[_Hit]:
        """Drop hits inside a longer phrase of another intent or after an outranking one;
        turn third-person help into report."""
        excluded = [h for h in found if h.phrase.intent.startswith("!")]
        found = [
            h for h in found if not h.phrase.intent.startswith("!") and not any(
                x.phrase.intent[1:] == h.phrase.intent and x.start < h.end and h.start < x.end
                for x in excluded
            )
        ]
        found = self._tips(tokens, found)
        outranks, outranks_weak = self.lexicon.outranks, self.lexicon.outranks_weak
        kept = []
        for hit in found:
            beaten = any(
                o.phrase.intent != hit.phrase.intent
                and (
                    len(o.phrase.tokens) > len(hit.phrase.tokens) and o.start < hit.start < o.end
                    and o.end - o.start == len(o.phrase.tokens)  # not a phrase read with a gap
                    and hit.end - hit.start == len(hit.phrase.tokens)  # nor a word combination
                    or o.phrase.weight >= STRONG and o.start <= hit.start
                    and (hit.phrase.intent in outranks.get(o.phrase.intent, ())
                         or hit.phrase.weight < STRONG
                         and hit.phrase.intent in outranks_weak.get(o.phrase.intent, ()))
                )
                for o in found
            )
            if not beaten:
                kept.append(hit)
        return kept

    def _tips(self, tokens: list[str], found: list[_Hit]) -> list[_Hit]:
        """Help phrases with no first-person word ("forced to work") describe someone else when
        the message is a tip: it names another person and not the writer, or it is already a
        strong report."""
        first = self.lexicon.first_person
        helps = [h for h in found if h.phrase.intent == "help" and h.phrase.weight >= STRONG]
        if not helps or any(first.intersection(h.phrase.tokens) for h in helps):
            return found
        report = sum(h.phrase.weight for h in found if h.phrase.intent == "report")
        if report < STRONG and not (
            self._names_other(tokens) and not self._speaks_for_self(tokens)
        ):
            return found
        # "my boyfriend takes all the money i make": a first-person word right next to the help
        # phrase keeps it the writer's own case, even when the message also reads like a tip
        if any(self._speaks_for_self(tokens, h.start - 2, h.end) for h in helps):
            return found
        return [
            _Hit(replace(h.phrase, intent="report"), h.start, h.end)
            if h.phrase.intent == "help" and h.phrase.weight >= STRONG else h
            for h in found
        ]

    def classify(self, text: str, *, conversation_language: str | None = None) -> Result:
        """Classify one message; `conversation_language` is the language the conversation is in."""
        default_lang = conversation_language or "en"
        norm = normalise(text or "")
        if not norm:
            return Result("unknown", PRIORITY["unknown"], default_lang, 1.0)
        tokens, found = self.hits(norm)
        keyword = self._keyword(tokens, norm)
        if keyword is not None:
            lang = keyword.language
            if lang == ANY or len(tokens) == 1 and lang == "en" and conversation_language:
                lang = default_lang
                if len(tokens) > len(keyword.tokens):  # "START porfa": the courtesy word tells
                    lang = detect_language(text, conversation_language=conversation_language,
                                           languages=self._languages)
            return Result(keyword.intent, PRIORITY[keyword.intent], lang, 0.95,
                          keyword.text, keyword.switch_to)
        language = detect_language(text, conversation_language=conversation_language,
                                   word_languages=self._word_languages, languages=self._languages)
        scores: dict[str, float] = {}
        best_hit: dict[str, _Hit] = {}
        covered: dict[str, set[int]] = {}
        # Negated phrases ("i am not locked in") and everyday idioms ("locked out", "kill me lol")
        # count for nothing, and the model may not undo them: their intents are ruled out.
        ruled_out = {h.phrase.intent[1:] for h in found if h.phrase.intent[0] in "~!"}
        found = self._resolve(tokens, [h for h in found if not h.phrase.intent.startswith("~")])
        if self._joking is not None and self._joking.search(norm):
            found = [h for h in found if h.phrase.intent not in CRITICAL]
            ruled_out |= CRITICAL
        if "emergency" in {h.phrase.intent for h in found} and self._not_now(tokens):
            found = [h for h in found if h.phrase.intent != "emergency"]
            ruled_out.add("emergency")
        cues = {h.phrase.intent for h in found}
        # per intent, overlapping hits count once (the heaviest): "help me" is not also "help"
        counted: set[tuple[str, tuple[str, ...]]] = set()
        weak_seen: set[str] = set()
        for hit in sorted(found, key=lambda h: -h.phrase.weight):
            intent = hit.phrase.intent
            span = set(range(hit.start, hit.end))
            taken = covered.setdefault(intent, set())
            key = (intent, hit.phrase.tokens)
            if span & taken or key in counted:
                continue  # a phrase said twice ("blood, blood") is still one piece of evidence
            counted.add(key)
            taken |= span
            if WEAK <= hit.phrase.weight < STRONG:
                # weak phrases ("i need help", "i am a survivor") never add up to a strong one
                if intent in weak_seen:
                    continue
                weak_seen.add(intent)
            scores[intent] = scores.get(intent, 0.0) + hit.phrase.weight
            top = best_hit.get(intent)
            if top is None or hit.phrase.weight > top.phrase.weight:
                best_hit[intent] = hit
        for intent in self.lexicon.whole_only & scores.keys():
            # greetings and thanks count only when they are (nearly) the whole message
            if len(covered[intent]) < 0.25 * len(tokens):
                del scores[intent]
        strong = [i for i, s in scores.items() if s >= STRONG]
        if strong:
            intent = min(strong, key=_RANK.__getitem__)
        else:
            weak = [i for i, s in scores.items() if s >= WEAK]
            # weak evidence decides only when it explains most of the message:
            # "help me" decides "please help me", not "help me pick a dress"
            weak = [i for i in weak if len(covered[i]) >= 0.6 * len(tokens)]
            if not weak:
                learned = self._backstop(norm, language, cues, ruled_out, "unknown")
                return learned or Result("unknown", PRIORITY["unknown"], language, 0.5)
            intent = max(weak, key=lambda i: (scores[i], -_RANK[i]))
        hit = best_hit[intent]
        confidence = round(min(1.0, 0.5 + scores[intent] / 2), 3)
        if intent not in CRITICAL and self.upgrade_min <= 1.0:
            learned = self._backstop(norm, language, cues, ruled_out, intent)
            if learned is not None:
                return learned
        return Result(intent, PRIORITY[intent], language, confidence, hit.phrase.text,
                      hit.phrase.switch_to)

    def _backstop(self, norm: str, language: str, cues: set[str], ruled_out: set[str],
                  decided: str) -> Result | None:
        """The model's intent when it is sure enough, else None. `decided` is what the phrases
        chose: from `unknown` any intent may follow, from another intent only a critical one;
        never an intent in `ruled_out` (negated, an idiom, or an emergency told as past)."""
        if self.model is None or norm.count(" ") >= self.model_max_words:
            return None
        intent, prob = self.model.predict(norm)
        if intent == "unknown" or intent == decided:
            return None
        if intent in CRITICAL:
            bar = self.model_min_critical if decided == "unknown" else self.upgrade_min
            if prob < bar or intent in ruled_out:
                return None
            if self.critical_needs_cue and not cues & CRITICAL:
                return None
        elif decided != "unknown" or prob < self.model_min:
            return None
        return Result(intent, PRIORITY[intent], language, round(prob, 3), f"model:{prob:.2f}")


def _exclusive_words(lexicon: Lexicon) -> dict[str, str]:
    """Words of four letters or more that only one language's phrases use, as language cues."""
    seen: dict[str, set[str]] = {}
    every = [p for ps in lexicon.by_first.values() for p in ps]
    every += lexicon.keywords.values()
    for phrase in every:
        if phrase.language == ANY:
            continue
        for word in phrase.tokens:
            if len(word) >= 4 and word.isalpha():
                seen.setdefault(word, set()).add(phrase.language)
    return {word: next(iter(langs)) for word, langs in seen.items() if len(langs) == 1}


@lru_cache(maxsize=4)
def _cached(directory: str) -> Classifier:
    return Classifier.from_directory(Path(directory))


def default_classifier() -> Classifier:
    """The classifier for `<repo>/intents` (or `$INTENTS_DIR`), loaded once per process."""
    return _cached(os.environ.get("INTENTS_DIR") or str(REPO_INTENTS))
