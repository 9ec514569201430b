"""What a report shows, gathered once: session facts, the current score card, transcript, timing.

Timing diagnostics are shown for context and are never scored (the scorer never sees them).
`ReportData` is plain data; the web page, PDF, ZIP and exports all render from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from milo_voice.scoring.consent_data import ConsentData, ConsentReader
from milo_voice.scoring.result import ScoreCard
from milo_voice.scoring.store import ScoringStore
from milo_voice.scoring.transcript import CANDIDATE, Transcript, Utterance
from milo_voice.store.recordings import in_store

LONG_PAUSE = 2.0
"""Seconds of silence between two words that the timing table counts as a long pause."""


@dataclass(frozen=True, slots=True)
class AnswerTiming:
    """Timing of one answer turn (seconds), for the reader's context only."""

    turn_index: int
    question_position: int
    start_s: float
    duration_s: float
    words: int
    words_per_minute: float
    response_delay_s: float | None
    """From the end of the interviewer's previous turn to the start of this answer."""
    long_pauses: int
    longest_pause_s: float


@dataclass(frozen=True, slots=True)
class ReportData:
    session_id: int
    interview_title: str
    role: str
    candidate_name: str
    candidate_email: str
    candidate_status: str
    channel: str
    started_at: datetime
    duration_s: float | None
    recording_path: str | None
    recording_dir: str
    transcript: Transcript
    card: ScoreCard | None
    earlier_runs: int
    """Older scoring runs of this session that are kept (re-scoring never deletes)."""
    questions: dict[int, str] = field(default_factory=dict)
    recording_exists: bool = False
    """The final recording file is on disk (checked when the data was gathered), or was uploaded to the
    object store (the row names it there only once the upload was checked)."""
    timing: tuple[AnswerTiming, ...] = ()
    consent: ConsentData | None = None
    """The candidate's consents and the notice texts they agreed to (the ZIP's `consent.json`)."""


def answer_timing(transcript: Transcript) -> tuple[AnswerTiming, ...]:
    rows: list[AnswerTiming] = []
    previous: Utterance | None = None
    for u in transcript.utterances:
        if u.speaker == CANDIDATE and u.text.strip():
            duration = max(u.end_s - u.start_s, 0.0)
            count = len(u.text.split())
            gaps = [b.start - a.end for a, b in zip(u.words, u.words[1:], strict=False)]
            delay = (
                u.start_s - previous.end_s if previous is not None and previous.speaker != CANDIDATE else None
            )
            rows.append(
                AnswerTiming(
                    turn_index=u.index,
                    question_position=u.question_position,
                    start_s=u.start_s,
                    duration_s=round(duration, 2),
                    words=count,
                    words_per_minute=round(count / duration * 60, 1) if duration > 0 else 0.0,
                    response_delay_s=round(delay, 2) if delay is not None else None,
                    long_pauses=sum(1 for g in gaps if g >= LONG_PAUSE),
                    longest_pause_s=round(max(gaps, default=0.0), 2),
                )
            )
        previous = u
    return tuple(rows)


def gather(store: ScoringStore, session_id: int) -> ReportData:
    """Everything one session's report needs, read in a few short transactions."""
    context = store.context(session_id)
    recording = context.session.recording_path
    runs = store.scores(session_id)
    transcript = store.transcript(session_id)
    questions = {q.position: q.text for q in store.questions(context.interview.id or 0)}
    return ReportData(
        session_id=session_id,
        interview_title=context.interview.title,
        role=context.interview.role,
        candidate_name=context.candidate.name,
        candidate_email=context.candidate.email,
        candidate_status=context.candidate.status,
        channel=context.session.channel,
        started_at=context.session.started_at,
        duration_s=context.session.duration_s,
        recording_path=context.session.recording_path,
        recording_dir=context.session.recording_dir,
        transcript=transcript,
        card=ScoreCard.model_validate(runs[0].card) if runs else None,
        earlier_runs=max(len(runs) - 1, 0),
        questions=questions,
        timing=answer_timing(transcript),
        recording_exists=in_store(recording) or bool(recording and Path(recording).is_file()),
        consent=ConsentReader(store.engine, now=store.now).consent_of(context.candidate.id or 0),
    )


def clock(seconds: float) -> str:
    """`m:ss` for a time offset in the recording."""
    whole = max(int(seconds), 0)
    return f"{whole // 60}:{whole % 60:02d}"
