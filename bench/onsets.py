"""Early mute: which inbound frames should silence the interviewer before the VAD confirms an onset.

While a reply plays within 3 s of an end of turn, the floor (milo_voice/dialogue/floor.py) silences
it after `EARLY_MUTE` (60 ms; it was 40) of frames that may be the candidate going on, and lifts the
mute if no onset is confirmed. A click on the line that passes the rule costs the candidate a 200-260 ms hole
in the interviewer's sentence; a resumption the rule misses is talked over until the VAD confirms it.

For every answer of ../shared/data/speech, as the server hears it on the phone (8 kHz mu-law, the
transport's upsampler) and wide-band, this runs `FrameVad` over the audio and scores each rule:
- at every labelled resumption (the end of a hold): how long after it the rule fires;
- in the holds' insides and the room-noise tails after the last word: how often it fires.

    .venv/bin/python bench/onsets.py
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
SPEECH = REPO.parent / "shared" / "data" / "speech"

from turns_cv import phone_audio  # noqa: E402

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


RULES: dict[str, Rule] = {
    "loud or VAD, 2 frames (today)": lambda fs, i: run_of(lambda f: f.loud, 2)(fs, i)
    or run_of(lambda f: f.speech, 2)(fs, i),
    "VAD speech, 2 frames": run_of(lambda f: f.speech, 2),
    "loud, 3 frames": run_of(lambda f: f.loud, 3),
    "VAD speech, 3 frames": run_of(lambda f: f.speech, 3),
    "2 frames >= floor + 18 dB": run_of(lambda f: f.above_floor_db >= 18, 2),
    "2 frames >= floor + 20 dB": run_of(lambda f: f.above_floor_db >= 20, 2),
    "loud 2 frames, one >= floor + 20 dB": lambda fs, i: run_of(lambda f: f.loud, 2)(fs, i)
    and max(fs[i].above_floor_db, fs[i - 1].above_floor_db) >= 20,
    "loud 2, rising (2nd >= 1st)": lambda fs, i: run_of(lambda f: f.loud, 2)(fs, i)
    and fs[i].above_floor_db >= fs[i - 1].above_floor_db,
    "loud 3, or loud 2 with one >= +22": lambda fs, i: run_of(lambda f: f.loud, 3)(fs, i)
    or (run_of(lambda f: f.loud, 2)(fs, i) and max(fs[i].above_floor_db, fs[i - 1].above_floor_db) >= 22),
    "2 frames >= floor + 24 dB": run_of(lambda f: f.above_floor_db >= 24, 2),
}


def main() -> int:
    lines = (SPEECH / "manifest.jsonl").read_text().splitlines()
    items = [json.loads(line) for line in lines if line.strip()]
    for channel in ("phone", "wide-band"):
        stats = {name: {"late": [], "missed": 0, "noise_fires": 0} for name in RULES}
        noise_s = 0.0
        onsets = 0
        for item in items:
            samples = read_wav(SPEECH / item["audio"])
            if channel == "phone":
                samples = phone_audio(samples)
            fs = frames(samples)
            quiet = [(a + 0.1, b - 0.06) for a, b in item["holds"] if b - a > 0.3]
            quiet.append((item["speech_end_s"] + 0.3, item["duration_s"] - 0.05))
            noise_s += sum(max(0.0, b - a) for a, b in quiet)
            resumptions = [b for a, b in item["holds"]]
            onsets += len(resumptions)
            for name, rule in RULES.items():
                fired = [f.at for i, f in enumerate(fs) if rule(fs, i)]
                for at in resumptions:
                    hit = next((t for t in fired if at - 0.04 <= t <= at + 0.4), None)
                    if hit is None:
                        stats[name]["missed"] += 1
                    else:
                        stats[name]["late"].append(hit - at)
                # a rule fires once per burst: count rising edges inside the quiet stretches
                edges = [t for k, t in enumerate(fired) if k == 0 or t - fired[k - 1] > FRAME_SECONDS + 1e-6]
                stats[name]["noise_fires"] += sum(1 for t in edges for a, b in quiet if a <= t <= b)
        print(f"\n{channel}: {onsets} resumptions, {noise_s:.0f} s of holds and room-noise tails")
        print(f"{'rule':34} {'fires after resumption p50/p90/max ms':>38} {'missed':>7} {'noise fires':>12}")
        for name, s in stats.items():
            late = sorted(s["late"]) or [float("nan")]
            pct = [late[min(len(late) - 1, int(q * (len(late) - 1)))] * 1000 for q in (0.5, 0.9)]
            print(f"{name:34} {pct[0]:12.0f} / {pct[1]:5.0f} / {late[-1] * 1000:5.0f} {s['missed']:7d} "
                  f"{s['noise_fires']:12d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
