"""Comment sentiment (VADER, Hutto & Gilbert 2014) on a small hand-labelled set, and the language gate."""

from __future__ import annotations

import pytest

from models.sentiment import (
    DEFINITION,
    NEGATIVE_AT,
    POSITIVE_AT,
    detect_language,
    label,
    score_text,
    score_texts,
)

# (text, the label a person gives it). Obvious cases only: no sarcasm, which no lexicon method reads.
LABELLED: list[tuple[str, str]] = [
    # plain positives
    ("I love this so much!", "positive"),
    ("This is amazing, thank you for sharing", "positive"),
    ("Great tips, tried it and it works!", "positive"),
    ("Absolutely stunning", "positive"),
    ("Best video you've made this year", "positive"),
    ("You always make my day 😊", "positive"),
    # plain negatives
    ("This is the worst advice I've seen", "negative"),
    ("The audio is terrible in this one", "negative"),
    ("Clickbait title, so disappointed", "negative"),
    ("What a scam, unfollowing", "negative"),
    ("I hate how boring this was", "negative"),
    # negation
    ("not good", "negative"),
    ("This is not good at all", "negative"),
    ("Not bad at all, really enjoyed it", "positive"),
    ("I don't like this", "negative"),
    ("It wasn't terrible", "positive"),
    # boosters, caps and punctuation
    ("SO GOOD!!!", "positive"),
    ("Really really awful", "negative"),
    # emoji only, and emoji that VADER reads wrong without the adjustments
    ("😍😍😍", "positive"),
    ("❤️", "positive"),
    ("🔥🔥", "positive"),
    ("👍", "positive"),
    ("👏👏👏", "positive"),
    ("👎", "negative"),
    ("😡", "negative"),
    ("🤮", "negative"),
    ("💔", "negative"),
    ("so good 🔥🔥", "positive"),
    # neutral
    ("Which camera do you use?", "neutral"),
    ("Is there a part two?", "neutral"),
    ("Posted 2 hours ago", "neutral"),
    ("Watching from London", "neutral"),
]


def accuracy() -> float:
    hits = sum(score_text(text).label == expected for text, expected in LABELLED)
    return hits / len(LABELLED)


@pytest.mark.parametrize(("text", "expected"), LABELLED)
def test_hand_labelled_comment(text: str, expected: str) -> None:
    scored = score_text(text)
    assert scored.sentiment is not None, f"{text!r} was not scored ({scored.language})"
    assert scored.label == expected, f"{text!r}: {scored.sentiment:+.3f}"


def test_accuracy_on_the_labelled_set_is_perfect() -> None:
    assert accuracy() == 1.0


def test_thresholds_are_vaders() -> None:
    assert (POSITIVE_AT, NEGATIVE_AT) == (0.05, -0.05)
    assert [label(x) for x in (0.05, 0.0499, -0.0499, -0.05, None)] == [
        "positive",
        "neutral",
        "neutral",
        "negative",
        "not scored",
    ]
    assert "Hutto & Gilbert 2014" in DEFINITION.text()


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Me encanta, gracias por compartir", "es"),
        ("Amei demais, obrigado!", "pt"),
        ("J'adore, merci pour la vidéo", "fr"),
        ("Mega schön, danke!", "de"),
        ("Bellissimo, grazie!", "it"),
        ("Heel mooi, bedankt!", "nl"),
        ("すごく可愛い！😍", "ja"),
        ("I love this", "en"),
        ("😍🔥", "emoji"),
        ("", "und"),
        ("blorp", "und"),
    ],
)
def test_language_guess(text: str, language: str) -> None:
    assert detect_language(text) == language


def test_non_english_is_not_scored_rather_than_neutral() -> None:
    scored = score_text("Esto es horrible, no me gusta")
    assert scored.language == "es" and scored.sentiment is None and scored.label == "not scored"
    frame = score_texts(["I love it", "Esto es horrible", "I love it"])
    assert frame["language"].to_list() == ["en", "es", "en"]
    assert frame["sentiment"].null_count() == 1


def test_team_notes_of_no_telling_language_can_be_scored() -> None:
    assert score_text("Sent payment confirmation").sentiment is None
    assert score_text("Sent payment confirmation", assume_english=True).label == "neutral"
