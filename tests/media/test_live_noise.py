"""Live decodes of room noise come back empty: Whisper's own no-speech and log-probability verdicts.

LJ Speech's room noise carries bursts that pass the VAD (see the strict xfails in test_vad.py).
Decoded with the answer's text as the prompt, tiny.en turns them into words ("and I think that's
what I think.", "in the next video."), which used to keep that candidate's answer open to the
240 s cap. Real tiny.en, the shipped decode settings."""

from __future__ import annotations

import numpy as np
import pytest

from milo_voice.media import model_files
from milo_voice.media.asr import WhisperEngine, as_float, is_noise_decode
from milo_voice.media.pcm import read_wav
from milo_voice.media.types import SAMPLE_RATE
from tests.conftest import REPO, SPEECH, manifest

ANSWER = "ljspeech_linda_johnson_a01"
NOISE_RUNS = [(13.60, 13.72), (17.52, 17.64), (30.06, 30.52), (50.12, 50.38)]
"""VAD speech runs inside inserted pauses' filler and in the tail: room noise (doubted by Whisper,
no-speech 0.41-0.59, so the no-speech verdict alone let their words through)."""
SPEECH_RUNS = [(14.06, 16.14), (44.04, 46.04)]


@pytest.fixture(scope="module")
def engine() -> WhisperEngine:
    return WhisperEngine(str(model_files.resolve_whisper("tiny.en", REPO / "models")), threads=1, workers=1)


@pytest.fixture(scope="module")
def answer() -> tuple[np.ndarray, str]:
    entry = manifest()[ANSWER]
    return as_float(read_wav(SPEECH / entry["audio"])), str(entry["transcript"])[:400]


def piece(audio: np.ndarray, start: float, end: float) -> np.ndarray:
    """A run as a live decode sees it: a little before its onset to a little past its end."""
    return audio[int((start - 0.3) * SAMPLE_RATE) : int((end + 0.15) * SAMPLE_RATE)]


@pytest.mark.parametrize("run", NOISE_RUNS)
def test_a_noise_burst_decodes_to_nothing(
    engine: WhisperEngine, answer: tuple[np.ndarray, str], run: tuple[float, float]
) -> None:
    audio, prompt = answer
    assert engine.decode_live(piece(audio, *run), prompt=prompt).text == ""


@pytest.mark.parametrize("run", SPEECH_RUNS)
def test_speech_from_the_same_recording_keeps_its_words(
    engine: WhisperEngine, answer: tuple[np.ndarray, str], run: tuple[float, float]
) -> None:
    audio, prompt = answer
    assert len(engine.decode_live(piece(audio, *run), prompt=prompt).text.split()) >= 3


@pytest.mark.parametrize(("no_speech", "logprob", "noise"), [
    (0.7, -0.1, True), (0.45, -1.5, True), (0.45, -0.6, False), (0.1, -2.5, False), (0.0, -0.1, False),
])
def test_the_verdict_needs_doubt_and_a_bad_decode_or_plain_no_speech(
    no_speech: float, logprob: float, noise: bool
) -> None:
    assert is_noise_decode(no_speech, logprob) is noise


LOOPED = [(0.0, 3.0), (0.0, 6.0), (3.5, 5.0), (5.5, 6.0)]
"""Windows (start, seconds) of the answer's room-noise tail played in a loop, as the simulated
candidate's microphone plays it after the answer, that tiny.en decodes into a loop ("The thing,
the thing, the thing, ...", "the painting, the painting, ...") with no-speech and log-probability
verdicts that pass: the answer stayed open and each burst resumed it."""


@pytest.mark.parametrize("window", LOOPED)
def test_room_noise_that_whisper_loops_on_decodes_to_nothing(
    engine: WhisperEngine, window: tuple[float, float]
) -> None:
    entry = manifest()[ANSWER]
    samples = read_wav(SPEECH / entry["audio"])
    tail = samples[int((float(entry["speech_end_s"]) + 0.3) * SAMPLE_RATE):]
    looped = as_float(np.concatenate([tail] * 3))
    start, seconds = window
    audio = looped[int(start * SAMPLE_RATE): int((start + seconds) * SAMPLE_RATE)]
    assert engine.decode_live(audio, prompt=str(entry["transcript"])).text == ""

