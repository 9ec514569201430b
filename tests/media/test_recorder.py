"""Recorder: timeline placement, crash safety under SIGKILL, recovery and the stereo Ogg/Opus file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import wave
from pathlib import Path

import av
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from milo_voice.errors import BadMedia
from milo_voice.media.pcm import frames, read_wav, resample, to_int16, write_wav
from milo_voice.media.recorder import (
    CANDIDATE,
    INTERVIEWER,
    RECORDING,
    Recorder,
    probe_duration,
    recover,
)
from milo_voice.media.types import AudioChunk

RATE = 16_000
SPEECH = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "speech" / "clips"


def tone(freq: float, samples: int, rate: int = RATE) -> np.ndarray:
    """The same formula as in CHILD below, so the test knows what the killed child wrote."""
    return (np.sin(2 * np.pi * freq * np.arange(samples) / rate) * 8000).astype(np.int16)


def chunk(samples: np.ndarray, start: float, rate: int = RATE) -> AudioChunk:
    return AudioChunk(samples.astype("<i2").tobytes(), rate, start)


def track(directory: Path, name: str) -> np.ndarray:
    with wave.open(str(directory / name), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")


def decode_stereo(path: Path) -> np.ndarray:
    """Decode an Ogg file to int16 (2, samples) at 16 kHz."""
    with av.open(str(path)) as container:
        assert container.streams.audio[0].codec_context.name == "opus"
        decoded = [frame.to_ndarray() for frame in container.decode(audio=0)]
        rate = container.streams.audio[0].rate
    both = np.concatenate(decoded, axis=1)
    assert both.shape[0] == 2
    return np.stack([resample(to_int16(channel), rate, RATE) for channel in both])


def envelope(samples: np.ndarray) -> np.ndarray:
    """RMS per 20 ms: robust to the phase changes of a lossy codec."""
    whole = samples[: len(samples) // 320 * 320].astype(np.float64).reshape(-1, 320)
    return np.sqrt((whole**2).mean(axis=1))


def dominant(samples: np.ndarray) -> float:
    """The strongest frequency (Hz) in 16 kHz audio."""
    return float(np.argmax(np.abs(np.fft.rfft(samples))) * RATE / len(samples))


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    n = min(len(a), len(b))
    return float(np.corrcoef(envelope(a[:n]), envelope(b[:n]))[0, 1])


def test_contiguous_frames_give_exact_durations(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path / "s")
    candidate, interviewer = tone(440, RATE), tone(660, RATE // 2)
    for piece in frames(candidate):
        recorder.write_candidate(piece)
    for piece in frames(interviewer, start=0.25):
        recorder.write_interviewer(piece)
    assert recorder.duration == 1.0
    recorder.flush()
    assert np.array_equal(track(tmp_path / "s", CANDIDATE), candidate)
    written = track(tmp_path / "s", INTERVIEWER)
    assert len(written) == RATE // 4 + RATE // 2
    assert not written[: RATE // 4].any() and np.array_equal(written[RATE // 4 :], interviewer)
    assert probe_duration(tmp_path / "s" / CANDIDATE) == 1.0


def test_a_gap_is_filled_with_silence(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path)
    recorder.write_candidate(chunk(tone(440, 1600), 0.0))
    recorder.flush()
    recorder.write_candidate(chunk(tone(440, 1600), 0.5))
    recorder.flush()
    written = track(tmp_path, CANDIDATE)
    assert len(written) == int(0.6 * RATE)
    assert np.array_equal(written[:1600], tone(440, 1600))
    assert not written[1600:8000].any()
    assert np.array_equal(written[8000:], tone(440, 1600))


def test_an_overlapping_chunk_overwrites_what_it_covers_even_on_disk(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path)
    recorder.write_interviewer(chunk(np.full(1000, 1), 0.0))
    recorder.flush()
    recorder.write_interviewer(chunk(np.full(400, 2), 800 / RATE))  # 200 on disk, 200 new
    recorder.write_interviewer(chunk(np.full(100, 3), 100 / RATE))  # inside flushed audio
    recorder.flush()
    expected = np.concatenate([np.full(100, 1), np.full(100, 3), np.full(600, 1), np.full(400, 2)])
    assert np.array_equal(track(tmp_path, INTERVIEWER), expected)


@settings(max_examples=30, deadline=None, database=None)
@given(
    writes=st.lists(
        st.tuples(st.integers(0, 3000), st.integers(0, 700), st.booleans(), st.booleans()), max_size=12
    )
)
def test_the_tracks_never_depend_on_when_flushes_happen(writes: list[tuple[int, int, bool, bool]]) -> None:
    model = [np.zeros(0, np.int16), np.zeros(0, np.int16)]
    with tempfile.TemporaryDirectory() as directory:
        recorder = Recorder(Path(directory))
        for value, (at, samples, interviewer, flush) in enumerate(writes, start=1):
            pcm = np.full(samples, value, np.int16)
            (recorder.write_interviewer if interviewer else recorder.write_candidate)(chunk(pcm, at / RATE))
            line = model[interviewer]
            line = np.concatenate([line, np.zeros(max(0, at + samples - len(line)), np.int16)])
            line[at : at + samples] = pcm
            model[interviewer] = line
            if flush:
                recorder.flush()
        recorder.flush()
        assert recorder.duration == max(len(line) for line in model) / RATE
        for name, line in zip((CANDIDATE, INTERVIEWER), model, strict=True):
            assert np.array_equal(track(Path(directory), name), line)
        recorder.finalize()


def test_writes_race_flushes_without_losing_samples(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path, flush_every=0.02)
    signal_ = tone(300, 4 * RATE)
    done = threading.Event()

    def flusher() -> None:
        while not done.is_set():
            recorder.flush()

    thread = threading.Thread(target=flusher)
    thread.start()
    try:
        for piece in frames(signal_):
            recorder.write_candidate(piece)
    finally:
        done.set()
        thread.join()
    recorder.flush()
    assert np.array_equal(track(tmp_path, CANDIDATE), signal_)


def test_a_chunk_at_another_rate_is_refused_naming_both_rates(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path)
    with pytest.raises(BadMedia, match=r"8000 Hz.*16000 Hz"):
        recorder.write_candidate(chunk(tone(440, 160, 8000), 0.0, rate=8000))
    with pytest.raises(BadMedia, match="-1"):
        recorder.write_interviewer(chunk(tone(440, 160), -1.0))


def test_due_for_flush_follows_media_time(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path, flush_every=0.5)
    assert not recorder.due_for_flush(0.48)
    assert recorder.due_for_flush(0.5)
    recorder.write_candidate(chunk(tone(440, RATE), 0.0))
    recorder.flush()
    assert not recorder.due_for_flush(1.3)
    assert recorder.due_for_flush(1.5)


def test_finalize_writes_one_stereo_opus_file_left_candidate_right_interviewer(tmp_path: Path) -> None:
    candidate = read_wav(SPEECH / "librispeech_1688-142285-0000.wav")[: 4 * RATE]
    interviewer = read_wav(SPEECH / "ami_trn05_FEE078_0938.wav")[: 3 * RATE]
    recorder = Recorder(tmp_path / "s")
    for piece in frames(candidate):
        recorder.write_candidate(piece)
    for piece in frames(interviewer, start=1.5):
        recorder.write_interviewer(piece)
    assert recorder.duration == 4.5
    path = recorder.finalize()
    assert path == tmp_path / "s" / RECORDING
    assert sorted(p.name for p in path.parent.iterdir()) == [RECORDING]
    assert probe_duration(path) == pytest.approx(4.5, abs=0.02)
    left, right = decode_stereo(path)
    assert len(left) == pytest.approx(4.5 * RATE, abs=RATE * 0.02)
    placed = np.concatenate([np.zeros(int(1.5 * RATE), np.int16), interviewer])
    assert correlation(left, candidate) > 0.9
    assert correlation(right, placed) > 0.9
    assert correlation(left, placed) < 0.5
    assert correlation(right, candidate) < 0.5
    silent = envelope(right[: int(1.5 * RATE)]).max() / envelope(left[: int(1.5 * RATE)]).max()
    assert silent < 0.02  # until 1.5 s only the codec's stereo crosstalk (about -40 dB) is on the right
    assert recorder.finalize() == path  # idempotent
    with pytest.raises(RuntimeError, match="finalized"):
        recorder.write_candidate(chunk(tone(440, 320), 5.0))


def test_a_rate_opus_does_not_take_is_encoded_at_48_khz(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path, sample_rate=22_050)
    recorder.write_candidate(chunk(tone(440, 22_050, 22_050), 0.0, rate=22_050))
    assert probe_duration(recorder.finalize()) == pytest.approx(1.0, abs=0.02)


def test_an_empty_session_still_gives_a_playable_file(tmp_path: Path) -> None:
    assert probe_duration(Recorder(tmp_path).finalize()) == pytest.approx(0.02, abs=0.01)


def test_a_failed_encode_keeps_the_tracks_and_a_retry_succeeds(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path)
    recorder.write_candidate(chunk(tone(440, RATE), 0.0))
    recorder.flush()
    header = (tmp_path / INTERVIEWER).read_bytes()
    (tmp_path / INTERVIEWER).write_bytes(b"not a wav file at all, really not" * 2)
    with pytest.raises(BadMedia, match="WAV tracks kept"):
        recorder.finalize()
    assert sorted(p.name for p in tmp_path.iterdir()) == [CANDIDATE, INTERVIEWER]
    (tmp_path / INTERVIEWER).write_bytes(header)
    assert probe_duration(recorder.finalize()) == pytest.approx(1.0, abs=0.02)
    assert not (tmp_path / CANDIDATE).exists()


def test_a_directory_holding_a_session_is_refused(tmp_path: Path) -> None:
    write_wav(tmp_path / CANDIDATE, tone(440, 100))
    with pytest.raises(FileExistsError, match="recover"):
        Recorder(tmp_path)


def test_recover_repairs_a_stale_header_and_cuts_half_samples(tmp_path: Path) -> None:
    write_wav(tmp_path / CANDIDATE, tone(440, RATE))
    with open(tmp_path / CANDIDATE, "ab") as file:  # written after the last header update
        file.write(tone(440, RATE // 2).tobytes() + b"\x01")
    path = recover(tmp_path)
    assert path == tmp_path / RECORDING
    assert sorted(p.name for p in tmp_path.iterdir()) == [RECORDING]
    assert probe_duration(path) == pytest.approx(1.5, abs=0.02)
    assert recover(tmp_path) == path


def test_recover_after_a_kill_between_rename_and_delete_only_deletes(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path)
    recorder.write_candidate(chunk(tone(440, RATE), 0.0))
    path = recorder.finalize()
    encoded = path.read_bytes()
    write_wav(tmp_path / INTERVIEWER, tone(660, 2 * RATE))  # a leftover the kill did not delete
    assert recover(tmp_path) == path
    assert sorted(p.name for p in tmp_path.iterdir()) == [RECORDING]
    assert path.read_bytes() == encoded


def test_recover_returns_none_when_nothing_was_recorded(tmp_path: Path) -> None:
    assert recover(tmp_path / "missing") is None
    write_wav(tmp_path / CANDIDATE, np.zeros(0, np.int16))
    (tmp_path / INTERVIEWER).write_bytes(b"RIFF")  # killed before its header landed
    assert recover(tmp_path) is None
    assert not (tmp_path / RECORDING).exists()


def test_probe_duration_refuses_a_file_that_is_not_audio(tmp_path: Path) -> None:
    (tmp_path / "x.ogg").write_bytes(b"OggS but not really")
    with pytest.raises(BadMedia, match=r"x\.ogg"):
        probe_duration(tmp_path / "x.ogg")


CHILD = """
import sys, time
import numpy as np
from pathlib import Path
from milo_voice.media.recorder import Recorder
from milo_voice.media.types import AudioChunk

