"""The outreach funnel (issue 16): of the candidates added in a period, how many opened their link,
started and completed, by source, by outreach channel and (workspace-wide) by interview; completion
by interview channel; which message came last before each completion; how long completion took;
where unfinished interviews were left. `compute` is pure over plain rows, which `FunnelData` reads
in five set-wise queries (`workspace/funnel_rows.py`; none per candidate).

Definitions (decided here; the page, the charts and `funnel.csv` use them):

- **Cohort**: the candidates **added** in the period (the analytics pages' `?days=` window: the
  last N UTC days, today included), of one interview (every version of its slug) or of all.
  Everything below is about those candidates, whenever it happened (a candidate added on the
  window's first day who completes today counts as completed).
- **invited**: every candidate of the cohort, whether a message reached them or not (a share-link
  applicant added themselves; `candidate.created_at` is the invitation time).
- **opened**: their link showed the interview page (`candidate.opened_at`), or they started (a
  phone candidate may never open the link). **started**: at least one session, any status.
  **completed**: at least one session with status `completed`, the same "completed" as the
  all-time funnel (`workspace.analytics`) and the variant rates (`workspace.variant_stats`); a
  recruiter's decision (shortlisted, dismissed) does not change it.
- **source**: how they were added (`CandidateSource`); "Unknown" for candidates added before
  migration 0008 recorded it.
- **outreach channel**: the channels on which at least one message reached the provider (status
  `sent` or `delivered`; scheduled, failed and suppressed messages reached nobody): "email",
  "sms", "email + sms", or "none". Completion rate there = completed / invited.
- **interview channel**: the channel of the candidate's first session (browser, phone);
  completion rate there = completed / started on it.
- **completed after** (the attribution rule): a completion is credited to the **last message sent
  to the candidate (status sent or delivered, by `sent_at`) at or before the start of their first
  completed session**, on any channel: the invitation, the not-started reminder after 24 h or after
  48 h (told apart by the hours in its `dedupe_key`, `reminder_not_started:24:email:42`), the
  reminder to finish, the deadline reminder, or a recruiter's nudge; "No message" when nothing was
  sent before. One completion per candidate (a retake that completes again is not counted twice).
- **time to complete**: hours from being added to the end of the first completed session; the
  median and the 90th percentile (nearest rank) over the completed candidates.
- **drop-off**: every session of the cohort that ended without completing (interrupted or failed;
  a live one is left out), by the last question it reached: the highest `question_position` of
  its interviewer's question and follow-up turns, named with that version's question text
  (grouped per interview slug and position; the newest version's text wins). A session with no
  question turn stopped "Before the first question".
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from statistics import median

from milo_voice.store.tables import SessionStatus

ENDED_UNFINISHED = (SessionStatus.INTERRUPTED.value, SessionStatus.FAILED.value)
STAGES = ("invited", "opened", "started", "completed")
MESSAGE_LABELS = {
    "invitation": "Invitation", "reminder_not_started:24": "Reminder after 24 h",
    "reminder_not_started:48": "Reminder after 48 h", "reminder_unfinished": "Reminder to finish",
    "reminder_deadline": "Deadline reminder", "nudge": "Nudge", "": "No message",
}
"""The order and names of the "completed after" rows (every one is listed, zeros included)."""
CHANNEL_LABELS = {"webrtc": "browser", "phone": "phone", "simulate": "simulated"}
SOURCE_LABELS = {"manual": "Added by hand", "bulk": "Bulk", "api": "API", "share_link": "Share link",
                 "ats": "ATS", "": "Unknown"}
"""Sources in display order ("" is a candidate from before sources were recorded)."""
REACH = ("email", "sms", "email + sms", "none")


@dataclass(frozen=True, slots=True)
class CandidateRow:
    id: int
    interview_id: int
    source: str
    added: datetime
    opened_at: datetime | None


@dataclass(frozen=True, slots=True)
class SessionRow:
    id: int
    candidate_id: int
    interview_id: int
    channel: str
    status: str
    started_at: datetime
    ended_at: datetime | None
    last_question: int | None
    """Highest question position its question and follow-up turns reached (None: none)."""


@dataclass(frozen=True, slots=True)
class MessageRow:
    """A message that reached the provider (sent or delivered)."""

    candidate_id: int
    kind: str
    channel: str
    dedupe_key: str
    sent_at: datetime | None


@dataclass(frozen=True, slots=True)
class VersionRow:
    """One interview version: what names its rows (title, question texts by position)."""

    id: int
    slug: str
    title: str
    version: int
    questions: Mapping[int, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Stages:
    label: str
    invited: int = 0
    opened: int = 0
    started: int = 0
    completed: int = 0

    @property
    def completion_rate(self) -> float | None:
        """Completed over invited (None for an empty group)."""
        return self.completed / self.invited if self.invited else None

    def as_dict(self) -> dict[str, int]:
        return {s: getattr(self, s) for s in STAGES}


@dataclass(frozen=True, slots=True)
class Rate:
    label: str
    started: int
    completed: int

    @property
    def rate(self) -> float | None:
        """Completed over started (None when nobody started)."""
        return self.completed / self.started if self.started else None


@dataclass(frozen=True, slots=True)
class DropOff:
    interview: str
    """The interview's title (its newest version)."""
    position: int | None
    """Question position (0-based); None: before the first question."""
    question: str
    """The question's text ("" before the first question, or when the version has no such question)."""
    label: str
    """"Q2: Tell me about a shift" (workspace-wide: "Barista · Q2: ...")."""
    sessions: int


