"""Early mute: which inbound frames should silence the interviewer before the VAD confirms an onset.

While a reply plays within 3 s of an end of turn, the floor (milo_voice/dialogue/floor.py) silences
it after `EARLY_MUTE` (60 ms; it was 40) of frames that may be the candidate going on, or 40 ms when one
of them is `STRONG_DB` (20 dB) above the noise floor, and lifts the mute if no onset is confirmed. A
click on the line that passes the rule costs the candidate a 200-260 ms hole in the interviewer's
sentence; a resumption the rule misses is talked over until the VAD confirms it.

For every answer of ../shared/data/speech, as the server hears it on the phone (8 kHz mu-law, the
transport's upsampler), wide-band (the file channel), and from a browser (aiortc's Opus encoder and
decoder: bench/webrtc_audio.py), this runs `FrameVad` over the audio and scores each rule:
- at every labelled resumption (the end of a hold): how long after it the rule fires;
- in the holds' insides and the room-noise tails after the last word: how often it fires;
- leaving one speaker out, the strong-frame level chosen on the others, scored on the one left out;
- on the browser's audio, each resumption that today's rule hears more than 80 ms late, with the share
  of its first 100 ms that lies under 50 Hz and what the codec removed of it: a hold that ends on a
  rumble rather than on a voice, which the Opus encoder's high-pass filter removes before the server
  hears it.

    .venv/bin/python bench/onsets.py
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
SPEECH = REPO.parent / "shared" / "data" / "speech"

from turns_cv import phone_audio  # noqa: E402
from webrtc_audio import webrtc_audio  # noqa: E402

from milo_voice.media.pcm import read_wav  # noqa: E402
from milo_voice.media.types import FRAME_SECONDS  # noqa: E402
from milo_voice.media.vad import FrameVad, frame_dbfs  # noqa: E402

FRAME = int(16_000 * FRAME_SECONDS)


@dataclass(frozen=True, slots=True)
class Frame:
    at: float
    """End of the frame (s)."""
    loud: bool
    speech: bool
    above_floor_db: float


def frames(samples: np.ndarray) -> list[Frame]:
    vad = FrameVad()
    out = []
    for i in range(len(samples) // FRAME):
        pcm = samples[i * FRAME : (i + 1) * FRAME].astype("<i2").tobytes()
        speech = vad.is_speech(pcm)
        out.append(Frame((i + 1) * FRAME_SECONDS, vad.loud, speech, frame_dbfs(pcm) - vad.floor_dbfs))
    return out


Rule = Callable[[list[Frame], int], bool]


def run_of(pred: Callable[[Frame], bool], n: int) -> Rule:
    return lambda fs, i: i + 1 >= n and all(pred(fs[j]) for j in range(i - n + 1, i + 1))


def loud_or_strong(db: float) -> Rule:
    """Three frames at speech level, or two with one `db` above the noise floor."""
    return lambda fs, i: run_of(lambda f: f.loud, 3)(fs, i) or (
        run_of(lambda f: f.loud, 2)(fs, i) and max(fs[i].above_floor_db, fs[i - 1].above_floor_db) >= db
    )


STRONG_DBS = (18, 20, 22, 24, 26)
THREE = "loud, 3 frames"
RULES: dict[str, Rule] = {
    "loud or VAD, 2 frames": lambda fs, i: run_of(lambda f: f.loud, 2)(fs, i)
    or run_of(lambda f: f.speech, 2)(fs, i),
    "VAD speech, 2 frames": run_of(lambda f: f.speech, 2),
    THREE: run_of(lambda f: f.loud, 3),
    "VAD speech, 3 frames": run_of(lambda f: f.speech, 3),
    "2 frames >= floor + 20 dB": run_of(lambda f: f.above_floor_db >= 20, 2),
    "loud 2, rising (2nd >= 1st)": lambda fs, i: run_of(lambda f: f.loud, 2)(fs, i)
    and fs[i].above_floor_db >= fs[i - 1].above_floor_db,
    **{f"loud 3, or loud 2 with one >= +{db}": loud_or_strong(db) for db in STRONG_DBS},
}
"""The floor's rule today (milo_voice/dialogue/floor.py): "loud 3, or loud 2 with one >= +20"."""


@dataclass
class Tally:
    late: list[float] = field(default_factory=list)
    missed: int = 0
    noise_fires: int = 0

    def add(self, other: Tally) -> None:
        self.late += other.late
        self.missed += other.missed
        self.noise_fires += other.noise_fires


def score(fs: list[Frame], rule: Rule, resumptions: list[float], quiet: list[tuple[float, float]]) -> Tally:
    tally = Tally()
    fired = [f.at for i, f in enumerate(fs) if rule(fs, i)]
    for at in resumptions:
        hit = next((t for t in fired if at - 0.04 <= t <= at + 0.4), None)
        if hit is None:
            tally.missed += 1
        else:
            tally.late.append(hit - at)
    # a rule fires once per burst: count rising edges inside the quiet stretches
    edges = [t for k, t in enumerate(fired) if k == 0 or t - fired[k - 1] > FRAME_SECONDS + 1e-6]
    tally.noise_fires = sum(1 for t in edges for a, b in quiet if a <= t <= b)
    return tally


def row(name: str, t: Tally) -> str:
    late = sorted(t.late) or [float("nan")]
    pct = [late[min(len(late) - 1, int(q * (len(late) - 1)))] * 1000 for q in (0.5, 0.9)]
    return (f"{name:38} {pct[0]:12.0f} / {pct[1]:5.0f} / {late[-1] * 1000:5.0f} {t.missed:7d} "
            f"{t.noise_fires:12d}")


def total(tallies: dict[tuple[str, str], Tally], speakers: set[str]) -> Tally:
    out = Tally()
    for (speaker, _), t in tallies.items():
        if speaker in speakers:
            out.add(t)
    return out


