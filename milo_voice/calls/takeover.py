"""Taking over a live browser interview whose node died: the session, its audio so far, where to go on.

When a node stops answering, the candidate's page reconnects and its offer reaches another node
(`web/rtc.py`). That node adopts the session (`SessionStore.adopt_session`: one node wins), rebuilds the
audio the dead node mirrored to the object store up to its last second (`calls/live_mirror.py`), keeps
the cut answer's text as `partial`, and computes where the interview goes on (`dialogue/resume.py`). The
new part of the session is recorded after the rebuilt audio, on one timeline (`calls/timeline_offset.py`).
Without an object store the dead node's audio stays on its disk: the session goes on, placed after the
last stored turn, and the recording starts with silence where that audio was. Blocking: run it in a thread.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from milo_voice.calls.live_mirror import Rebuilt, next_generation, rebuild
from milo_voice.calls.session_store import SessionStore
from milo_voice.dialogue.resume import ResumePoint, resume_point
from milo_voice.dialogue.script import InterviewScript
from milo_voice.store.objects import ObjectStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Takeover:
    """A live session of `from_node` this node should go on with (what the offer's routing found)."""

    session_id: int
    from_node: str


@dataclass(frozen=True, slots=True)
class Adopted:
    session_id: int
    point: ResumePoint
    audio: Rebuilt | None
    offset_s: float
    """Where this node's part starts on the session's timeline."""
    generation: int


class TakeoverLost(RuntimeError):
    """Another node adopted the session first, or it ended meanwhile."""


def adopt(store: SessionStore, objects: ObjectStore | None, takeover: Takeover, *, node: str,
          script: InterviewScript, directory: Path) -> Adopted:
    session_id = takeover.session_id
    if not store.adopt_session(session_id, from_node=takeover.from_node, node=node,
                               recording_dir=str(directory)):
        raise TakeoverLost(f"session {session_id} is no longer live on {takeover.from_node}")
    audio = rebuild(objects, session_id) if objects is not None else None
    turns = store.turns(session_id)
    offset = audio.duration_s if audio is not None else max((t.end_s for t in turns), default=0.0)
    cut = store.close_partial_turns(session_id, offset)
    point = resume_point(script, store.turns(session_id))
    generation = next_generation(objects, session_id) if objects is not None else 1
    log.info("takeover.adopted", extra={
        "session_id": session_id, "from_node": takeover.from_node, "node": node,
        "audio_s": round(audio.duration_s, 3) if audio is not None else 0.0, "offset_s": round(offset, 3),
        "question": point.question_index, "cut_answers": cut, "closing": int(point.closing)})
    return Adopted(session_id, point, audio, offset, generation)