@dataclass(frozen=True, slots=True)
class Funnel:
    total: Stages
    by_source: list[Stages] = field(default_factory=list)
    by_channel: list[Stages] = field(default_factory=list)
    by_interview: list[Stages] = field(default_factory=list)
    """Workspace-wide only: one row per interview (slug), named by its newest title."""
    interview_channels: list[Rate] = field(default_factory=list)
    completed_after: list[tuple[str, int]] = field(default_factory=list)
    median_hours: float | None = None
    p90_hours: float | None = None
    drop_off: list[DropOff] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.total.invited == 0


Progress = tuple[bool, bool, bool]
"""(opened, started, completed) of one candidate."""


def _completed(s: SessionRow) -> bool:
    return s.status == SessionStatus.COMPLETED.value


def compute(
    candidates: Sequence[CandidateRow], sessions: Sequence[SessionRow], messages: Sequence[MessageRow],
    versions: Mapping[int, VersionRow] | None = None, *, across: bool = False,
) -> Funnel:
    """The funnel of `candidates` (the cohort); sessions and messages of other candidates are
    ignored. `versions` names interviews and questions; `across` (workspace-wide) adds the rows by
    interview and names the interview in drop-off labels."""
    versions = versions or {}
    ids = {c.id for c in candidates}
    by_candidate: dict[int, list[SessionRow]] = {}
    for s in sorted((s for s in sessions if s.candidate_id in ids), key=lambda s: (s.started_at, s.id)):
        by_candidate.setdefault(s.candidate_id, []).append(s)
    sent_to: dict[int, list[MessageRow]] = {}
    for m in messages:
        if m.candidate_id in ids and m.sent_at is not None:
            sent_to.setdefault(m.candidate_id, []).append(m)
    progress: dict[int, Progress] = {}
    for c in candidates:
        mine = by_candidate.get(c.id, [])
        progress[c.id] = (c.opened_at is not None or bool(mine), bool(mine), any(map(_completed, mine)))

    def groups(key: Callable[[CandidateRow], str], order: Sequence[str], label: Callable[[str], str]
               ) -> list[Stages]:
        found = {key(c) for c in candidates}
        ordered = [k for k in order if k in found] + sorted(found - set(order))
        return [_stages(label(k), [progress[c.id] for c in candidates if key(c) == k]) for k in ordered]

    reach = {c.id: _reach({m.channel for m in sent_to.get(c.id, [])}) for c in candidates}
    slug_of = {v.id: v.slug for v in versions.values()}
    newest = _newest(versions)
    after, hours = _completions(candidates, by_candidate, sent_to)
    return Funnel(
        total=_stages("All candidates", list(progress.values())),
        by_source=groups(lambda c: c.source, list(SOURCE_LABELS), lambda k: SOURCE_LABELS.get(k, k)),
        by_channel=groups(lambda c: reach[c.id], REACH, str),
        by_interview=groups(lambda c: slug_of.get(c.interview_id, str(c.interview_id)), (),
                            lambda k: newest[k].title if k in newest else f"Interview {k}") if across else [],
        interview_channels=_interview_channels(by_candidate),
        completed_after=[(label, after[key]) for key, label in MESSAGE_LABELS.items()]
        + [(key, after[key]) for key in sorted(set(after) - set(MESSAGE_LABELS))],
        median_hours=median(hours) if hours else None,
        p90_hours=_p90(hours),
        drop_off=_drop_off([s for mine in by_candidate.values() for s in mine], versions, across=across),
    )


