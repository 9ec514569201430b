"""What counts as noise after a barge-in: Whisper's words for coughs and room noise, not speech."""

from __future__ import annotations

import pytest

from milo_voice.dialogue.session import is_noise


@pytest.mark.parametrize("text", ["", "you", "You.", "you you", "Thank you.", "Bye."])
def test_whispers_noise_words_are_noise(text: str) -> None:
    assert is_noise(text)


@pytest.mark.parametrize("text", ["Sorry, can you repeat that?", "I think so", "wait, one more thing"])
def test_real_words_are_not_noise(text: str) -> None:
    assert not is_noise(text)