def main() -> int:
    lines = (SPEECH / "manifest.jsonl").read_text().splitlines()
    items = [json.loads(line) for line in lines if line.strip()]
    # (channel, rule) -> (speaker, answer) -> tally
    tallies: dict[tuple[str, str], dict[tuple[str, str], Tally]] = {}
    late: list[str] = []
    for channel in CHANNELS:
        noise_s = 0.0
        onsets = 0
        for item in items:
            original = read_wav(SPEECH / item["audio"])
            samples = CHANNELS[channel](original)
            fs = frames(samples)
            quiet = [(a + 0.1, b - 0.06) for a, b in item["holds"] if b - a > 0.3]
            quiet.append((item["speech_end_s"] + 0.3, item["duration_s"] - 0.05))
            noise_s += sum(max(0.0, b - a) for a, b in quiet)
            resumptions = [b for a, b in item["holds"]]
            onsets += len(resumptions)
            for name, rule in RULES.items():
                key = (item["speaker"], item["id"])
                tallies.setdefault((channel, name), {})[key] = score(fs, rule, resumptions, quiet)
            if channel == "browser (Opus)":
                late += late_resumptions(item["id"], original, samples, fs, resumptions)
        speakers = {item["speaker"] for item in items}
        print(f"\n{channel}: {onsets} resumptions, {noise_s:.0f} s of holds and room-noise tails")
        print(f"{'rule':38} {'fires after resumption p50/p90/max ms':>38} {'missed':>7} {'noise fires':>12}")
        for name in RULES:
            print(row(name, total(tallies[(channel, name)], speakers)))
    leave_one_speaker_out(tallies, sorted({item["speaker"] for item in items}))
    print("\nbrowser (Opus): resumptions today's rule hears more than 80 ms late (hold end, s; the first")
    print("100 ms after it: its share under 50 Hz in the original, what the codec removed beyond its flat")
    print("3 dB; when the rule fired)")
    for line in late:
        print(line)
    return 0


CHANNELS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "phone": phone_audio, "wide-band": lambda samples: samples, "browser (Opus)": webrtc_audio}


def low_share(samples: np.ndarray, at: float, seconds: float = 0.1, below_hz: float = 50.0) -> float:
    """The share of the energy of `seconds` of `samples` (16 kHz) from `at` that lies under `below_hz`."""
    piece = samples[int(at * 16_000): int((at + seconds) * 16_000)].astype(np.float64)
    power = np.abs(np.fft.rfft(piece * np.hanning(len(piece)))) ** 2
    freqs = np.fft.rfftfreq(len(piece), 1 / 16_000)
    return float(power[freqs < below_hz].sum() / max(power.sum(), 1e-9))


def level_db(samples: np.ndarray) -> float:
    x = samples.astype(np.float64)
    return float(10 * np.log10(np.mean(x * x) + 1e-9)) if x.size else -90.0


def late_resumptions(answer: str, original: np.ndarray, coded: np.ndarray, fs: list[Frame],
                     resumptions: list[float]) -> list[str]:
    """Today's rule late by more than 80 ms on the browser's audio: how much of the first 100 ms after the
    hold end lies under 50 Hz in the original, and how many dB more than the whole answer's the codec took
    from those 100 ms (aiortc's mono-stereo-mono path costs every sound 3 dB; rumble loses more)."""
    rule = RULES["loud 3, or loud 2 with one >= +20"]
    fired = [f.at for i, f in enumerate(fs) if rule(fs, i)]
    whole = level_db(original[: len(coded)]) - level_db(coded)
    out = []
    for at in resumptions:
        hit = next((t for t in fired if at - 0.04 <= t <= at + 0.6), None)
        if hit is None or hit - at > 0.08 + 1e-6:
            piece = slice(int(at * 16_000), int((at + 0.1) * 16_000))
            lost = level_db(original[piece]) - level_db(coded[piece]) - whole
            when = "not within 0.6 s" if hit is None else f"+{(hit - at) * 1000:.0f} ms"
            out.append(f"  {answer:28} {at:6.2f}  under 50 Hz {low_share(original, at):4.0%}  "
                       f"removed by the codec {lost:5.1f} dB  fired {when}")
    return out


Tallies = dict[tuple[str, str], dict[tuple[str, str], Tally]]


def leave_one_speaker_out(tallies: Tallies, speakers: list[str]) -> None:
    """For each speaker left out: the lowest strong-frame level whose noise fires on the other speakers
    (phone and wide-band) are no more than three frames' own, scored on the speaker left out."""
    print("\nleave one speaker out: the lowest +dB with no more noise fires than 3 frames on the others")
    chosen: dict[str, int] = {}
    for out in speakers:
        rest = set(speakers) - {out}

        def fires(name: str, rest: set[str] = rest) -> int:
            return sum(total(tallies[(ch, name)], rest).noise_fires for ch in ("phone", "wide-band"))

        base = fires(THREE)
        ok = [db for db in STRONG_DBS if fires(f"loud 3, or loud 2 with one >= +{db}") <= base]
        chosen[out] = ok[0] if ok else 99
    print("  chosen per fold: " + ", ".join(f"{s} +{db}" for s, db in chosen.items()))
    for channel in CHANNELS:
        left_out, three = Tally(), Tally()
        for out, db in chosen.items():
            name = f"loud 3, or loud 2 with one >= +{db}" if db != 99 else THREE
            left_out.add(total(tallies[(channel, name)], {out}))
            three.add(total(tallies[(channel, THREE)], {out}))
        print(f"  {channel}:")
        print(row("    left-out speaker, the fold's choice", left_out))
        print(row("    three frames", three))


if __name__ == "__main__":
    sys.exit(main())
