"""The speech corpus's pauses, and the scoring of what the candidate *heard* during a call (pure).

Used by bench/turns.py (`--sweep`, and every `--channel`) and bench/turns_wire.py; unit-tested in
tests/calls/phone/test_turns_wire_scoring.py. No models, no I/O but reading the manifest.

Definitions (all times in seconds; "answer time" is seconds into the answer's recording):

- A frame the candidate heard is *audible* when its level is at least `AUDIBLE_DBFS` (a ducked
  reply, -12 dB, still is; a muted one, digital zero, is not). Audible frames closer than
  `BRIDGE` are one *run* (a reply, or one talk-over).
- A run that starts between the true speech start and the true speech end is a *talk-over*. It
  belongs to the pause it starts in (from the pause's start to `RESUME_SLACK` after its end: a
  reply decided in the pause can reach the ear just after the candidate resumed); otherwise it
  started during speech. Runs of one pause are one talk-over (a reply's lines can be further
  apart than `BRIDGE`). A pause is *talked into* when a talk-over belongs to it.
- *Audible after resume*: how long the talk-over stayed audible after the candidate resumed (the
  pause's end), i.e. from the first heard frame after the resume to the end of that frame's run;
  0 for a talk-over that ended inside the pause.
- *Dead air*: from the true end of speech to the start of the first audible run after it (0 if a
  run was already audible then and went on for at least `MIN_REPLY`; a talk-over that stops within
  `MIN_REPLY` of the end is not the reply). None when nothing was audible before the next answer
  started or the call ended (no reply).
- The *plain silence rule* replies `threshold` seconds into any VAD silence after speech (the
  same run's VAD edges); at the threshold where its median dead air equals the channel's, its
  decisions before the true end are its talk-overs, charged to the pause they fall in.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SPEECH = REPO.parent / "shared" / "data" / "speech"
BUCKETS = ((0.0, 1.0, "<1 s"), (1.0, 2.0, "1-2 s"), (2.0, 3.0, "2-3 s"), (3.0, 99.0, ">=3 s"))
GOAL = "<1.5 s"
"""The issue's goal bucket (no cut-off in pauses under 1.5 s), counted beside the four buckets."""
COLUMNS = (GOAL, *(name for _, _, name in BUCKETS))
LONG = ">=1.5 s"
"""Pauses in which a plain silence threshold is the comparison (issue 15)."""
UNFINISHED_KINDS = ("mid-sentence (after function word)", "mid-sentence (after conjunction/filler)")
"""Manifest pause kinds after an unfinished clause: a function word, a conjunction or a filler."""
UNFINISHED = "after an unfinished clause, <4 s"
NATURAL = "natural"
"""A hold the builder did not insert (the speaker's own pause): its kind is not labelled."""

FRAME = 0.02
AUDIBLE_DBFS = -50.0
"""A heard frame at least this loud (RMS, dB full scale) is interviewer audio the candidate hears."""
BRIDGE = 0.3
"""Audible frames closer than this (gap, s) are one run: the gaps between a reply's words."""
RESUME_SLACK = 0.3
"""A run starting this soon after a pause's end still belongs to the pause (it was decided there)."""
MIN_REPLY = 0.3
"""A run audible at the true end of speech is the reply only if it goes on this long after it."""
STOP_GOAL = 0.25
"""Issue 15: a reply that starts inside an answer stops within this long of the candidate resuming."""


# -- the corpus --------------------------------------------------------------------------------
def manifest() -> list[dict[str, Any]]:
    return [json.loads(line) for line in (SPEECH / "manifest.jsonl").read_text().splitlines() if line]


def pauses(entry: dict[str, Any]) -> list[tuple[float, float]]:
    """The answer's holds, with holds that only a burst in an inserted pause's filler separates
    joined into one: the filler is room noise by construction, so the candidate did not speak
    there (8 of the manifest's 153 holds are such pieces of a 1.2-3.3 s inserted silence)."""
    spans = [(p["at_s"] - 0.05, p["at_s"] + p["inserted_s"] + 0.05) for p in entry["inserted_pauses"]]
    out: list[tuple[float, float]] = []
    for a, b in entry["holds"]:
        if out and any(lo <= out[-1][1] and a <= hi for lo, hi in spans):
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def bucket(seconds: float) -> str:
    return next(name for low, high, name in BUCKETS if low <= seconds < high)


def buckets(seconds: float) -> list[str]:
    """Every bucket a hold of this length counts in: its own, and the goal bucket when it is short."""
    return [bucket(seconds)] + ([GOAL] if seconds < 1.5 else [])


@dataclass(frozen=True, slots=True)
class Pause:
    start: float
    end: float
    kind: str = NATURAL
    """The manifest's `where` of the inserted pause inside this hold, else `NATURAL`."""

    @property
    def seconds(self) -> float:
        return self.end - self.start

    def groups(self) -> list[str]:
        """Every row of the tables this pause counts in."""
        out = buckets(self.seconds) + ([LONG] if self.seconds >= 1.5 else [])
        if self.kind in UNFINISHED_KINDS and self.seconds < 4.0:
            out.append(UNFINISHED)
        return out