directory, (seconds, flush_every, pause) = Path(sys.argv[1]), map(float, sys.argv[2:])
total = int(seconds * 16000)
def tone(freq):
    return (np.sin(2 * np.pi * freq * np.arange(total) / 16000) * 8000).astype(np.int16)
candidate, interviewer = tone(440), tone(660)
recorder = Recorder(directory, flush_every=flush_every)
for first in range(0, total, 320):
    start, end = first / 16000, (first + 320) / 16000
    recorder.write_candidate(AudioChunk(candidate[first : first + 320].tobytes(), 16000, start))
    recorder.write_interviewer(AudioChunk(interviewer[first : first + 320].tobytes(), 16000, start))
    if recorder.due_for_flush(end):
        recorder.flush()
        print(f"flushed {end}", flush=True)
    time.sleep(pause)
print("done", flush=True)
time.sleep(30)
"""


def kill_after(directory: Path, flushed: float, seconds: float, flush_every: float, pause: float) -> float:
    """Run CHILD, SIGKILL it once it reports `flushed` seconds on disk; return what it reported."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(directory), str(seconds), str(flush_every), str(pause)],
        stdout=subprocess.PIPE,
        text=True,
    )
    reported = 0.0
    try:
        assert child.stdout is not None
        for line in child.stdout:
            if line.startswith("flushed"):
                reported = float(line.split()[1])
            if reported >= flushed:
                os.kill(child.pid, signal.SIGKILL)
                break
    finally:
        child.kill()
        child.wait()
        if child.stdout is not None:
            child.stdout.close()
    assert reported >= flushed, f"the child stopped after {reported} s (exit code {child.returncode})"
    assert child.returncode == -signal.SIGKILL
    return reported


