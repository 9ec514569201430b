"""Latency figures from timed events (pure): dead air from the true end, cut-offs, ASR cost."""

from __future__ import annotations

from milo_voice.calls.latency import TrueAnswer, measure, percentile
from milo_voice.dialogue import events as ev
from milo_voice.dialogue.events import TimedEvent


def event(name: str, media: float, mono: float, **data: float | int | str) -> TimedEvent:
    return TimedEvent(name, media, mono, 0, dict(data))


def test_dead_air_counts_from_the_true_end_and_cut_offs_are_counted() -> None:
    events = [
        event(ev.AUDIO_OUT_FIRST_FRAME, 0.0, 100.0, at=0.0),  # the greeting
        # answer 1 (5.0-12.0): a premature reply at 9.0 cuts it off, the real reply at 13.5
        event(ev.EOT_DECIDED, 8.9, 108.9),
        event(ev.ASR_FINAL, 8.9, 108.95),
        event(ev.PLAN_FIRST_SENTENCE, 8.9, 108.96, source="offline"),
        event(ev.TTS_FIRST_AUDIO, 8.9, 108.97, cached=1),
        event(ev.AUDIO_OUT_FIRST_FRAME, 9.0, 109.0, at=9.0),
        event(ev.EOT_DECIDED, 13.4, 113.4),
        event(ev.ASR_FINAL, 13.4, 113.4),
        event(ev.PLAN_FIRST_SENTENCE, 13.4, 113.41, source="offline"),
        event(ev.TTS_FIRST_AUDIO, 13.4, 113.42, cached=0),
        event(ev.AUDIO_OUT_FIRST_FRAME, 13.5, 113.5, at=13.5),
        event(ev.SESSION_END, 20.0, 120.0, asr_cpu_s=1.0, speech_s=10.0),
    ]
    lat = measure(events, [TrueAnswer(start=5.0, speech_end=12.0)])
    assert lat.talk_over == 1
    assert [round(x, 3) for x in lat.dead_air] == [1.5]
    assert [round(x, 3) for x in lat.eot_delay] == [1.4]
    assert [round(x, 3) for x in lat.system] == [0.1, 0.1]
    assert len(lat.tts_first_audio_cached) == 1 and len(lat.tts_first_audio_new) == 1
    assert lat.asr_cpu_per_audio_s == 0.1


def test_percentile_interpolates_and_handles_empty() -> None:
    assert percentile([], 50) is None
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    p90 = percentile([1.0, 2.0, 3.0, 4.0], 90)
    assert p90 is not None and abs(p90 - 3.7) < 1e-9