def _stages(label: str, flags: Sequence[Progress]) -> Stages:
    return Stages(label, len(flags), sum(f[0] for f in flags), sum(f[1] for f in flags),
                  sum(f[2] for f in flags))


def _reach(channels: set[str]) -> str:
    if {"email", "sms"} <= channels:
        return "email + sms"
    return next(iter(channels)) if channels else "none"


def _interview_channels(by_candidate: Mapping[int, list[SessionRow]]) -> list[Rate]:
    started: Counter[str] = Counter()
    completed: Counter[str] = Counter()
    for mine in by_candidate.values():
        name = CHANNEL_LABELS.get(mine[0].channel, mine[0].channel)
        started[name] += 1
        completed[name] += any(map(_completed, mine))
    return [Rate(name, started[name], completed[name]) for name in sorted(started)]


def _completions(
    candidates: Sequence[CandidateRow], by_candidate: Mapping[int, list[SessionRow]],
    sent_to: Mapping[int, list[MessageRow]],
) -> tuple[Counter[str], list[float]]:
    """Completions by the key of the last message before them, and the hours each took."""
    after: Counter[str] = Counter()
    hours: list[float] = []
    for c in candidates:
        done = next((s for s in by_candidate.get(c.id, []) if _completed(s)), None)
        if done is None:
            continue
        before = [m for m in sent_to.get(c.id, []) if m.sent_at is not None and m.sent_at <= done.started_at]
        last = max(before, key=lambda m: (m.sent_at or done.started_at, m.kind), default=None)
        after[message_key(last)] += 1
        took = (done.ended_at or done.started_at) - c.added
        hours.append(max(0.0, took.total_seconds() / 3600))
    return after, hours


def message_key(message: MessageRow | None) -> str:
    """The "completed after" row of a message: its kind, the not-started reminder split by its hours."""
    if message is None:
        return ""
    if message.kind == "reminder_not_started":
        parts = message.dedupe_key.split(":")
        hours = parts[1] if len(parts) >= 2 and parts[1] in ("24", "48") else "24"
        return f"reminder_not_started:{hours}"
    return message.kind


def _p90(values: Sequence[float]) -> float | None:
    """The 90th percentile by nearest rank (None without values)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def _newest(versions: Mapping[int, VersionRow]) -> dict[str, VersionRow]:
    """The newest version of every slug."""
    out: dict[str, VersionRow] = {}
    for v in versions.values():
        if v.slug not in out or v.version > out[v.slug].version:
            out[v.slug] = v
    return out


def _drop_off(sessions: Sequence[SessionRow], versions: Mapping[int, VersionRow], *, across: bool
              ) -> list[DropOff]:
    stopped: Counter[tuple[str, int | None]] = Counter()
    texts: dict[tuple[str, int | None], tuple[int, str]] = {}
    for s in sessions:
        if s.status not in ENDED_UNFINISHED:
            continue
        v = versions.get(s.interview_id)
        key = (v.slug if v else str(s.interview_id), s.last_question)
        stopped[key] += 1
        text = v.questions.get(s.last_question, "") if v and s.last_question is not None else ""
        if text and v is not None and (key not in texts or v.version > texts[key][0]):
            texts[key] = (v.version, text)
    newest = _newest(versions)
    out = []
    for slug, position in sorted(stopped, key=lambda k: (k[0], -1 if k[1] is None else k[1])):
        title = newest[slug].title if slug in newest else f"Interview {slug}"
        text = texts.get((slug, position), (0, ""))[1]
        where = "Before the first question" if position is None else (
            f"Q{position + 1}: {text}" if text else f"Q{position + 1}")
        label = f"{title} · {where}" if across else where
        out.append(DropOff(title, position, text, label, stopped[(slug, position)]))
    if across:
        out.sort(key=lambda d: (d.interview, -1 if d.position is None else d.position))
    return out