def check_survivors(directory: Path, flushed: float) -> None:
    """Both tracks open as WAVs, hold at least what was flushed, and are exact prefixes of the tones."""
    for name, freq in ((CANDIDATE, 440), (INTERVIEWER, 660)):
        written = track(directory, name)
        assert len(written) >= round(flushed * RATE)
        assert np.array_equal(written, tone(freq, len(written)))
    on_disk = max((directory / name).stat().st_size - 44 for name in (CANDIDATE, INTERVIEWER)) // 2 / RATE
    path = recover(directory)
    assert path == directory / RECORDING
    assert sorted(p.name for p in directory.iterdir()) == [RECORDING]
    assert probe_duration(path) == pytest.approx(on_disk, abs=0.03)
    left, right = decode_stereo(path)
    assert len(left) == pytest.approx(on_disk * RATE, abs=0.03 * RATE)
    assert dominant(left) == pytest.approx(440, abs=20)
    assert dominant(right) == pytest.approx(660, abs=20)


def test_sigkill_mid_recording_leaves_playable_tracks_that_recover(tmp_path: Path) -> None:
    flushed = kill_after(tmp_path / "s", flushed=2.0, seconds=3.0, flush_every=0.5, pause=0.005)
    assert flushed >= 2.0
    check_survivors(tmp_path / "s", flushed)


@pytest.mark.parametrize("flushes", [4, 9, 31])
def test_sigkill_at_any_point_of_a_flush_leaves_valid_tracks(tmp_path: Path, flushes: int) -> None:
    """Flushing every frame with no pause, the kill often lands inside a flush (data past the header)."""
    flushed = kill_after(tmp_path, flushed=flushes * 0.02, seconds=60.0, flush_every=0.02, pause=0.0)
    check_survivors(tmp_path, flushed)
