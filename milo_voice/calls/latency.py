"""Latency and turn-taking figures of a session, computed from its timed events (pure).

Used by `milo-voice simulate` (its table) and `bench/` (percentiles over many sessions).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from milo_voice.dialogue import events as ev
from milo_voice.dialogue.events import TimedEvent


@dataclass(frozen=True, slots=True)
class TrueAnswer:
    """Ground truth for one simulated answer, on the call's timeline (s)."""

    start: float
    speech_end: float


@dataclass(slots=True)
class Latencies:
    """Per-reply samples, seconds. Each list has one entry per candidate turn that had it."""

    dead_air: list[float] = field(default_factory=list)
    """True end of the candidate's speech -> first interviewer audio frame after it."""
    eot_delay: list[float] = field(default_factory=list)
    """True end of speech -> the policy's end-of-turn decision (media time)."""
    asr_final: list[float] = field(default_factory=list)
    """End-of-turn decision -> live transcript complete."""
    plan_first_token: list[float] = field(default_factory=list)
    plan_first_sentence: list[float] = field(default_factory=list)
    """Live transcript complete -> planner's first sentence."""
    tts_first_audio_cached: list[float] = field(default_factory=list)
    tts_first_audio_new: list[float] = field(default_factory=list)
    """Planner's first sentence -> its audio ready."""
    system: list[float] = field(default_factory=list)
    """End-of-turn decision -> first audio frame out (everything the system adds to the wait)."""
    talk_over: int = 0
    """Answers inside which the interviewer started speaking (cut-offs)."""
    asr_cpu_per_audio_s: float = 0.0
    fallbacks: int = 0

    def extend(self, other: Latencies) -> None:
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if isinstance(value, list):
                value.extend(getattr(other, name))
        self.talk_over += other.talk_over
        self.fallbacks += other.fallbacks


def _after(events: Sequence[TimedEvent], name: str, start: int) -> tuple[int, TimedEvent] | None:
    for i in range(start, len(events)):
        if events[i].name == name:
            return i, events[i]
    return None


def measure(events: Sequence[TimedEvent], answers: Sequence[TrueAnswer]) -> Latencies:
    """Pair each end-of-turn decision with what followed it, and each true answer end with its reply."""
    out = Latencies()
    for i, event in enumerate(events):
        if event.name != ev.EOT_DECIDED:
            continue
        asr = _after(events, ev.ASR_FINAL, i)
        if asr is None:
            continue
        out.asr_final.append(asr[1].mono - event.mono)
        first = _after(events, ev.PLAN_FIRST_SENTENCE, asr[0])
        token = _after(events, ev.PLAN_FIRST_TOKEN, asr[0])
        if token is not None and (first is None or token[0] < first[0] + 2):
            out.plan_first_token.append(token[1].mono - asr[1].mono)
        if first is None:
            continue
        out.plan_first_sentence.append(first[1].mono - asr[1].mono)
        tts = _after(events, ev.TTS_FIRST_AUDIO, first[0])
        if tts is not None:
            target = out.tts_first_audio_cached if tts[1].data.get("cached") else out.tts_first_audio_new
            target.append(tts[1].mono - first[1].mono)
        frame = _after(events, ev.AUDIO_OUT_FIRST_FRAME, first[0])
        if frame is not None:
            out.system.append(frame[1].mono - event.mono)
    frames = [e for e in events if e.name == ev.AUDIO_OUT_FIRST_FRAME]
    eots = [e for e in events if e.name == ev.EOT_DECIDED]
    for answer in answers:
        late = next((e for e in eots if e.media_time >= answer.speech_end), None)
        if late is not None:
            out.eot_delay.append(late.media_time - answer.speech_end)
        starts = [float(e.data["at"]) for e in frames]
        if any(answer.start + 0.1 <= at < answer.speech_end for at in starts):
            out.talk_over += 1  # the interviewer spoke inside the answer (a cut-off)
        after = [at for at in starts if at >= answer.speech_end]
        if after:
            out.dead_air.append(after[0] - answer.speech_end)
    end = next((e for e in reversed(events) if e.name == ev.SESSION_END), None)
    if end is not None and float(end.data.get("speech_s", 0)) > 0:
        out.asr_cpu_per_audio_s = float(end.data["asr_cpu_s"]) / float(end.data["speech_s"])
    out.fallbacks = sum(1 for e in events if e.name == ev.PLAN_FALLBACK)
    return out


def percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100.0
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def table(lat: Latencies) -> list[tuple[str, int, float | None, float | None]]:
    """(metric, n, p50 ms, p90 ms) rows."""
    rows = []
    for name in (
        "dead_air", "eot_delay", "asr_final", "plan_first_token", "plan_first_sentence",
        "tts_first_audio_cached", "tts_first_audio_new", "system",
    ):
        values: list[float] = getattr(lat, name)
        p50, p90 = percentile(values, 50), percentile(values, 90)
        rows.append((name, len(values), None if p50 is None else p50 * 1000,
                     None if p90 is None else p90 * 1000))
    return rows


def format_table(lat: Latencies) -> str:
    lines = [f"{'metric':<24}{'n':>4}{'p50 ms':>10}{'p90 ms':>10}"]
    for name, n, p50, p90 in table(lat):
        fmt = lambda v: "-" if v is None else f"{v:.0f}"  # noqa: E731
        lines.append(f"{name:<24}{n:>4}{fmt(p50):>10}{fmt(p90):>10}")
    lines.append(f"{'asr cpu s per audio s':<28}{lat.asr_cpu_per_audio_s:>10.3f}")
    lines.append(f"{'talk-over replies':<28}{lat.talk_over:>10d}")
    lines.append(f"{'planner fallbacks':<28}{lat.fallbacks:>10d}")
    return "\n".join(lines)