def labelled_pauses(entry: dict[str, Any]) -> list[Pause]:
    """`pauses(entry)` with the kind of the inserted pause each one holds (the same matching as the
    decision replay: an inserted pause starting within 0.2 s before the hold or inside it)."""
    out = []
    for a, b in pauses(entry):
        kind = next((p["where"] for p in entry["inserted_pauses"] if a - 0.2 <= p["at_s"] <= b), NATURAL)
        out.append(Pause(a, b, kind))
    return out


# -- what was heard ----------------------------------------------------------------------------
def frame_dbfs(samples: np.ndarray) -> float:
    """RMS level of one frame of int16 samples, dB full scale (-inf dB is returned as -200)."""
    if len(samples) == 0:
        return -200.0
    rms = float(np.sqrt(np.mean(np.square(samples.astype(np.float64)))))
    return 20 * math.log10(rms / 32768) if rms > 0 else -200.0


def runs(times: Iterable[float], *, bridge: float = BRIDGE,
         frame: float = FRAME) -> list[tuple[float, float]]:
    """(start, end) of each run of audible frames (`times` are the frames' starts, in order)."""
    out: list[tuple[float, float]] = []
    for t in times:
        if out and t - out[-1][1] < bridge - 1e-9:
            out[-1] = (out[-1][0], t + frame)
        else:
            out.append((t, t + frame))
    return out


def audible_runs(heard: Iterable[tuple[float, float]], *, threshold: float = AUDIBLE_DBFS,
                 bridge: float = BRIDGE) -> list[tuple[float, float]]:
    """Runs of the frames in `heard` ((time, dBFS) per played frame) at or above `threshold`."""
    return runs((t for t, level in heard if level >= threshold), bridge=bridge)


@dataclass(frozen=True, slots=True)
class TalkOver:
    start: float
    """Answer time the run became audible."""
    end: float
    pause: int | None
    """Index of the pause it belongs to; None: it started while the candidate was speaking."""
    after_resume: float
    """Seconds it stayed audible after the candidate resumed (0: it ended inside the pause)."""


@dataclass(slots=True)
class AnswerScore:
    answer: str
    pauses: list[Pause]
    talk_overs: list[TalkOver] = field(default_factory=list)
    dead_air: float | None = None
    """None: no reply before the next answer or the end of the call."""
    lead_in: int = 0
    """Runs that started in the recording's lead-in, before the speech (not a talk-over)."""

    @property
    def talked(self) -> set[int]:
        return {t.pause for t in self.talk_overs if t.pause is not None}


def pause_at(pauses: Sequence[Pause], t: float, *, before: float = 0.0,
             after: float = RESUME_SLACK) -> int | None:
    """The pause `t` falls in, widened by `before` and `after` (None: none)."""
    return next((i for i, p in enumerate(pauses) if p.start - before <= t < p.end + after), None)


def score_answer(answer: str, pauses: Sequence[Pause], heard_runs: Sequence[tuple[float, float]], *,
                 speech_start: float, speech_end: float, window_end: float) -> AnswerScore:
    """Score one answer from the runs heard during it (answer time). `window_end`: when the next
    answer started (or the call ended), the last moment a reply to this one counts."""
    out = AnswerScore(answer, list(pauses))
    for start, end in heard_runs:
        if start >= speech_end or end <= 0.0:
            continue
        if start < speech_start:
            out.lead_in += 1
            continue
        i = pause_at(pauses, start)
        resumed = pauses[i].end if i is not None else start
        after = round(max(0.0, end - max(start, resumed)), 3)
        last = out.talk_overs[-1] if out.talk_overs else None
        if i is not None and last is not None and last.pause == i:  # e.g. "Thank you." then the question
            out.talk_overs[-1] = TalkOver(last.start, end, i, last.after_resume or after)
        else:
            out.talk_overs.append(TalkOver(start, end, i, after))
    for start, end in heard_runs:
        if end <= speech_end or start >= window_end:
            continue
        if start < speech_end and end - speech_end < MIN_REPLY - 1e-9:
            continue  # a talk-over that stopped just after the end, not the reply
        out.dead_air = round(max(0.0, start - speech_end), 3)
        break
    return out


# -- the plain silence rule ----------------------------------------------------------------------
def silence_decisions(edges: Sequence[tuple[bool, float]], threshold: float, until: float) -> list[float]:
    """When a plain silence threshold replies, given VAD edges (speaking?, answer time) in order:
    `threshold` into each silence that follows speech, never before the first speech, up to `until`.
    A reply into a pause lets the candidate go on (one decision per silence)."""
    out: list[float] = []
    silent_since: float | None = None
    for speaking, at in edges:
        if speaking:
            if silent_since is not None and at - silent_since > threshold + 1e-9:
                out.append(silent_since + threshold)
            silent_since = None
        else:
            silent_since = at
    if silent_since is not None and silent_since + threshold <= until + 1e-9:
        out.append(silent_since + threshold)
    return [round(t, 3) for t in out]


