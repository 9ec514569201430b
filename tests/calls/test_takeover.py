"""Taking over a dead node's live session: one node wins, the mirrored audio comes back whole, the cut answer
stays as `partial`, the interview goes on at its question; and the new part lands after the old one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from milo_voice.calls.live_mirror import LiveMirror
from milo_voice.calls.mirror_recovery import recover_from_mirror
from milo_voice.calls.session_store import SessionStore
from milo_voice.calls.takeover import Takeover, TakeoverLost, adopt
from milo_voice.calls.timeline_offset import OffsetObserver, OffsetSink
from milo_voice.dialogue.events import TimedEvent
from milo_voice.dialogue.script import AnswerShape, InterviewScript, Question
from milo_voice.dialogue.session_types import TurnRecord
from milo_voice.media.recorder import Recorder, probe_duration
from milo_voice.media.types import SAMPLE_RATE, AudioChunk, Word
from milo_voice.store.objects import LocalObjects
from milo_voice.store.recordings import Recordings
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.interviews import Interviews

SCRIPT = InterviewScript(title="Takeover", questions=(
    Question("First?", AnswerShape.EXPLANATION, max_follow_ups=0),
    Question("Second?", AnswerShape.EXPLANATION, max_follow_ups=0)))


def tone(seconds: float, start: float) -> AudioChunk:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return AudioChunk((3000 * np.sin(2 * np.pi * 220 * t)).astype("<i2").tobytes(), SAMPLE_RATE, start)


def live_session_on_a(store: SessionStore, tmp: Path) -> tuple[int, Path]:
    interview_id = Interviews(store.engine).add_script(SCRIPT, slug="takeover")
    candidate = Candidates(store.engine).enrol(interview_id=interview_id, name="Sam")
    directory = tmp / "a" / "session-1"
    session_id = store.start_session(candidate_id=candidate.id or 0, interview_id=interview_id,
                                     channel="webrtc", recording_dir=str(directory), settings={}, node="a")
    for index, (speaker, kind, text, q, start, end) in enumerate([
        ("interviewer", "question", "First?", 0, 0.0, 1.0),
        ("candidate", "answer", "One answer.", 0, 1.5, 3.0),
        ("interviewer", "question", "Second?", 1, 3.5, 4.5),
        ("candidate", "partial", "I was", 1, 5.0, 9.0)]):
        store.add_turn(session_id=session_id, index=index, speaker=speaker, text=text, start_s=start,
                       end_s=end, question_position=q, is_follow_up=False, kind=kind, live_text=text)
    return session_id, directory


def test_the_first_node_to_adopt_wins_and_gets_the_audio_and_the_resume_point(
        store: SessionStore, tmp_path: Path) -> None:
    session_id, directory = live_session_on_a(store, tmp_path)
    objects = LocalObjects(tmp_path / "store")
    recorder = Recorder(directory)
    mirror = LiveMirror(objects, session_id, 1, directory)
    recorder.write_candidate(tone(5.0, 0.0))
    recorder.write_interviewer(tone(1.0, 3.5))
    recorder.flush()
    mirror.sync()
    recorder.write_candidate(tone(1.0, 5.0))  # never flushed nor mirrored: lost with node a

    adopted = adopt(store, objects, Takeover(session_id, "a"), node="b", script=SCRIPT,
                    directory=tmp_path / "b" / "session-2")
    assert adopted.offset_s == pytest.approx(5.0) and adopted.audio is not None
    assert adopted.audio.candidate == tone(5.0, 0.0).pcm  # the mirrored samples, exactly
    assert adopted.point.question_index == 1 and adopted.point.prompt_text == "Second?"
    assert adopted.point.next_turn_index == 4 and adopted.generation == 2
    row = store.get_session(session_id)
    assert row is not None and row.node == "b" and row.recording_dir.endswith("session-2")
    assert row.settings["resumed"][0]["from_node"] == "a"
    cut = [t for t in store.turns(session_id) if t.kind == "partial"]
    assert [(t.text, t.end_s) for t in cut] == [("I was", 5.0)]  # kept, placed within the audio kept
    with pytest.raises(TakeoverLost):  # a third node, too late: the session is b's now
        adopt(store, objects, Takeover(session_id, "a"), node="c", script=SCRIPT, directory=tmp_path / "c")


def test_a_written_off_session_gets_its_recording_from_the_mirror(store: SessionStore,
                                                                  tmp_path: Path) -> None:
    session_id, directory = live_session_on_a(store, tmp_path)
    objects = LocalObjects(tmp_path / "store")
    recorder = Recorder(directory)
    recorder.write_candidate(tone(3.0, 0.0))
    recorder.flush()
    LiveMirror(objects, session_id, 1, directory).sync()
    assert store.write_off("a") == [session_id] and store.write_off("a") == []  # once
    recordings = Recordings(tmp_path / "recordings", objects)
    where = recover_from_mirror(recordings, store, session_id)
    row = store.get_session(session_id)
    assert row is not None and where is not None and row.recording_path == where
    assert Path(where).is_file() and objects.exists(f"{Path(where).parent.name}/recording.ogg")
    assert row.duration_s == pytest.approx(3.0, abs=0.05)
    assert probe_duration(Path(where)) == pytest.approx(3.0, abs=0.05)
    assert objects.list_prefix("live/") == []  # the mirror is gone once the recording is kept
    assert recover_from_mirror(recordings, store, session_id) is None  # nothing left to rebuild


def test_without_a_store_the_session_goes_on_after_its_last_turn(store: SessionStore, tmp_path: Path) -> None:
    session_id, _ = live_session_on_a(store, tmp_path)
    adopted = adopt(store, None, Takeover(session_id, "a"), node="b", script=SCRIPT, directory=tmp_path / "b")
    assert adopted.audio is None and adopted.offset_s == pytest.approx(9.0) and adopted.generation == 1


class Seen:
    def __init__(self) -> None:
        self.turns: list[TurnRecord] = []
        self.events: list[TimedEvent] = []
        self.words: list[Word] = []
        self.chunks: list[AudioChunk] = []

    def on_event(self, event: TimedEvent) -> None:
        self.events.append(event)

    def on_turn(self, turn: TurnRecord) -> None:
        self.turns.append(turn)

    def on_partial(self, turn: TurnRecord) -> None:
        self.turns.append(turn)

    def on_transcript(self, index: int, text: str, words: tuple[Word, ...]) -> None:
        self.words.extend(words)

    def write_candidate(self, chunk: AudioChunk) -> None:
        self.chunks.append(chunk)

    def write_interviewer(self, chunk: AudioChunk) -> None:
        self.chunks.append(chunk)


def test_the_new_part_is_placed_after_the_old_one() -> None:
    seen = Seen()
    observer, sink = OffsetObserver(seen, 12.5), OffsetSink(seen, 12.5)
    observer.on_turn(TurnRecord(4, "interviewer", "question", "Second?", 0.5, 1.5, 1))
    observer.on_partial(TurnRecord(5, "candidate", "partial", "so", 2.0, 2.5, 1))
    observer.on_event(TimedEvent("speech_start", 2.0, 0.0, 5))
    observer.on_transcript(5, "so", (Word("so", 2.0, 2.25),))
    sink.write_candidate(tone(0.1, 2.0))
    sink.write_interviewer(tone(0.1, 0.5))
    assert [(t.start_s, t.end_s) for t in seen.turns] == [(13.0, 14.0), (14.5, 15.0)]
    assert seen.events[0].media_time == 14.5 and (seen.words[0].start, seen.words[0].end) == (14.5, 14.75)
    assert [c.start for c in seen.chunks] == [14.5, 13.0]
