"""Triage: a priority score per mention, the reasons behind it, and a verdict (main, spam, delight).

Pure domain code (no Textual, no I/O): `TriageScorer(config).assess(item)` looks at one new
mention and what the database knew about its author (`db.triage.TriageInput`), and returns an
`Assessment`. The Store calls `TriageScorer.score` (the `db.triage.Scorer` protocol) at ingest and
stores priority, reasons and lane with the row; `install(store, config)` sets that up.

Signals, each with its reason as the agent reads it in the detail pane:
- priority: audience ("large audience: 120k followers"), verified account, keywords from the
  config with their weights ("keyword: avocat"), a negative tone from a small FR/EN lexicon,
  repeat contacts in the last 24 hours ("repeat contact: 3rd message today"). The score is the
  source's own priority (0 for channels) plus these points; it is stored in mentions.priority.
- spam/troll: link-only text, shortened links, scam words, a new account (when the channel says
  when it was created), the same text again, the same word over and over, shouting, many
  @mentions, insults, the block list. Their points reach `spam_threshold`: the spam lane, with
  one reason such as "likely spam: link-only, account 2 days old".
- delight: a positive message from a loyal customer (at least `loyal_after` past mentions) or a
  large audience: tagged "delight", main lane.

Matching is accent- and case-insensitive ("reponse", "Réponse" and "RÉPONSE" are one word); a
keyword or lexicon entry may end with "*" to match word prefixes ("rembours*").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Final, Literal

from db.triage import TRIAGE_MAIN, TRIAGE_SPAM, TriageInput, TriageResult

if TYPE_CHECKING:
    from db.store import Store

DAY: Final = 86_400
DELIGHT_TAG: Final = "delight"
Verdict = Literal["main", "spam", "delight"]

# --- configuration (parsed from [triage] by console/triage_config.py) ----------------------------

DEFAULT_KEYWORDS: Final[Mapping[str, Mapping[str, int]]] = MappingProxyType({
    "fr": MappingProxyType({
        "avocat": 3, "mise en demeure": 3, "tribunal": 3, "journaliste": 3, "plainte": 2,
        "ufc": 2, "que choisir": 2, "signalconso": 2, "arcep": 2, "mediateur": 2, "arnaque": 2,
        "resili*": 2, "urgent": 2, "urgence": 2, "personnes agees": 2, "parents ages": 2,
        "handicap*": 2, "rembours*": 1, "panne": 1, "teletravail": 1, "preleve deux fois": 2,
    }),
    "en": MappingProxyType({
        "lawyer": 3, "solicitor": 3, "legal action": 3, "sue": 3, "small claims": 3,
        "journalist": 3, "ombudsman": 2, "ofcom": 2, "complaint": 2, "scam": 2, "fraud": 2,
        "cancel*": 2, "urgent": 2, "emergency": 2, "elderly": 2, "disabled": 2, "refund*": 1,
        "outage": 1, "charged twice": 2,
    }),
})  # fmt: skip
LANGUAGES: Final = ("fr", "en")


@dataclass(frozen=True)
class TriageConfig:
    """The `[triage]` settings. `keywords` maps a language to {phrase: weight}; `block_list`
    holds handles ("@name", matched against the author) and words or phrases (matched in the
    text); either sends a mention straight to the spam lane."""

    keywords: Mapping[str, Mapping[str, int]] = field(default_factory=lambda: DEFAULT_KEYWORDS)
    block_list: tuple[str, ...] = ()
    audience_threshold: int = 10_000  # "large audience" from this many followers
    spam_threshold: int = 3  # spam points that send a mention to the spam lane
    loyal_after: int = 2  # past mentions that make a customer "loyal" (delight)
    new_account_days: int = 14  # an account younger than this is "new" (spam signal)


# --- text folding and the lexicons ---------------------------------------------------------------

_EXTRA_FOLD: Final = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss", "’": "'", "ø": "o"})


def fold(text: str) -> str:
    """Lower case without accents: "Réponse" and "REPONSE" both give "reponse"."""
    if text.isascii():  # the common case, and a hundred times cheaper
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_EXTRA_FOLD))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# Sentiment words (folded). Plurals and feminines are found by `_lookup` ("nuls" -> "nul").
LEXICON: Final[Mapping[str, tuple[frozenset[str], frozenset[str]]]] = MappingProxyType({
    "fr": (
        frozenset({  # positive
            "merci", "bravo", "super", "genial", "top", "parfait", "excellent", "incroyable",
            "formidable", "rapide", "efficace", "sympa", "adorable", "ravi", "content",
            "satisfait", "heureux", "heureuse", "meilleur", "regle", "resolu", "sauve",
            "ponctuel", "professionnel", "chapeau", "recommande", "nickel", "impeccable",
            "aimable", "chaleureux",
        }),
        frozenset({  # negative
            "nul", "honte", "scandale", "scandaleux", "inadmissible", "inacceptable",
            "lamentable", "catastrophe", "catastrophique", "pire", "horrible", "deplorable",
            "colere", "furieux", "furieuse", "decu", "decevant", "arnaque", "panne", "coupe",
            "coupure", "impossible", "bloque", "plante", "probleme", "galere", "marre",
            "incompetent", "menteur", "voleur", "regret", "sature", "morte", "grave",
        }),
    ),
    "en": (
        frozenset({
            "thanks", "thank", "great", "brilliant", "excellent", "amazing", "awesome", "love",
            "loved", "perfect", "fantastic", "wonderful", "friendly", "helpful", "quick",
            "sorted", "fixed", "resolved", "best", "happy", "pleased", "superb", "legend",
            "kudos", "cheers", "impressed", "recommend", "delighted", "lovely", "saved",
        }),
        frozenset({
            "terrible", "awful", "worst", "useless", "rubbish", "disgrace", "shocking",
            "appalling", "pathetic", "ridiculous", "unacceptable", "angry", "furious",
            "disappointed", "annoyed", "frustrated", "nightmare", "scam", "broken", "down",
            "outage", "crash", "crashes", "nothing", "still", "stuck", "lost", "joke",
            "incompetent", "hate", "worse", "fail", "failed", "jammed", "zero",
        }),
    ),
})  # fmt: skip
POSITIVE_EMOJI: Final = frozenset("😍🙏👏❤🥳✨👍💚😊🎉💯🙌🤩😀😃😄🥰")
NEGATIVE_EMOJI: Final = frozenset("😡🤬😤🙄👎💢😠😕😞😩🤡😒😭")
NEGATORS: Final = frozenset({
    "pas", "jamais", "aucun", "aucune", "sans", "ni", "not", "no", "never", "without",
})  # fmt: skip

# Spam and troll vocabularies (folded phrases).
SCAM_WORDS: Final = frozenset({
    "crypto", "bitcoin", "btc", "nft", "airdrop", "giveaway", "gagnez", "cliquez", "click here",
    "dm me", "followforfollow", "f4f", "follow back", "signals", "doubler", "casino",
    "compte sera suspendu", "verifiez ici", "verify your account", "account will be suspended",
})  # fmt: skip
INSULTS: Final = frozenset({
    "nul", "clown", "incompetent", "incapable", "abruti", "debile", "idiot", "bouffon",
    "minable", "escroc", "pourri", "pire boite", "pire entreprise", "trash", "garbage",
    "moron", "loser", "stupid", "crook", "worst company",
})  # fmt: skip
SHORTENERS: Final = frozenset({"bit.ly", "tinyurl", "t.me", "goo.gl", "ow.ly", "is.gd", "t.co"})

_URL: Final = re.compile(r"(?:https?://|www\.|\bt\.me/)\S+", re.IGNORECASE)
_HANDLE: Final = re.compile(r"(?<![\w@])@[\w.]+(?:@[\w.-]+)?")
_CASHTAG: Final = re.compile(r"\$[A-Za-z]{2,}")
_WORD: Final = re.compile(r"\w+")
_SHOUT_RUN: Final = re.compile(r"([!?])\1{3,}")
_N_T: Final = re.compile(r"n't\b")


# Quoted words are someone else's ("la carte dit « couverture excellente »"), and sarcasm
# markers turn praise into complaint.
_QUOTED: Final = re.compile(r"«[^»]*»|\"[^\"]*\"|“[^”]*”")
_SARCASM: Final = re.compile(r"\((?:non|not|pas)\)|(?:^|\s)/s\b|#sarcas")
_SENTENCES: Final = re.compile(r"[.!?;]+")
_ELLIPSIS: Final = re.compile(r"\.{2,}")
_CLAUSES: Final = re.compile(r"[,:()\[\]]+")


def _sentiment(folded: str, langs: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """Positive and negative lexicon words of a folded text. A negator just before a word
    (within its clause) flips it ("pas content", "aucun regret"); a positive word in a sentence
    that also holds a negator elsewhere does not count ("on m'a dit que c'était réglé… ce
    n'est pas le cas")."""
    positive: list[str] = []
    negative: list[str] = []
    # An ellipsis (folded to "...") continues the sentence: "réglé… ce n'est pas le cas".
    for sentence in _SENTENCES.split(_ELLIPSIS.sub(",", _N_T.sub(" not", folded))):
        sentence_negated = any(t in NEGATORS for t in _WORD.findall(sentence))
        for clause in _CLAUSES.split(sentence):
            tokens = _WORD.findall(clause)
            for i, token in enumerate(tokens):
                negated = any(t in NEGATORS for t in tokens[max(0, i - 2) : i])
                for lang in langs:
                    pos, neg = LEXICON[lang]
                    if (word := _lookup(token, pos)) is not None:
                        if negated:
                            negative.append(word)
                        elif not sentence_negated:
                            positive.append(word)
                        break
                    if (word := _lookup(token, neg)) is not None:
                        (positive if negated else negative).append(word)
                        break
    return positive, negative


def _lookup(word: str, words: frozenset[str]) -> str | None:
    """`word` or its singular / masculine form when that is in `words`."""
    if word in words:
        return word
    for suffix in ("es", "s", "e"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: -len(suffix)]
            if stem in words:
                return stem
    return None


def _forms(word: str) -> tuple[str, ...]:
    """The word and its singular / masculine forms ("nulles" -> "nulles", "nulle", "nul")."""
    forms = [word]
    for suffix in ("es", "s", "e"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            forms.append(word[: -len(suffix)])
    return tuple(forms)


class _Phrases:
    """Folded phrases (some ending with '*': a prefix), found as whole word sequences."""

    def __init__(self, phrases: Iterable[str]) -> None:
        self.by_first: dict[str, list[tuple[tuple[str, ...], bool, str]]] = {}
        self.prefixes: list[tuple[tuple[str, ...], str]] = []
        for phrase in phrases:
            prefix = phrase.endswith("*")
            words = tuple(_WORD.findall(fold(phrase.rstrip("*"))))
            if not words:
                continue
            if prefix and len(words) == 1:
                self.prefixes.append((words, phrase))
            else:
                self.by_first.setdefault(words[0], []).append((words, prefix, phrase))

    def find(self, tokens: list[str]) -> list[str]:
        """The phrases present in `tokens`, in the order given (each once)."""
        found: dict[str, None] = {}
        by_first = self.by_first
        for i, token in enumerate(tokens):
            for first in _forms(token):
                for words, prefix, phrase in by_first.get(first, ()):
                    n = len(words)
                    window = [first, *tokens[i + 1 : i + n]]
                    if len(window) < n or window[:-1] != list(words[:-1]):
                        continue
                    last = window[-1]
                    if (last == words[-1] or words[-1] in _forms(last)
                            or (prefix and last.startswith(words[-1]))):
                        found[phrase] = None
            for (stem,), phrase in self.prefixes:
                if token.startswith(stem):
                    found[phrase] = None
        return list(found)


# --- text features (cached per text: bulk loads repeat texts) -----------------------------------


@dataclass(frozen=True, slots=True)
class TextFeatures:
    tokens: tuple[str, ...]
    normalized: str  # for "the same text again": folded words, links included
    positive: tuple[str, ...]
    negative: tuple[str, ...]
    keywords: tuple[tuple[str, int], ...]
    links: int
    shortened: bool
    link_only: bool
    handles: int
    scam: tuple[str, ...]
    insults: tuple[str, ...]
    blocked_words: tuple[str, ...]
    repeated_word: str | None
    shouting: bool


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def audience_text(n: int) -> str:
    """120000 -> "120k", 1250000 -> "1.2M", 9500 -> "9.5k", 800 -> "800"."""
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}".rstrip("0").rstrip(".") + "M"
    if n >= 10_000:
        return f"{n // 1000}k"
    if n >= 1000:
        return f"{n / 1000:.1f}".rstrip("0").rstrip(".") + "k"
    return str(n)


def _days_text(days: int) -> str:
    if days <= 0:
        return "account less than a day old"
    return f"account {days} day{'s' if days != 1 else ''} old"


@dataclass(frozen=True, slots=True)
class Assessment:
    """The triage of one mention: `score` goes to mentions.priority, `reasons` to the detail
    pane (one line each), `verdict` decides the lane and the delight tag."""

    score: int
    reasons: tuple[str, ...]
    verdict: Verdict
    spam_points: int = 0


# Cached text features per scorer; cleared when full so memory stays bounded on any load.
_CACHE_SIZE: Final = 16_384
_MAX_KEYWORD_POINTS: Final = 5


class TriageScorer:
    """Scores mentions with one `TriageConfig`; `score` is the db.triage.Scorer protocol."""

    def __init__(self, config: TriageConfig | None = None) -> None:
        self.config = config = config or TriageConfig()
        self._keywords = {
            lang: (_Phrases(words), {p: w for p, w in words.items() if w})
            for lang, words in config.keywords.items()
        }
        handles = [b for b in config.block_list if b.startswith("@")]
        self._blocked_handles = frozenset(fold(h).lstrip("@") for h in handles)
        self._blocked_words = _Phrases(b for b in config.block_list if not b.startswith("@"))
        self._scam = _Phrases(SCAM_WORDS)
        self._insults = _Phrases(INSULTS)
        self._cache: dict[tuple[str, str | None], TextFeatures] = {}
        self._results: dict[tuple[object, ...], TriageResult] = {}

    # --- text ------------------------------------------------------------------------------------
    def features(self, text: str, lang: str | None) -> TextFeatures:
        key = (text, lang)
        cached = self._cache.get(key)
        if cached is None:
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.clear()
            cached = self._cache[key] = self._features(text, _languages(lang))
        return cached

    def _features(self, text: str, langs: tuple[str, ...]) -> TextFeatures:
        urls = _URL.findall(text)
        rest = _URL.sub(" ", text)
        handles = _HANDLE.findall(rest)
        rest = _HANDLE.sub(" ", rest)
        folded = fold(rest)
        tokens = _WORD.findall(_N_T.sub(" not", folded))
        positive, negative = _sentiment(_QUOTED.sub(" ", folded), langs)
        for char in text:
            if char in POSITIVE_EMOJI:
                positive.append(char)
            elif char in NEGATIVE_EMOJI:
                negative.append(char)
        if _SARCASM.search(folded):  # "Merci 👏👏 (non)": the praise is the complaint
            negative += positive
            positive = []
        keywords: dict[str, int] = {}
        for lang in langs:
            entry = self._keywords.get(lang)
            if entry is not None:
                phrases, weights = entry
                for phrase in phrases.find(tokens):
                    if phrase in weights:
                        keywords.setdefault(phrase.rstrip("*"), weights[phrase])
        url_text = fold(" ".join(urls))
        all_tokens = _WORD.findall(fold(text))
        scam = self._scam.find(all_tokens)
        if _CASHTAG.search(text):
            scam.append(_CASHTAG.findall(text)[0])
        counts: dict[str, int] = {}
        for token in tokens:
            if len(token) >= 3 and not token.isdigit():
                counts[token] = counts.get(token, 0) + 1
        repeated = max(counts, key=counts.__getitem__) if counts else None
        if repeated is not None and not (
            counts[repeated] >= 3 and counts[repeated] * 10 >= len(tokens) * 3
        ):
            repeated = None
        letters = [c for c in rest if c.isalpha()]
        upper = sum(1 for c in letters if c.isupper())
        emoji_run = any(text.count(e) >= 4 for e in set(text) if ord(e) > 0x2000 and
                        not e.isalnum() and not e.isspace())
        shouting = (
            bool(_SHOUT_RUN.search(text)) or emoji_run
            or (len(letters) >= 12 and upper * 10 >= len(letters) * 8)
        )
        return TextFeatures(
            tokens=tuple(tokens),
            normalized=" ".join(all_tokens),
            positive=tuple(positive),
            negative=tuple(negative),
            keywords=tuple(keywords.items()),
            links=len(urls),
            shortened=any(s in url_text for s in SHORTENERS),
            link_only=bool(urls) and not any(len(t) > 1 for t in tokens),
            handles=len(handles),
            scam=tuple(scam),
            insults=tuple(self._insults.find(tokens)),
            blocked_words=tuple(self._blocked_words.find(all_tokens)),
            repeated_word=repeated,
            shouting=shouting,
        )

    # --- one mention -----------------------------------------------------------------------------
    def assess(self, item: TriageInput) -> Assessment:
        config = self.config
        m = item.mention
        f = self.features(m.text, m.lang)
        points = m.priority
        reasons: list[str] = []

        def add(text: str, value: int) -> None:
            nonlocal points
            points += value
            reasons.append(f"{text} (+{value})" if value else text)

        if item.audience >= config.audience_threshold:
            big = item.audience >= 10 * config.audience_threshold
            add(f"large audience: {audience_text(item.audience)} followers", 3 if big else 2)
        if m.author_verified:
            add("verified account", 1)
        budget = _MAX_KEYWORD_POINTS
        for phrase, weight in f.keywords:
            value = max(0, min(weight, budget))
            budget -= value
            if value:
                add(f"keyword: {phrase}", value)
            else:
                reasons.append(f"keyword: {phrase} (over the {_MAX_KEYWORD_POINTS}-point cap)")
        negative_tone = len(f.negative) > len(f.positive)
        if negative_tone:
            shown = ", ".join(dict.fromkeys(f.negative[:3]))
            add(f"negative tone: {shown}", 2 if len(f.negative) >= 3 else 1)
        nth = item.recent_mentions + 1
        if nth >= 2:
            add(f"repeat contact: {_ordinal(nth)} message today", 2 if nth >= 3 else 1)

        spam, signals, troll = self._spam(item, f)
        if spam >= config.spam_threshold:
            kind = "troll" if troll else "spam"
            reasons.insert(0, f"likely {kind}: {', '.join(signals)}")
            return Assessment(max(points, 0), tuple(reasons), "spam", spam)
        positive = bool(f.positive) and len(f.positive) > len(f.negative)
        loyal = item.past_mentions >= config.loyal_after
        if positive and (loyal or item.audience >= config.audience_threshold):
            why = (f"loyal customer, {item.past_mentions} past messages" if loyal
                   else f"{audience_text(item.audience)} followers")
            reasons.insert(0, f"delight: positive message from a {why}"
                           if loyal else f"delight: positive message, {why}")
            return Assessment(max(points, 0), tuple(reasons), "delight", spam)
        if signals:  # below the threshold, but worth a look
            reasons.append(f"spam signals ({spam} of {config.spam_threshold}): "
                           + ", ".join(signals))
        return Assessment(max(points, 0), tuple(reasons), "main", spam)

    def _spam(self, item: TriageInput, f: TextFeatures) -> tuple[int, list[str], bool]:
        """(spam points, their reasons, whether it reads as a troll rather than a spammer)."""
        config = self.config
        m = item.mention
        points = 0
        signals: list[str] = []
        if self._blocked_handles:
            handle = fold(m.author_handle).lstrip("@")
            if handle in self._blocked_handles or handle.split("@")[0] in self._blocked_handles:
                points += config.spam_threshold
                signals.append(f"blocked handle: {m.author_handle}")
        for word in f.blocked_words:
            points += config.spam_threshold
            signals.append(f"blocked word: {word}")
        if f.link_only:
            points += 2
            signals.append("link-only")
        if f.shortened:
            points += 1
            signals.append("shortened link")
        if f.scam:
            points += 2 + (1 if len(f.scam) > 1 else 0) + (1 if f.links else 0)
            signals.append("scam words: " + ", ".join(f.scam[:3]))
        if m.author_created_at is not None:
            days = (m.created_at - m.author_created_at) // DAY
            if days < config.new_account_days:
                points += 2
                signals.append(_days_text(days))
        same = sum(1 for t in item.recent_texts
                   if self.features(t, m.lang).normalized == f.normalized)
        if same and f.normalized:
            points += 2
            signals.append(f"same text {same + 1} times today")
        if f.repeated_word is not None:
            points += 2
            signals.append(f"repeated word: {f.repeated_word}")
        if f.shouting:
            points += 1
            signals.append("shouting")
        if f.handles >= 5:  # mass-mentioning, worse with a link to sell
            points += 2 + (1 if f.links else 0)
            signals.append(f"{f.handles} @mentions")
        if f.insults:
            points += 2
            signals.append("insult: " + ", ".join(f.insults[:2]))
        return points, signals, bool(f.insults)

    def score(self, item: TriageInput) -> TriageResult:
        """`assess` as the Store stores it. Results are cached by everything `assess` reads (a
        bulk load of a million generated rows meets the same few thousand cases again and
        again); the key keeps exact values only where a reason shows them."""
        config = self.config
        m = item.mention
        audience = item.audience if item.audience >= config.audience_threshold else -1
        age = None
        if m.author_created_at is not None:
            age = (m.created_at - m.author_created_at) // DAY
            if age >= config.new_account_days:
                age = -1
        f = self.features(m.text, m.lang)
        # The number of past messages is shown only in a delight reason (a positive text).
        past = (item.past_mentions if f.positive and len(f.positive) > len(f.negative)
                else item.past_mentions >= config.loyal_after)
        key = (m.text, m.lang, m.priority, audience, m.author_verified, item.recent_mentions,
               past, age, item.recent_texts, m.author_handle if self._blocked_handles else None)
        cached = self._results.get(key)
        if cached is not None:
            return cached
        a = self.assess(item)
        result = TriageResult(
            priority=a.score,
            reasons=a.reasons,
            lane=TRIAGE_SPAM if a.verdict == "spam" else TRIAGE_MAIN,
            tags=(DELIGHT_TAG,) if a.verdict == "delight" else (),
        )
        if len(self._results) >= _CACHE_SIZE:
            self._results.clear()
        self._results[key] = result
        return result


def fold_words(text: str) -> str:
    """The form two texts are compared in for "the same text again"."""
    return " ".join(_WORD.findall(fold(text)))


def _languages(lang: str | None) -> tuple[str, ...]:
    if lang:
        base = lang.split("-")[0].lower()
        if base in LANGUAGES:
            return (base,)
    return LANGUAGES


def install(store: Store, config: TriageConfig | None = None) -> TriageScorer:
    """Make `store` triage every mention it ingests or bulk-loads from now on."""
    scorer = TriageScorer(config)
    store.triage = scorer
    return scorer