@dataclass(slots=True)
class RuleScore:
    answer: str
    pauses: list[Pause]
    talked: set[int] = field(default_factory=set)
    dead_air: float | None = None
    elsewhere: int = 0
    """Decisions before the true end that fall in no labelled pause (e.g. a noise onset in the lead-in)."""


@dataclass(frozen=True, slots=True)
class RuleInput:
    """One answer as the silence rule sees it: its VAD edges and truth, in answer time."""

    answer: str
    pauses: tuple[Pause, ...]
    edges: tuple[tuple[bool, float], ...]
    speech_end: float
    window_end: float


def score_rule(item: RuleInput, threshold: float) -> RuleScore:
    out = RuleScore(item.answer, list(item.pauses))
    for t in silence_decisions(item.edges, threshold, item.window_end):
        if t >= item.speech_end - 1e-9:
            out.dead_air = round(t - item.speech_end, 3)
            break
        i = pause_at(item.pauses, t, before=0.3, after=0.3)
        if i is None:
            out.elsewhere += 1
        else:
            out.talked.add(i)
    return out


def median(values: Sequence[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (as milo_voice.calls.latency.percentile)."""
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100.0
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def matched_threshold(items: Sequence[RuleInput], target: float, *, lo: float = 0.2, hi: float = 6.0,
                      step: float = 0.01) -> float:
    """The silence threshold whose median dead air (over the answers it replied to) is closest to
    `target`; the smallest such threshold on a tie."""
    best, best_gap = lo, math.inf
    for k in range(round((hi - lo) / step) + 1):
        threshold = round(lo + k * step, 3)
        airs = [d for d in (score_rule(i, threshold).dead_air for i in items) if d is not None]
        m = median(airs)
        if m is not None and abs(m - target) < best_gap - 1e-9:
            best, best_gap = threshold, abs(m - target)
    return best


# -- tables ------------------------------------------------------------------------------------
def count_pauses(scored: Iterable[tuple[list[Pause], set[int]]]) -> dict[str, list[int]]:
    """Row name -> [pauses talked into, pauses] over (pauses, talked pause indices) per answer.
    Rows: the buckets, `LONG`, `UNFINISHED`, every pause kind (`kind: ...`) and `all`."""
    out: dict[str, list[int]] = {}
    for pause_list, talked in scored:
        for i, p in enumerate(pause_list):
            for name in [*p.groups(), f"kind: {p.kind}", "all"]:
                row = out.setdefault(name, [0, 0])
                row[0] += int(i in talked)
                row[1] += 1
    return out


def summarise(scores: Sequence[AnswerScore], rule_items: Sequence[RuleInput]) -> dict[str, Any]:
    """A channel's figures: pauses talked into, talk-over stops, dead air, and the silence rule at
    the same median dead air (from the same run's VAD edges)."""
    airs = [s.dead_air for s in scores if s.dead_air is not None]
    overs = [t for s in scores for t in s.talk_overs]
    in_pauses = [t for t in overs if t.pause is not None]
    out: dict[str, Any] = {
        "answers": len(scores),
        "pauses": count_pauses((s.pauses, s.talked) for s in scores),
        "talk_overs": len(overs),
        "talk_overs_in_speech": len(overs) - len(in_pauses),
        "answers_talked_into": sum(1 for s in scores if s.talk_overs),
        "lead_in_runs": sum(s.lead_in for s in scores),
        "audible_after_resume_p50": percentile([t.after_resume for t in in_pauses], 50),
        "audible_after_resume_max": max((t.after_resume for t in in_pauses), default=None),
        "stopped_late": sum(1 for t in in_pauses if t.after_resume > STOP_GOAL + 1e-9),
        "dead_air_p50": percentile(airs, 50), "dead_air_p90": percentile(airs, 90),
        "dead_air_median": median(airs),
        "no_reply": sum(1 for s in scores if s.dead_air is None),
    }
    target = out["dead_air_median"]
    if target is not None and rule_items:
        threshold = matched_threshold(rule_items, target)
        rule = [score_rule(i, threshold) for i in rule_items]
        rule_airs = [r.dead_air for r in rule if r.dead_air is not None]
        out["silence_rule"] = {
            "threshold": threshold,
            "pauses": count_pauses((r.pauses, r.talked) for r in rule),
            "dead_air_median": median(rule_airs),
            "dead_air_p50": percentile(rule_airs, 50), "dead_air_p90": percentile(rule_airs, 90),
            "no_reply": sum(1 for r in rule if r.dead_air is None),
            "elsewhere": sum(r.elsewhere for r in rule),
        }
    return out
