"""Voice activity: the pure SpeechSegmenter on synthetic frame decisions, FrameVad on real answers.

Segmenter defaults: onset 0.12 s of speech within 0.2 s, hangover 0.24 s. Frames are 20 ms.
The real answers come with measured holds (pauses inside the answer) and a 6 s room-noise tail.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from conftest import SPEECH, manifest

from milo_voice.errors import BadMedia
from milo_voice.media.pcm import frames, read_wav
from milo_voice.media.types import FRAME_BYTES, FRAME_SECONDS, SAMPLE_RATE
from milo_voice.media.vad import FrameVad, SpeechEdge, SpeechSegmenter

F = FRAME_SECONDS


def segment(pattern: Sequence[bool], start: float = 0.0) -> list[tuple[SpeechEdge, float]]:
    """Run frame decisions through a fresh segmenter; each edge with the media time it was emitted."""
    segmenter = SpeechSegmenter()
    out = []
    for i, speech in enumerate(pattern):
        at = start + i * F
        edge = segmenter.push(speech, at)
        if edge is not None:
            out.append((edge, at + F))
    return out


def frames_of(*parts: tuple[bool, int]) -> list[bool]:
    return [value for value, count in parts for _ in range(count)]


# -- SpeechSegmenter ---------------------------------------------------------------------


def test_six_speech_frames_in_a_row_start_speech_at_the_first_one() -> None:
    edges = segment(frames_of((False, 10), (True, 6), (False, 20)))
    start, emitted = edges[0]
    assert start == SpeechEdge(True, pytest.approx(10 * F))
    assert emitted == pytest.approx(16 * F)  # confirmed on the sixth speech frame (0.12 s)


def test_five_speech_frames_do_not_start_speech() -> None:
    assert segment(frames_of((False, 10), (True, 5), (False, 30))) == []


def test_an_onset_in_progress_is_pending_until_confirmed_or_out_of_the_window() -> None:
    segmenter = SpeechSegmenter()
    seen: list[tuple[float | None, float]] = []
    for i, speech in enumerate(frames_of((False, 10), (True, 3), (False, 12), (True, 6))):
        segmenter.push(speech, i * F)
        seen.append((segmenter.onset_pending(), segmenter.trailing_speech()))
    assert seen[9] == (None, 0.0)  # silence: nothing pending
    assert seen[10] == (pytest.approx(10 * F), pytest.approx(F))  # first speech frame: pending from it
    assert seen[12] == (pytest.approx(10 * F), pytest.approx(3 * F))
    assert seen[13][0] == pytest.approx(10 * F) and seen[13][1] == 0.0  # still inside the 0.2 s window
    assert seen[24] == (None, 0.0)  # three frames were not an onset: dropped once out of the window
    assert seen[-2][0] == pytest.approx(25 * F)
    assert seen[-1] == (None, pytest.approx(6 * F))  # confirmed: speaking, no longer "pending"
    assert segmenter.speaking


def test_onset_counts_speech_within_the_window_not_only_in_a_row() -> None:
    # 6 speech frames spread over 10 frames (0.2 s): speech starts at the first of them
    pattern = frames_of((False, 5), (True, 2), (False, 1), (True, 2), (False, 1), (True, 2), (False, 30))
    edges = segment(pattern)
    assert [e.speaking for e, _ in edges] == [True, False]
    assert edges[0][0].at == pytest.approx(5 * F)


def test_speech_spread_wider_than_the_onset_window_does_not_start_speech() -> None:
    # alternating speech/non-speech: 5 speech frames in any 0.2 s window
    assert segment([i % 2 == 0 for i in range(200)]) == []


@pytest.mark.parametrize("gap", [1, 3, 7, 30])
def test_isolated_single_frames_never_start_speech(gap: int) -> None:
    pattern = frames_of(*[(True, 1), (False, gap)] * 20)
    assert segment(pattern) == []


def test_end_edge_is_stamped_at_the_last_speech_frame_and_emitted_after_the_hangover() -> None:
    edges = segment(frames_of((False, 5), (True, 30), (False, 30)))
    (start, _), (end, emitted) = edges
    assert start == SpeechEdge(True, pytest.approx(5 * F))
    assert end == SpeechEdge(False, pytest.approx(35 * F))  # end of the last speech frame
    assert emitted == pytest.approx(35 * F + 0.24)


def test_a_gap_shorter_than_the_hangover_does_not_end_speech() -> None:
    edges = segment(frames_of((True, 20), (False, 11), (True, 20), (False, 20)))
    assert [(e.speaking, round(e.at, 2)) for e, _ in edges] == [(True, 0.0), (False, 1.02)]


def test_a_gap_as_long_as_the_hangover_ends_speech_and_the_next_run_starts_again() -> None:
    edges = segment(frames_of((True, 20), (False, 12), (True, 20), (False, 20)))
    assert [(e.speaking, round(e.at, 2)) for e, _ in edges] == [
        (True, 0.0),
        (False, 0.4),
        (True, 0.64),
        (False, 1.04),
    ]


def test_edges_follow_the_media_time_given_with_each_frame() -> None:
    edges = segment(frames_of((True, 20), (False, 20)), start=100.0)
    assert [(e.speaking, round(e.at, 6)) for e, _ in edges] == [(True, 100.0), (False, 100.4)]


# -- FrameVad on real answers ------------------------------------------------------------


def entry(name: str) -> dict[str, Any]:
    return manifest()[name]


ANSWERS = ["ami_FEE078_a01", "ami_MEE009_a01", "librispeech_1688_a01", "librispeech_367_a02"]
"""Two spontaneous meeting speakers and two read-speech speakers, 26 holds of 0.3-2.5 s between them."""


def speech_edges(samples: np.ndarray) -> list[SpeechEdge]:
    vad, segmenter = FrameVad(), SpeechSegmenter()
    edges = []
    for chunk in frames(samples):
        edge = segmenter.push(vad.is_speech(chunk.pcm), chunk.start)
        if edge is not None:
            edges.append(edge)
    return edges


def speech_runs(samples: np.ndarray) -> list[tuple[float, float]]:
    """(start, end) of each speech run; one still open at the end runs to the end of the audio."""
    runs, start = [], None
    for edge in speech_edges(samples):
        if edge.speaking:
            start = edge.at
        else:
            assert start is not None
            runs.append((start, edge.at))
            start = None
    if start is not None:
        runs.append((start, len(samples) / SAMPLE_RATE))
    return runs


@pytest.fixture(scope="module")
def answer_edges() -> dict[str, list[SpeechEdge]]:
    entries = {name: entry(name) for name in ANSWERS}
    return {name: speech_edges(read_wav(SPEECH / entries[name]["audio"])) for name in ANSWERS}


@pytest.mark.parametrize("name", ANSWERS)
def test_every_long_hold_is_heard_as_a_pause(name: str, answer_edges: dict[str, list[SpeechEdge]]) -> None:
    edges = answer_edges[name]
    holds = [(a, b) for a, b in entry(name)["holds"] if b - a >= 0.8]
    assert holds, f"{name}: expected holds of 0.8 s or more"
    missed = []
    for hold_start, hold_end in holds:
        heard = False
        for i, edge in enumerate(edges):
            if not edge.speaking and abs(edge.at - hold_start) <= 0.35:
                resumed = next((e.at for e in edges[i + 1 :] if e.speaking), None)
                heard = heard or (resumed is not None and abs(resumed - hold_end) <= 0.35)
        if not heard:
            nearby = [(e.speaking, round(e.at, 2)) for e in edges if hold_start - 1 < e.at < hold_end + 1]
            missed.append(((hold_start, hold_end), nearby))
    assert missed == [], f"{name}: holds not heard as pauses (hold, edges nearby)"


SOFT_ONSET = pytest.mark.xfail(
    strict=True,
    reason="ami_MEE009_a01 starts softly (-60..-50 dBFS from 0.79 s): webrtcvad mode 2 first fires at "
    "1.34 s (modes 0/1 at 1.18 s), so speech starts 0.55 s late; the level gate is not the cause",
)


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=SOFT_ONSET) if n == "ami_MEE009_a01" else n for n in ANSWERS]
)
def test_first_and_last_speech_match_the_manifest(
    name: str, answer_edges: dict[str, list[SpeechEdge]]
) -> None:
    expected = entry(name)
    edges = answer_edges[name]
    starts = [e.at for e in edges if e.speaking]
    ends = [e.at for e in edges if not e.speaking]
    assert len(starts) == len(ends)  # speech ends before the file does
    assert starts[0] == pytest.approx(expected["speech_start_s"], abs=0.4)
    assert ends[-1] == pytest.approx(expected["speech_end_s"], abs=0.4)


NOISY_TAIL = "noise bursts 12-15 dB above the floor (10th percentile) pass the gate and webrtcvad: {} s run"
NOISY_TAILS = {
    "ljspeech_linda_johnson_a01": NOISY_TAIL.format(0.70),
    "ljspeech_linda_johnson_a02": NOISY_TAIL.format(0.66),
}


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=NOISY_TAILS[name]))
        if name in NOISY_TAILS
        else name
        for name in sorted(manifest())
    ],
)
def test_the_room_noise_tail_alone_holds_no_speech_run_over_half_a_second(name: str) -> None:
    answer = entry(name)
    samples = read_wav(SPEECH / answer["audio"])
    tail = samples[int(answer["speech_end_s"] * SAMPLE_RATE) :]
    assert len(tail) >= 5.9 * SAMPLE_RATE
    longest = max((end - start for start, end in speech_runs(tail)), default=0.0)
    assert longest <= 0.5


def test_digital_silence_is_never_speech() -> None:
    vad = FrameVad()
    silence = bytes(FRAME_BYTES)
    assert not any(vad.is_speech(silence) for _ in range(500))


def test_a_loud_steady_tone_alone_does_not_keep_speech_going() -> None:
    """A hum is not a voice: webrtcvad may fire, but the run must not last (noise floor rises to it)."""
    t = np.arange(10 * SAMPLE_RATE) / SAMPLE_RATE
    hum = (3000 * np.sin(2 * np.pi * 120 * t)).astype(np.int16)
    longest = max((end - start for start, end in speech_runs(hum)), default=0.0)
    assert longest <= 0.5


@pytest.mark.parametrize("size", [0, FRAME_BYTES - 2, FRAME_BYTES + 2, 2 * FRAME_BYTES])
def test_a_frame_of_the_wrong_size_is_refused(size: int) -> None:
    with pytest.raises(BadMedia, match=f"{size} bytes; expected {FRAME_BYTES}"):
        FrameVad().is_speech(bytes(size))
