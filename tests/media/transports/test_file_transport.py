"""FileTransport, the simulated candidate, driven frame by frame with realtime=False.

Each test runs a small script against `inbound()`: at chosen inbound frames it plays, clears or
closes, and it records every inbound frame and every frame reported through `on_played`. Media
time is frame count x 20 ms, so the assertions are on exact frame times, never on the wall clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from conftest import SPEECH, manifest

from milo_voice.errors import BadMedia
from milo_voice.media.pcm import read_wav
from milo_voice.media.transports.file import FileTransport, SimAnswer
from milo_voice.media.types import DUCK_GAIN, FRAME_SAMPLES, FRAME_SECONDS, SAMPLE_RATE, AudioChunk

F = FRAME_SECONDS


def synthetic_answer(name: str, speech: float, tail: float, level: int = 8000) -> SimAnswer:
    """`speech` seconds of a 200 Hz tone, then `tail` seconds of low noise (never digital zero)."""
    t = np.arange(int(speech * SAMPLE_RATE)) / SAMPLE_RATE
    voice = (level * np.sin(2 * np.pi * 200 * t)).astype(np.int16)
    noise = np.random.default_rng(7).normal(0, 30, int(tail * SAMPLE_RATE)).astype(np.int16)
    return SimAnswer(np.concatenate([voice, noise]), speech_end=speech, name=name)


def tone(seconds: float, level: int = 4000) -> AudioChunk:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    pcm = (level * np.sin(2 * np.pi * 440 * t)).astype("<i2").tobytes()
    return AudioChunk(pcm, SAMPLE_RATE, 0.0)


def samples_of(chunk: AudioChunk) -> np.ndarray:
    return np.frombuffer(chunk.pcm, dtype="<i2")


def is_a_piece_of(piece: np.ndarray, noise: np.ndarray) -> bool:
    starts = np.flatnonzero(noise[: len(noise) - len(piece) + 1] == piece[0])
    return any(np.array_equal(noise[i : i + len(piece)], piece) for i in starts)


def answer_frame(answer: SimAnswer, k: int) -> np.ndarray:
    return answer.samples[k * FRAME_SAMPLES : (k + 1) * FRAME_SAMPLES]


Action = Callable[[FileTransport], Awaitable[object]]


@dataclass
class Run:
    inbound: list[AudioChunk] = field(default_factory=list)
    played: list[AudioChunk] = field(default_factory=list)
    results: dict[int, object] = field(default_factory=dict)
    """What each scripted action returned, by the inbound frame index it ran after."""


def drive(transport: FileTransport, script: dict[int, Action], *, frames: int) -> Run:
    """Consume `frames` inbound frames; after frame i, run script[i]. Bounded by a timeout."""
    run = Run()
    transport.on_played = run.played.append

    async def main() -> None:
        async with asyncio.timeout(20):
            async for chunk in transport.inbound():
                i = len(run.inbound)
                run.inbound.append(chunk)
                if i in script:
                    run.results[i] = await script[i](transport)
                if len(run.inbound) >= frames:
                    break

    asyncio.run(main())
    return run


def play(seconds: float) -> Action:
    async def action(transport: FileTransport) -> None:
        await transport.play(tone(seconds))

    return action


async def clear(transport: FileTransport) -> float:
    return await transport.clear()


async def playing_until(transport: FileTransport) -> float:
    return transport.playing_until()


def frame_index(at: float) -> int:
    return round(at / F)


# -- pacing and the answer log -----------------------------------------------------------


def test_the_candidate_waits_for_the_interviewer_to_speak() -> None:
    transport = FileTransport([synthetic_answer("a", 1.0, 1.0)], realtime=False)
    run = drive(transport, {}, frames=200)
    assert transport.log == []
    assert [c.start for c in run.inbound[:3]] == pytest.approx([0.0, 0.02, 0.04])
    assert run.inbound[-1].start == pytest.approx(199 * F)


def test_the_answer_starts_human_delay_after_the_interviewer_falls_silent() -> None:
    answer = synthetic_answer("a", 1.0, 1.0)
    transport = FileTransport([answer], human_delay=0.6, realtime=False)
    # played after frame 0 -> heard at frames 1..25 (0.02-0.5 s); idle from 0.52 s
    run = drive(transport, {0: play(0.5)}, frames=150)
    (entry,) = transport.log
    assert entry.index == 0
    assert entry.name == "a"
    assert entry.start == pytest.approx(0.52 + 0.6)
    assert entry.speech_end == pytest.approx(0.52 + 0.6 + 1.0)
    first = frame_index(entry.start)
    assert np.array_equal(samples_of(run.inbound[first]), answer_frame(answer, 0))
    assert np.array_equal(samples_of(run.inbound[first + 1]), answer_frame(answer, 1))
    assert not np.array_equal(samples_of(run.inbound[first - 1]), answer_frame(answer, 0))


def test_an_interviewer_who_keeps_talking_delays_the_answer() -> None:
    transport = FileTransport([synthetic_answer("a", 1.0, 1.0)], human_delay=0.6, realtime=False)
    # a second line queued at 0.3 s, before the first ends: idle only from 1.52 s
    drive(transport, {0: play(0.5), 15: play(1.0)}, frames=200)
    assert transport.log[0].start == pytest.approx(1.52 + 0.6)


def test_answers_follow_each_prompt_in_order_and_log_their_own_times() -> None:
    answers = [synthetic_answer("first", 0.6, 0.8), synthetic_answer("second", 0.4, 0.8)]
    transport = FileTransport(answers, human_delay=0.5, realtime=False)
    # prompt 1 heard 0.02-0.2 s -> answer 1 at 0.72 s, file over at 2.12 s
    # prompt 2 queued after frame 120 (2.4 s): heard 2.42-2.6 s -> answer 2 at 3.12 s
    drive(transport, {0: play(0.2), 120: play(0.2)}, frames=300)
    first, second = transport.log
    assert (first.index, first.name, second.index, second.name) == (0, "first", 1, "second")
    assert first.start == pytest.approx(0.72)
    assert first.speech_end == pytest.approx(0.72 + 0.6)
    assert first.stopped == pytest.approx(0.72 + 1.4)  # the whole file, tail included
    assert second.start == pytest.approx(3.12)
    assert second.speech_end == pytest.approx(3.12 + 0.4)
    assert transport.answers_left == 0


# -- playout -----------------------------------------------------------------------------


def test_played_frames_are_reported_one_per_inbound_frame_at_its_media_time() -> None:
    transport = FileTransport([synthetic_answer("a", 1.0, 1.0)], realtime=False)
    line = tone(0.3)
    run = drive(transport, {4: lambda t: t.play(line)}, frames=40)
    assert [c.start for c in run.played] == pytest.approx([c.start for c in run.inbound[5:20]])
    assert all(c.sample_rate == SAMPLE_RATE and c.samples == FRAME_SAMPLES for c in run.played)
    assert b"".join(c.pcm for c in run.played) == line.pcm


def test_a_partial_last_frame_is_padded_with_silence() -> None:
    transport = FileTransport([synthetic_answer("a", 1.0, 1.0)], realtime=False)
    line = AudioChunk(tone(0.05).pcm[: 2 * (FRAME_SAMPLES * 2 + 100)], SAMPLE_RATE, 0.0)
    run = drive(transport, {0: lambda t: t.play(line)}, frames=10)
    assert len(run.played) == 3
    last = samples_of(run.played[-1])
    assert np.array_equal(last[:100], samples_of(line)[2 * FRAME_SAMPLES :])
    assert not last[100:].any()


def test_playing_until_is_when_the_queue_will_have_played_out() -> None:
    transport = FileTransport([synthetic_answer("a", 1.0, 1.0)], realtime=False)
    run = drive(transport, {10: play(1.0), 11: playing_until, 30: playing_until}, frames=80)
    # frame 10 is at 0.2 s; the 50 queued frames play at frames 11..60, done at 61 x 20 ms
    assert run.results[11] == pytest.approx(1.22)
    assert run.results[30] == pytest.approx(1.22)
    assert run.played[-1].end == pytest.approx(1.22)


def test_clear_drops_the_queue_and_returns_what_was_heard() -> None:
    transport = FileTransport([synthetic_answer("a", 1.0, 1.0)], realtime=False)
    run = drive(transport, {0: play(1.0), 10: clear, 11: playing_until, 20: clear}, frames=40)
    assert run.results[10] == pytest.approx(10 * F)  # frames 1..10 were heard
    assert len(run.played) == 11  # ...and then one frame that fades out instead of a click
    fade = np.abs(samples_of(run.played[-1]).astype(np.int32))
    assert fade[:80].max() > 1000 and fade[-40:].max() < 0.15 * fade[:80].max()
    assert run.results[11] == pytest.approx(11 * F + F)  # nothing queued any more
    assert run.results[20] == 0.0  # nothing played since


def test_clear_then_play_counts_only_the_new_line() -> None:
    transport = FileTransport([synthetic_answer("a", 1.0, 1.0)], human_delay=5.0, realtime=False)
    run = drive(transport, {0: play(1.0), 5: clear, 6: play(1.0), 9: clear}, frames=20)
    assert (run.results[5], run.results[9]) == pytest.approx((5 * F, 3 * F))


def test_a_line_cut_short_is_no_prompt_the_candidate_waits_for_one_heard_whole() -> None:
    transport = FileTransport([synthetic_answer("a", 1.0, 1.0)], human_delay=0.6, realtime=False)
    drive(transport, {0: play(2.0), 20: clear, 60: play(0.4)}, frames=150)
    assert transport.log[0].start == pytest.approx(61 * F + 0.4 + 0.6)  # played from the next frame


def test_playout_at_another_rate_is_refused_naming_the_rate() -> None:
    transport = FileTransport([synthetic_answer("a", 1.0, 1.0)], realtime=False)
    chunk = AudioChunk(bytes(2 * 160), 8_000, 0.0)
    with pytest.raises(BadMedia, match="8000 Hz"):
        asyncio.run(transport.play(chunk))


# -- room noise and tails ----------------------------------------------------------------


@pytest.fixture(scope="module")
def recorded() -> list[SimAnswer]:
    """Two real answers, cut to 2 s of speech each plus their own noise tail."""
    answers = []
    for name in ("librispeech_367_a03", "librispeech_1688_a02"):
        entry: dict[str, Any] = manifest()[name]
        samples = read_wav(SPEECH / entry["audio"])
        end = entry["speech_end_s"]
        cut = np.concatenate([samples[: 2 * SAMPLE_RATE], samples[int(end * SAMPLE_RATE) :]])
        answers.append(SimAnswer(cut, speech_end=2.0, name=name))
    return answers


def level_dbfs(samples: np.ndarray) -> float:
    rms = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))
    return 20 * np.log10(max(rms, 1e-3) / 32768)


def test_between_answers_the_candidate_sends_the_room_noise_of_the_next_answer(
    recorded: list[SimAnswer],
) -> None:
    transport = FileTransport(recorded, human_delay=0.6, realtime=False)
    run = drive(transport, {30: play(0.2)}, frames=60)
    noise = recorded[0].room_noise()
    before = np.concatenate([samples_of(c) for c in run.inbound[:30]])
    assert np.array_equal(before, noise[: len(before)])
    assert before.any()
    assert level_dbfs(before) == pytest.approx(level_dbfs(noise), abs=3.0)
    assert level_dbfs(before) < -45  # room noise, not speech


def test_after_an_answer_the_noise_is_the_next_answers_and_never_digital_silence(
    recorded: list[SimAnswer],
) -> None:
    transport = FileTransport(recorded, human_delay=0.6, realtime=False)
    run = drive(transport, {0: play(0.2)}, frames=800)
    (entry,) = transport.log
    assert entry.stopped is not None
    after = run.inbound[frame_index(entry.stopped) :]
    assert len(after) > 100
    assert all(samples_of(c).any() for c in after)  # every frame, not just on average
    after_level = level_dbfs(np.concatenate([samples_of(c) for c in after]))
    assert after_level == pytest.approx(level_dbfs(recorded[1].room_noise()), abs=3.0)


def test_the_interviewer_speaking_after_speech_end_cuts_the_tail() -> None:
    answer = synthetic_answer("a", 1.0, 3.0)
    transport = FileTransport([answer], human_delay=0.6, realtime=False)
    # prompt heard at frames 1-5 -> answer from frame 36 (0.72 s); its speech ends at frame 86;
    # the interviewer speaks again from frame 101, 1.3 s into the recording, inside the tail
    run = drive(transport, {0: play(0.1), 100: play(0.2)}, frames=200)
    (entry,) = transport.log
    assert (entry.start, entry.speech_end) == pytest.approx((0.72, 1.72))
    assert entry.stopped == pytest.approx(101 * F)
    assert np.array_equal(samples_of(run.inbound[100]), answer_frame(answer, 100 - 36))
    cut = np.concatenate([samples_of(c) for c in run.inbound[101:]])
    assert not np.array_equal(cut[:FRAME_SAMPLES], answer_frame(answer, 101 - 36))
    assert is_a_piece_of(cut[: 10 * FRAME_SAMPLES], answer.room_noise())  # the room again


def test_the_interviewer_speaking_before_speech_end_does_not_silence_the_candidate() -> None:
    answer = synthetic_answer("a", 1.5, 0.5)
    transport = FileTransport([answer], human_delay=0.6, realtime=False)
    # answer starts at 0.72 s (frame 36); a short interjection at 1.02-1.22 s, mid-speech
    run = drive(transport, {0: play(0.1), 50: play(0.2)}, frames=150)
    (entry,) = transport.log
    assert entry.stopped == pytest.approx(0.72 + 2.0)  # played to the end of the file
    heard = np.concatenate([samples_of(c) for c in run.inbound[36 : 36 + 100]])
    assert np.array_equal(heard, answer.samples)


# -- ending ------------------------------------------------------------------------------


def test_close_ends_inbound() -> None:
    transport = FileTransport([synthetic_answer("a", 1.0, 1.0)], realtime=False)

    async def close(t: FileTransport) -> None:
        await t.close()

    run = drive(transport, {9: close}, frames=10_000)
    assert len(run.inbound) == 10


def test_inbound_ends_at_max_duration() -> None:
    transport = FileTransport([synthetic_answer("a", 1.0, 1.0)], realtime=False, max_duration=1.0)
    run = drive(transport, {}, frames=10_000)
    assert run.inbound[-1].start == pytest.approx(1.0)


def test_a_simulation_needs_an_answer() -> None:
    with pytest.raises(BadMedia, match="at least one answer"):
        FileTransport([], realtime=False)


def test_ducking_lowers_the_interviewer_from_the_next_frame_and_restores_it() -> None:
    transport = FileTransport([synthetic_answer("a", 1.0, 1.0)], human_delay=5.0, realtime=False)

    async def duck(t: FileTransport) -> None:
        t.duck(DUCK_GAIN)

    async def unduck(t: FileTransport) -> None:
        t.duck(1.0)

    run = drive(transport, {0: play(1.0), 10: duck, 20: unduck}, frames=40)
    peaks = [int(np.abs(samples_of(c).astype(np.int32)).max()) for c in run.played]
    full = peaks[5]
    assert all(p < 0.3 * full for p in peaks[11:20])  # ducked (about -12 dB) after one ramp frame
    assert all(p > 0.9 * full for p in peaks[22:30])  # and back after one ramp frame
