"""What counts as noise after a barge-in: Whisper's words for coughs and room noise, not speech."""

from __future__ import annotations

import pytest

from milo_voice.dialogue.floor import is_noise
from milo_voice.media.live_transcript import is_parroted


@pytest.mark.parametrize("text", ["", "you", "You.", "you you", "Thank you.", "Bye."])
def test_whispers_noise_words_are_noise(text: str) -> None:
    assert is_noise(text)


@pytest.mark.parametrize("text", ["Sorry, can you repeat that?", "I think so", "wait, one more thing"])
def test_real_words_are_not_noise(text: str) -> None:
    assert not is_noise(text)


FENCE = "Tear down the fence."


def test_a_sentence_said_again_over_enough_speech_is_the_candidate_repeating_it() -> None:
    """Huck Finn's crowd: "Tear down the fence! Tear down the fence!" (1.7 s of speech)."""
    assert not is_parroted(FENCE, FENCE, 1.7)


@pytest.mark.parametrize("speech_s", [0.3, 0.9, None])
def test_the_previous_sentence_on_too_little_speech_is_whisper_parroting_its_prompt(
    speech_s: float | None,
) -> None:
    assert is_parroted(FENCE, FENCE, speech_s)


def test_new_text_is_never_parroted() -> None:
    assert not is_parroted("And the gate.", FENCE, 0.1)
    assert not is_parroted(FENCE, None, 0.1)
