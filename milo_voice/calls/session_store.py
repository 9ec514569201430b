"""The writer of interview sessions, their turns and timing events: what a call stores as it runs.

One short blocking transaction per method (callers on the event loop use a thread); rows come
back detached. Starting and ending a session also moves its candidate along, in the same
transaction, through the candidate writer (`workspace.candidates.set_status`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, update
from sqlmodel import col, select

from milo_voice.dialogue.events import TimedEvent
from milo_voice.dialogue.session_types import PARTIAL
from milo_voice.store.repo import Repo, get_row, insert_row
from milo_voice.store.session_rows import session_events, session_turns
from milo_voice.store.tables import (
    CandidateStatus,
    Channel,
    InterviewSession,
    SessionStatus,
    Speaker,
    TimingEvent,
    Turn,
    Word,
)
from milo_voice.workspace.candidates import set_status
from milo_voice.workspace.retention import RECORDING, TRANSCRIPT, with_mark

AFTER_SESSION = {
    SessionStatus.COMPLETED: CandidateStatus.COMPLETED,
    SessionStatus.INTERRUPTED: CandidateStatus.ENDED_EARLY,
    SessionStatus.FAILED: CandidateStatus.INVITED,
}
"""The candidate's status once a session ends: ending early stops for good (the link shows a
closed page unless a retake is left); a session that failed on our side, or that recovery closed
after the process died (interrupted with an error), lets them try again."""


WRITTEN_OFF = "node"
"""How the error of a session ended by `write_off` begins ("node <name> stopped answering ...")."""


class SessionStore(Repo):
    """Reads and writes of `interview_session`, `turn` and `timing_event`."""

    def start_session(
        self,
        *,
        candidate_id: int,
        interview_id: int,
        channel: str,
        recording_dir: str,
        settings: dict[str, Any],
        node: str = "",
    ) -> int:
        """A new live session on `node`; the candidate becomes in_progress. `settings` must be JSON-safe."""
        with self.unit() as session:
            set_status(session, candidate_id, CandidateStatus.IN_PROGRESS)
            return insert_row(
                session,
                InterviewSession(
                    candidate_id=candidate_id,
                    interview_id=interview_id,
                    channel=Channel(channel).value,
                    status=SessionStatus.LIVE.value,
                    started_at=self.now(),
                    recording_dir=recording_dir,
                    settings=dict(settings),
                    node=node,
                ),
            )

    def end_session(
        self,
        *,
        session_id: int,
        status: str,
        duration_s: float | None,
        recording_path: str | None,
        error: str | None = None,
        cpu_s: float | None = None,
    ) -> None:
        """Close a session and move its candidate along (`AFTER_SESSION`).

        `cpu_s` is the CPU seconds the session's speech work cost, as the caller measured it (see
        `calls.run.session_cpu_s` for what is counted); None stores "not measured"."""
        if cpu_s is not None and not (math.isfinite(cpu_s) and cpu_s >= 0):
            raise ValueError(f"cpu_s={cpu_s!r}: expected a finite number of seconds >= 0, or None")
        final = SessionStatus(status)
        with self.unit() as session:
            row = get_row(session, InterviewSession, session_id)
            row.status = final.value
            row.ended_at = self.now()
            row.duration_s = duration_s
            row.recording_path = recording_path
            row.error = error
            row.cpu_s = cpu_s
            after = AFTER_SESSION.get(final)
            if final is SessionStatus.INTERRUPTED and error:  # our process ended it: they may try again
                after = CandidateStatus.INVITED
            if after is not None:  # a decision a recruiter made meanwhile sticks (set_status)
                set_status(session, row.candidate_id, after)

    def get_session(self, session_id: int) -> InterviewSession | None:
        with self.unit() as session:
            return session.get(InterviewSession, session_id)

    def session_ids_with_status(self, status: str, nodes: Sequence[str] | None = None) -> list[int]:
        """Ids of sessions in `status` (run by one of `nodes`, if given), oldest first (e.g. "live" ones left
        behind by a crash of this node)."""
        wanted = SessionStatus(status)
        query = select(InterviewSession.id).where(InterviewSession.status == wanted.value)
        if nodes is not None:
            query = query.where(col(InterviewSession.node).in_(list(nodes)))
        with self.unit() as session:
            ids = session.exec(query.order_by(col(InterviewSession.id))).all()
        return [i for i in ids if i is not None]

    def live_session_of(self, candidate_id: int) -> InterviewSession | None:
        """The candidate's newest session still marked live (on whichever node), if any."""
        with self.unit() as session:
            return session.exec(
                select(InterviewSession).where(InterviewSession.candidate_id == candidate_id)
                .where(InterviewSession.status == SessionStatus.LIVE.value)
                .order_by(col(InterviewSession.id).desc())).first()

    def adopt_session(self, session_id: int, *, from_node: str, node: str, recording_dir: str) -> bool:
        """`node` goes on with a live session `from_node` ran (that node died); False when it is no longer
        live there (ended, or another node took it first): then it is not this node's."""
        with self.unit() as session:
            taken = session.execute(  # one statement: of two nodes taking it at once, one wins
                update(InterviewSession).where(col(InterviewSession.id) == session_id)
                .where(col(InterviewSession.status) == SessionStatus.LIVE.value)
                .where(col(InterviewSession.node) == from_node)
                .values(node=node, recording_dir=recording_dir)).rowcount
            if taken != 1:
                return False
            row = get_row(session, InterviewSession, session_id)
            row.settings = {**row.settings, "resumed": [*row.settings.get("resumed", []),
                                                       {"from_node": from_node, "node": node,
                                                        "at": self.now().isoformat()}]}
            return True

    def written_off_here(self, node: str) -> list[InterviewSession]:
        """Sessions of `node` that another node ended when this one stopped answering (`write_off`) and
        whose recording is still in this node's folder: what this node's recovery finishes."""
        with self.unit() as session:
            return list(session.exec(
                select(InterviewSession).where(InterviewSession.node == node)
                .where(InterviewSession.status == SessionStatus.INTERRUPTED.value)
                .where(col(InterviewSession.recording_path).is_(None))
                .where(col(InterviewSession.error).like(f"{WRITTEN_OFF}%"))
                .order_by(col(InterviewSession.id))))

    def write_off(self, node: str) -> list[int]:
        """End the live sessions of a dead `node` as interrupted (its recordings are on its disk: its
        recovery finishes them when it restarts); ids ended. The candidate moves on only if this was their
        latest session (a call that went on elsewhere keeps its place)."""
        ended: list[int] = []
        for session_id in self.session_ids_with_status("live", [node]):
            with self.unit() as session:
                taken = session.execute(  # of two nodes writing it off at once, one does
                    update(InterviewSession).where(col(InterviewSession.id) == session_id)
                    .where(col(InterviewSession.status) == SessionStatus.LIVE.value)
                    .where(col(InterviewSession.node) == node)
                    .values(status=SessionStatus.INTERRUPTED.value, ended_at=self.now(),
                            error=f"{WRITTEN_OFF} {node} stopped answering during the session")).rowcount
                if taken != 1:
                    continue
                row = get_row(session, InterviewSession, session_id)
                newer = session.exec(select(InterviewSession.id).where(
                    InterviewSession.candidate_id == row.candidate_id).where(
                    col(InterviewSession.id) > session_id)).first()
                if newer is None:
                    set_status(session, row.candidate_id, CandidateStatus.INVITED)
            ended.append(session_id)
        return ended

    # Recording storage (`calls.recording_upload`, docs/storage.md)

    def local_recordings(self) -> list[int]:
        """Ids of ended sessions whose final recording is still a local file (not an `s3://` URI), oldest
        first: what is still to upload once an object store is configured."""
        with self.unit() as session:
            ids = session.exec(
                select(InterviewSession.id)
                .where(InterviewSession.status != SessionStatus.LIVE.value)
                .where(col(InterviewSession.recording_path).is_not(None))
                .where(col(InterviewSession.recording_path).not_like("s3://%"))
                .order_by(col(InterviewSession.id))
            ).all()
        return [i for i in ids if i is not None]

    def set_recording(self, session_id: int, recording_path: str, duration_s: float | None, *,
                      recording_dir: str | None = None) -> None:
        """A session ended without its recording (written off) has it now (in `recording_dir`, if given)."""
        with self.unit() as session:
            row = get_row(session, InterviewSession, session_id)
            row.recording_path, row.duration_s = recording_path, duration_s
            row.recording_dir = recording_dir if recording_dir is not None else row.recording_dir

    def set_recording_path(self, session_id: int, recording_path: str) -> None:
        """The session's final recording moved (uploaded): where it is now."""
        with self.unit() as session:
            get_row(session, InterviewSession, session_id).recording_path = recording_path

    # Turns and timing events

    def add_turn(
        self,
        *,
        session_id: int,
        index: int,
        speaker: str,
        text: str,
        start_s: float,
        end_s: float,
        question_position: int,
        is_follow_up: bool,
        kind: str,
        live_text: str = "",
        words: Sequence[Word] | None = None,
        source: str = "",
    ) -> int:
        """Store one turn; `index` is unique within the session."""
        with self.unit() as session:
            turn = Turn(
                session_id=session_id,
                index=index,
                speaker=Speaker(speaker).value,
                text=text,
                live_text=live_text,
                start_s=start_s,
                end_s=end_s,
                question_position=question_position,
                is_follow_up=is_follow_up,
                kind=kind,
                words=list(words or ()),
                source=source,
            )
            return insert_row(session, turn)

    def update_turn(
        self,
        *,
        turn_id: int,
        kind: str,
        text: str,
        live_text: str,
        start_s: float,
        end_s: float,
        question_position: int,
        is_follow_up: bool,
    ) -> None:
        """Rewrite a turn stored while its answer went on (kind `PARTIAL`): its text so far grew, or the
        answer finished (its words are the stored transcript's business: `update_turn_text`)."""
        with self.unit() as session:
            turn = get_row(session, Turn, turn_id)
            turn.kind, turn.text, turn.live_text = kind, text, live_text
            turn.start_s, turn.end_s = start_s, end_s
            turn.question_position, turn.is_follow_up = question_position, is_follow_up

    def close_partial_turns(self, session_id: int, duration_s: float | None) -> int:
        """After a crash: the answers that were in progress keep their text so far and their kind
        `PARTIAL` (cut off), placed within the recovered recording; returns how many there were."""
        with self.unit() as session:
            turns = session.exec(
                select(Turn).where(Turn.session_id == session_id).where(Turn.kind == PARTIAL)
            ).all()
            for turn in turns:
                turn.text = turn.text or turn.live_text
                if duration_s is not None:  # the recorder flushes once a second: its tracks may be shorter
                    turn.end_s = min(turn.end_s, duration_s)
                turn.start_s = min(turn.start_s, turn.end_s)
            return len(turns)

    def update_turn_text(self, *, turn_id: int, text: str, words: Sequence[Word]) -> None:
        """Replace a turn's stored transcript (the background whole-answer decode)."""
        with self.unit() as session:
            turn = get_row(session, Turn, turn_id)
            turn.text = text
            turn.words = list(words)

    def add_events(self, session_id: int, events: Sequence[TimedEvent]) -> None:
        """Insert a batch of timing events in one statement."""
        if not events:
            return
        rows = [
            {
                "session_id": session_id,
                "turn_index": e.turn_index,
                "name": e.name,
                "media_time": e.media_time,
                "mono": e.mono,
                "data": dict(e.data),
            }
            for e in events
        ]
        with self.unit() as session:
            session.execute(insert(TimingEvent), rows)

    def turns(self, session_id: int) -> list[Turn]:
        with self.unit() as session:
            return session_turns(session, session_id)

    def events(self, session_id: int) -> list[TimingEvent]:
        """A session's timing events in the order they were added."""
        with self.unit() as session:
            return session_events(session, session_id)

    # Retention (`workspace.retention_sweep`): the files and the text go, the rows stay with a mark

    def ended_before(self, cutoff: datetime) -> list[InterviewSession]:
        """Sessions that ended before `cutoff`, oldest first (live ones never ended: never listed)."""
        with self.unit() as session:
            return list(session.exec(select(InterviewSession).where(col(InterviewSession.ended_at) < cutoff)
                                     .order_by(col(InterviewSession.id))))

    def mark_recording_removed(self, session_id: int, at: datetime) -> None:
        """Retention removed the session's recording files: no final file; the mark in `settings`."""
        with self.unit() as session:
            row = get_row(session, InterviewSession, session_id)
            row.recording_path = None
            row.settings = with_mark(row.settings, RECORDING, at)

    def forget_transcript(self, session_id: int, at: datetime) -> int:
        """Blank the session's turns (text, live text, words; speakers and timings stay) and mark the
        session; returns how many turns had any text."""
        with self.unit() as session:
            blanked = 0
            for turn in session.exec(select(Turn).where(Turn.session_id == session_id)).all():
                blanked += bool(turn.text or turn.live_text or turn.words)
                turn.text, turn.live_text, turn.words = "", "", []
            row = get_row(session, InterviewSession, session_id)
            row.settings = with_mark(row.settings, TRANSCRIPT, at)
            return blanked
