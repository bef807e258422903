"""Sentiment of short social texts (comments, captions, logged interactions) with VADER, offline.

VADER (Hutto & Gilbert, 2014, "VADER: A Parsimonious Rule-based Model for Sentiment Analysis of Social Media
Text", ICWSM) is a lexicon and rule set tuned on social-media text: it reads capitals, "!!!", negation
("not good"), boosters ("so good"), "but", slang ("lol") and emoji. Its *compound* score runs from −1 to 1;
the authors' thresholds give the label: **positive ≥ 0.05, negative ≤ −0.05, neutral in between**.

Two honest limits, handled here rather than hidden:

* VADER's lexicon is English. A comment in another language would come out "neutral" (no word known), which
  would dilute every share. So each text first gets a language guess (:func:`detect_language`, a stop-word
  vote over English and seven other languages); only English texts and emoji-only texts are scored, the
  others are **not scored** (``sentiment`` NULL) and every aggregate reports the share scored.
* VADER reads an emoji through its English name, which misreads a few that social media uses otherwise:
  🔥 becomes "fire" (negative), 💔 "broken heart" (positive, from "heart"), ❤️ with its variation selector is
  not recognised at all, 👍/👏/🙌 have no valence. :data:`EMOJI_WORDS` maps those few to a plain word of the
  meaning intended before scoring; the list is short and shown in the definition.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import polars as pl

from models.filters import MetricDefinition

METHOD = "vader-3.3.2"
POSITIVE_AT = 0.05
NEGATIVE_AT = -0.05
SCORED_LANGUAGES = ("en", "emoji")
LABELS = ("positive", "neutral", "negative", "not scored")

# Emoji whose VADER reading is wrong for social media, and the word scored in their place.
EMOJI_WORDS: dict[str, str] = {
    "🔥": "great",
    "👍": "good",
    "👏": "great",
    "🙌": "great",
    "💯": "perfect",
    "👎": "bad",
    "💔": "sad",
    "😡": "angry",
    "🤬": "angry",
    "🙄": "annoying",
    "🤮": "disgusting",
    "🤢": "disgusting",
    "💩": "crap",
}
_VARIATION_SELECTORS = re.compile("[\ufe0e\ufe0f\u200d]")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Stop words that mark a language (none of them is also a common English word).
_STOPWORDS: dict[str, frozenset[str]] = {
    "en": _words(
        "the and is are was were this that these those it its i you he she we they my your our their "
        "me him her us them what which who when where why how not no yes very so too just but with for of "
        "to from in on at by about have has had do does did will would can could should love like "
        "good great bad best worst thanks thank please more most really much one all any what's it's "
        "i'm don't can't isn't you're that's first posted ago hour hours again way get got point half day today "
        "time there here an a as if or be been"
    ),
    "es": _words(
        "el la los las es y que de en un una por para con muy pero más esto esta este gracias me "
        "encanta qué cómo mucho también está son hermoso hermosa increíble lindo bonito horrible"
    ),
    "pt": _words(
        "o os as é e que de em um uma por para com muito mas mais isso isto esta este obrigado obrigada "
        "adorei amei lindo linda você não tão também demais incrível onde essa esse comprou"
    ),
    "fr": _words(
        "le la les est et que de en un une pour avec très mais plus ça cette ce merci j'adore trop "
        "c'est vraiment génial magnifique nul pas je tu vous nous belle beau"
    ),
    "de": _words(
        "der die das ist und nicht ein eine für mit sehr aber mehr ich du wir sie danke toll schön "
        "super geil echt wirklich schlecht auch noch mega"
    ),
    "it": _words(
        "il lo la gli le è e che di un una per con molto ma più questo questa grazie bellissimo "
        "bellissima bello bella troppo sono non anche davvero dove hai preso"
    ),
    "nl": _words(
        "de het een is en niet voor met heel maar meer ik jij wij zij dank bedankt mooi leuk echt ook "
        "nog prachtig geweldig welke waar heb je die dit jij"
    ),
    "ja": frozenset(),  # scripts below, not words
}
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)
_KANA_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_CYRILLIC_ARABIC = re.compile(r"[\u0400-\u04ff\u0600-\u06ff]")


@lru_cache(maxsize=1)
def _analyzer():  # loading the lexicon takes ~0.1 s: once per process
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


@lru_cache(maxsize=1)
def _english_words() -> frozenset[str]:
    """English stop words plus VADER's lexicon words (letters only): words that mark a text as English."""
    lexicon = {w for w in _analyzer().lexicon if w.isalpha() and len(w) > 2}
    others = set().union(*(_STOPWORDS[lang] for lang in _STOPWORDS if lang != "en"))
    return frozenset((lexicon - others) | _STOPWORDS["en"])


def _is_emoji_or_symbol(char: str) -> bool:
    return unicodedata.category(char) in ("So", "Sk", "Sm", "Cn") or char in "\ufe0f\u200d"


