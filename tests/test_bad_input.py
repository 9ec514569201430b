"""Inputs a user gets wrong: odd WAV formats, broken files, an answer of pure room noise, a misspelt setting.

Odd but valid audio is converted; broken input ends `milo-voice` with exit code 2 and one line
naming the culprit, never a traceback; an answer with no speech still gives a finished interview.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import subprocess
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, SPEECH, manifest

from milo_voice.calls.engines import load_runtime
from milo_voice.calls.session_store import SessionStore
from milo_voice.calls.simulate import SimulationResult, estimate_speech_end, load_answers, simulate
from milo_voice.dialogue.script import (
    CHECK_IN_LINES,
    EMPTY_ANSWER_LINE,
    AnswerShape,
    InterviewScript,
    Question,
)
from milo_voice.media.pcm import frames, read_wav, resample, write_wav
from milo_voice.media.recorder import probe_duration
from milo_voice.media.types import SAMPLE_RATE
from milo_voice.media.vad import FrameVad, SpeechSegmenter
from milo_voice.settings import Settings
from milo_voice.store.db import create_engine, migrate
from milo_voice.workspace.interviews import Interviews

MILO_VOICE = REPO / ".venv" / "bin" / "milo-voice"
CLIP = SPEECH / "clips" / "librispeech_1088-134315-0000.wav"
"""16 kHz mono speech with a silent stretch in the middle (16.04 s)."""
NOISY = "librispeech_367_a03"
"""The answer whose 6 s room-noise tail becomes the noise-only answer."""
NOISE_SECONDS = 15.0


def room_noise() -> np.ndarray:
    """`NOISE_SECONDS` of the room: the 6 s after the true end of speech of answer `NOISY`, looped."""
    source = read_wav(SPEECH / "answers" / f"{NOISY}.wav")
    speech_end = float(str(manifest()[NOISY]["speech_end_s"]))
    tail = source[int((speech_end + 0.1) * SAMPLE_RATE) :]
    noise = np.tile(tail, int(np.ceil(NOISE_SECONDS * SAMPLE_RATE / len(tail))))
    return noise[: int(NOISE_SECONDS * SAMPLE_RATE)]


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    n = min(len(a), len(b))
    return float(np.corrcoef(a[:n].astype(np.float64), b[:n].astype(np.float64))[0, 1])


def write_stereo(path: Path, left: np.ndarray, right: np.ndarray, rate: int) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(np.stack([left, right], axis=1).astype("<i2").tobytes())


# --- odd but valid WAVs become 16 kHz mono ---


def test_stereo_44k_and_8k_answers_are_resampled_to_16k_mono(tmp_path: Path) -> None:
    clip = read_wav(CLIP)
    seconds = len(clip) / SAMPLE_RATE
    at_44k = resample(clip, SAMPLE_RATE, 44_100)
    write_stereo(tmp_path / "stereo_44k.wav", at_44k, at_44k // 2, 44_100)
    write_wav(tmp_path / "mono_8k.wav", resample(clip, SAMPLE_RATE, 8_000), 8_000)

    answers = load_answers([tmp_path / "stereo_44k.wav", tmp_path / "mono_8k.wav"])

    assert [a.name for a in answers] == ["stereo_44k", "mono_8k"]
    expected_end = estimate_speech_end(clip)
    for answer in answers:
        assert answer.samples.dtype == np.int16 and answer.samples.ndim == 1
        assert abs(len(answer.samples) / SAMPLE_RATE - seconds) < 0.01, answer.name
        # the same speech, in place: channels averaged, not interleaved; no delay from resampling
        assert correlation(answer.samples, clip) > 0.99, answer.name
        assert abs(answer.speech_end - expected_end) < 0.1, answer.name


def test_an_answer_cut_off_mid_speech_ends_its_speech_with_the_file() -> None:
    clip = read_wav(CLIP)  # speaks from 9.6 s to its last sample, after a 1 s pause at 8.6 s
    assert estimate_speech_end(clip) == len(clip) / SAMPLE_RATE
    cut = clip[: int(5.0 * SAMPLE_RATE)]  # mid-sentence, after the pause at 2.2 s
    assert estimate_speech_end(cut) == 5.0


def test_a_recording_without_speech_ends_its_speech_at_once(tmp_path: Path) -> None:
    write_wav(tmp_path / "room_noise.wav", room_noise())
    [answer] = load_answers([tmp_path / "room_noise.wav"])
    assert answer.speech_end == 0.0
    # so the transport's idle audio is this recording's noise, not digital silence
    assert len(answer.room_noise()) > (NOISE_SECONDS - 1) * SAMPLE_RATE and answer.room_noise().any()


def test_room_noise_after_digital_silence_is_not_speech() -> None:
    # A browser track that sends zeros until the microphone opens, then an ordinary quiet room.
    vad, segmenter = FrameVad(), SpeechSegmenter()
    audio = np.concatenate([np.zeros(5 * SAMPLE_RATE, np.int16), room_noise()])
    edges = [segmenter.push(vad.is_speech(chunk.pcm), chunk.start) for chunk in frames(audio)]
    assert [edge for edge in edges if edge is not None] == []


# --- broken files: exit 2, one line naming the file ---


def run_cli(tmp: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {"PATH": os.environ["PATH"], "MILO_DATABASE_URL": f"sqlite:///{tmp / 'milo.db'}", **env}
    return subprocess.run(
        [str(MILO_VOICE), *args], env=environ, cwd=tmp, capture_output=True, text=True, timeout=60
    )


def broken_wav(tmp: Path, kind: str) -> Path:
    raw = CLIP.read_bytes()
    cuts = {"cut_in_header": 30, "cut_after_header": 44, "cut_mid_sample": 44 + 1001}
    if kind in cuts:
        path = tmp / f"{kind}.wav"
        path.write_bytes(raw[: cuts[kind]])
    else:  # a text file given as an answer
        path = tmp / "notes.wav"
        path.write_text("These are my notes for the interview, not a recording.\n" * 10)
    return path


@pytest.mark.parametrize("kind", ["cut_in_header", "cut_after_header", "cut_mid_sample", "not_a_wav"])
def test_a_broken_answer_file_exits_2_with_one_line_naming_it(tmp_path: Path, kind: str) -> None:
    bad = broken_wav(tmp_path, kind)
    good = SPEECH / "answers" / f"{NOISY}.wav"
    done = run_cli(tmp_path, "simulate", str(good), str(bad))
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("milo-voice: ") and str(bad) in lines[0], done.stderr
    assert done.stdout == ""
    assert not (tmp_path / "milo.db").exists(), "the answers are checked before anything is created"


def test_an_unknown_milo_variable_exits_2_listing_the_valid_names(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "migrate", MILO_DATABSE_URL="sqlite:///typo.db")
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert "MILO_DATABSE_URL" in line
    for field in dataclasses.fields(Settings):
        assert f"MILO_{field.name.upper()}" in line
    assert not list(tmp_path.glob("*.db"))


# --- an answer that is only room noise ---

SCRIPT = InterviewScript(
    title="Bad input: one question",
    questions=(Question("What is your favourite recipe?", AnswerShape.EXPLANATION, max_follow_ups=0),),
)


@pytest.fixture(scope="module")
def noise_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SimulationResult, SessionStore]]:
    tmp = tmp_path_factory.mktemp("noise")
    write_wav(tmp / "room_noise.wav", room_noise())
    settings = Settings(
        database_url=f"sqlite:///{tmp / 'milo.db'}",
        recordings_dir=tmp / "rec",
        models_dir=REPO / "models",
        thinking_silence=4.0,
        min_silence=1.0,
        max_silence=2.0,
    )
    migrate(settings.database_url)
    store = SessionStore(create_engine(settings.database_url))
    interview_id = Interviews(store.engine).add_script(SCRIPT, slug="noise")
    answers = load_answers([tmp / "room_noise.wav"])
    runtime = load_runtime(settings)

    async def go() -> SimulationResult:
        async with asyncio.timeout(120):
            return await simulate(settings, runtime, store, answers, interview_id=interview_id)

    try:
        yield asyncio.run(go()), store
    finally:
        runtime.close()


@pytest.mark.e2e
def test_an_answer_of_room_noise_still_ends_in_a_finished_interview(
    noise_run: tuple[SimulationResult, SessionStore],
) -> None:
    result, store = noise_run
    assert result.completed
    said = [(t.kind, t.text) for t in result.turns if t.speaker == "interviewer"]
    assert said[:2] == [("greeting", SCRIPT.greeting), ("question", SCRIPT.questions[0].text)]
    assert said[-1] == ("closing", SCRIPT.closing)
    # no speech: two check-ins (the second repeats the question), then it says so and moves on
    question = SCRIPT.questions[0].text
    assert [text for _, text in said[2:]] == [*CHECK_IN_LINES, question, EMPTY_ANSWER_LINE, SCRIPT.closing]
    row = store.get_session(result.session_id)
    assert row is not None and row.status == "completed"
    assert result.recording is not None and Path(str(row.recording_path)) == result.recording
    assert probe_duration(result.recording) >= max(t.end_s for t in result.turns)


@pytest.mark.e2e
def test_room_noise_is_not_transcribed_into_an_answer(
    noise_run: tuple[SimulationResult, SessionStore]
) -> None:
    result, store = noise_run
    answers = [t for t in store.turns(result.session_id) if t.speaker == "candidate"]
    # Whisper can hear a stray "you" in noise; more than a couple of words would be an invented answer
    assert all(len(t.text.split()) <= 2 and len(t.live_text.split()) <= 2 for t in answers), [
        (t.text, t.live_text) for t in answers
    ]
