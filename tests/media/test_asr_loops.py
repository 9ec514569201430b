"""Whisper's failed decodes: a text that loops compresses better than any real answer does."""

from __future__ import annotations

import pytest

from milo_voice.media.asr import drop_loop, is_looping
from tests.conftest import manifest


def windows(text: str, size: int = 60, step: int = 30) -> list[str]:
    words = text.split()
    return [" ".join(words[i:i + size]) for i in range(0, max(1, len(words) - size + step), step)]


def test_no_real_answer_counts_as_a_loop() -> None:
    texts = [str(e["transcript"]) for e in manifest().values() if e.get("transcript")]
    assert texts
    for text in texts:
        assert not is_looping(text), text[:80]
        for window in windows(text):
            assert not is_looping(window), window[:80]


@pytest.mark.parametrize("text", [
    "The thing, the thing, the thing, the thing, the thing, the thing, the thing, the",
    "The thing of the painting, the painting, the painting, the painting, the painting, the painting,",
    "I think so. " + "of the painting " * 12,
])
def test_a_phrase_said_over_and_over_is_a_loop(text: str) -> None:
    assert is_looping(text)


@pytest.mark.parametrize("text", [
    "", "Yes.", "Tear down the fence! Tear down the fence!", "No, no, no, not at all.",
])
def test_short_or_emphatic_repeats_are_not(text: str) -> None:
    assert not is_looping(text)


@pytest.mark.parametrize(("text", "kept"), [
    ("the invention of the art of printing " + "of the painting " * 20 + "of the",
     "the invention of the art of printing of the painting"),
    ("I said yes yes yes yes yes", "I said yes"),
    ("we went very very far and it was good", "we went very very far and it was good"),
    ("Tear down the fence! Tear down the fence!", "Tear down the fence! Tear down the fence!"),
    ("The thing, the thing, the thing, the thing,", "The thing,"),
])
def test_a_loop_at_the_end_is_kept_once(text: str, kept: str) -> None:
    words = text.split()
    assert " ".join(words[: drop_loop(words)]) == kept


def test_a_long_loop_over_many_segments_is_cut_but_a_short_repeat_is_not() -> None:
    thanks = ["the", "invention", "of", "the", "art", "of", "printing."] + ["Thank", "you."] * 10
    assert drop_loop(thanks, min_words=12) == 9  # "... printing. Thank you."
    brief = ["it", "was", "no,", "no,", "no"]
    assert drop_loop(brief, min_words=12) == len(brief)