def detect_language(text: str | None) -> str:
    """'en', 'es', 'pt', 'fr', 'de', 'it', 'nl', 'ja' (CJK scripts), 'other' (other scripts), 'emoji' (only
    emoji and punctuation, or words of no known language beside emoji) or 'und' (nothing to go by)."""
    if not text or not text.strip():
        return "und"
    if _KANA_CJK.search(text):
        return "ja"
    if _CYRILLIC_ARABIC.search(text):
        return "other"
    words = [w.lower() for w in _WORD.findall(text)]
    if not words:
        stripped = [c for c in text if not c.isspace()]
        return "emoji" if stripped and any(_is_emoji_or_symbol(c) for c in stripped) else "und"
    english = _english_words()
    votes = {"en": sum(w in english for w in words)}
    for lang, stop in _STOPWORDS.items():
        if lang != "en" and stop:
            votes[lang] = sum(w in stop for w in words)
    best = max(votes, key=lambda lang: (votes[lang], lang == "en"))
    if votes[best] > 0:
        return best
    # no word marks a language: the emoji, when there are some, carry the meaning ("Sellout 🙄")
    return "emoji" if any(_is_emoji_or_symbol(c) and c not in "'\"" for c in text) else "und"


def _prepare(text: str) -> str:
    text = _VARIATION_SELECTORS.sub("", text)
    for emoji, word in EMOJI_WORDS.items():
        if emoji in text:
            text = text.replace(emoji, f" {word} ")
    return text


def compound(text: str) -> float:
    """VADER's compound score of ``text`` (after the emoji adjustments), whatever its language."""
    return float(_analyzer().polarity_scores(_prepare(text))["compound"])


def label(score: float | None) -> str:
    """positive (≥ 0.05), negative (≤ −0.05), neutral, or 'not scored' for None."""
    if score is None:
        return "not scored"
    if score >= POSITIVE_AT:
        return "positive"
    if score <= NEGATIVE_AT:
        return "negative"
    return "neutral"


def label_expr(column: str = "sentiment") -> pl.Expr:
    """:func:`label` as a Polars expression over a compound-score column."""
    col = pl.col(column)
    return (
        pl.when(col.is_null())
        .then(pl.lit("not scored"))
        .when(col >= POSITIVE_AT)
        .then(pl.lit("positive"))
        .when(col <= NEGATIVE_AT)
        .then(pl.lit("negative"))
        .otherwise(pl.lit("neutral"))
    )


def label_sql(column: str = "sentiment") -> str:
    """:func:`label` as a SQL CASE over a compound-score column (a fixed column name, never user input)."""
    return (
        f"CASE WHEN {column} IS NULL THEN 'not scored' WHEN {column} >= {POSITIVE_AT} THEN 'positive' "
        f"WHEN {column} <= {NEGATIVE_AT} THEN 'negative' ELSE 'neutral' END"
    )


@dataclass(frozen=True)
class Scored:
    language: str
    sentiment: float | None  # None: not scored (not English)

    @property
    def label(self) -> str:
        return label(self.sentiment)


def score_text(text: str | None, *, assume_english: bool = False) -> Scored:
    """Language guess and, for English or emoji-only text, VADER's compound score.

    ``assume_english``: also score text whose language cannot be told ('und'), e.g. the team's own notes.
    """
    language = detect_language(text)
    scored = SCORED_LANGUAGES + (("und",) if assume_english else ())
    if language not in scored or not text:
        return Scored(language, None)
    return Scored(language, compound(text))


def score_texts(texts: Iterable[str | None], *, assume_english: bool = False) -> pl.DataFrame:
    """``language`` and ``sentiment`` for each text, in order; each distinct text is scored once."""
    texts = list(texts)
    cache: dict[str | None, Scored] = {}
    for text in texts:
        if text not in cache:
            cache[text] = score_text(text, assume_english=assume_english)
    return pl.DataFrame(
        {
            "language": [cache[t].language for t in texts],
            "sentiment": [cache[t].sentiment for t in texts],
        },
        schema={"language": pl.String, "sentiment": pl.Float64},
    )


DEFINITION = MetricDefinition(
    "comment sentiment",
    "VADER compound score of the comment's text (Hutto & Gilbert 2014); positive ≥ 0.05, negative ≤ −0.05, "
    "neutral in between",
    "Only English and emoji-only comments are scored: VADER's lexicon is English, so comments guessed to be "
    "in another language (a stop-word vote) are 'not scored' and left out of the shares, which say how many "
    "were scored. Before scoring, "
    + ", ".join(f"{e} reads as '{w}'" for e, w in EMOJI_WORDS.items())
    + " (VADER reads these emoji by their English names, e.g. 🔥 as 'fire', which misjudges social media).",
    {"method": METHOD},
)
SHARE_DEFINITION = MetricDefinition(
    "share positive / neutral / negative",
    "comments with that label ÷ comments scored",
    "Comments not scored (not English) are counted apart, never as neutral.",
)
