"""A `milo-voice simulate` process killed mid-interview, then `milo-voice recover`: nothing captured is lost.

The interview runs as a real subprocess and gets SIGKILL (no cleanup of any kind) once its first
candidate answer is in the database; the recorder's WAV tracks, the live session row and the
stored turn must be enough for `recover` to finish the session. A second process is killed in the
middle of an answer: the text of that answer up to its last pause must be in the database already.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
import wave
from dataclasses import dataclass
from pathlib import Path

import av
import pytest
from conftest import REPO, SPEECH, manifest

from milo_voice.media.recorder import CANDIDATE, INTERVIEWER, RECORDING, probe_duration
from milo_voice.settings import Settings

MILO_VOICE = REPO / ".venv" / "bin" / "milo-voice"
ANSWERS = ("librispeech_367_a03", "librispeech_3331_a02")
FIRST_ANSWER_TIMEOUT = 120.0
"""Seconds the subprocess gets to load its models, ask the first question and store the first answer."""
POLL_EVERY = 0.2
"""Seconds between looks at the database while waiting (the process writes no log line to wait on)."""
SLACK = 1.0
"""Seconds of audio the tracks may lack at the end: the recorder flushes once a second."""

pytestmark = pytest.mark.e2e


def milo_env(tmp: Path) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "MILO_DATABASE_URL": f"sqlite:///{tmp / 'milo.db'}",
        "MILO_RECORDINGS_DIR": str(tmp / "rec"),
        "MILO_MODELS_DIR": str(REPO / "models"),
    }


def query(db: Path, sql: str) -> list[tuple[object, ...]]:
    """Rows of a read-only query; empty while the database or its tables do not exist yet."""
    if not db.is_file():
        return []
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5.0) as conn:
        try:
            return conn.execute(sql).fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return []
            raise


def wav_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 16000)
        return wav.getnframes() / wav.getframerate()


@pytest.fixture
def killed(tmp_path: Path) -> tuple[Path, float, float]:
    """Run `milo-voice simulate` until its first answer is stored, then SIGKILL it.

    Returns (tmp dir, end of the first answer, end of the interviewer's speech before it), in seconds
    on the recording's timeline.
    """
    answers = [str(SPEECH / "answers" / f"{a}.wav") for a in ANSWERS]
    log = (tmp_path / "stderr.log").open("wb")
    proc = subprocess.Popen(
        [str(MILO_VOICE), "simulate", *answers, "--manifest", str(SPEECH / "manifest.jsonl")],
        env=milo_env(tmp_path),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    db = tmp_path / "milo.db"
    try:
        deadline = time.monotonic() + FIRST_ANSWER_TIMEOUT
        rows: list[tuple[object, ...]] = []
        while not rows:
            if proc.poll() is not None:
                pytest.fail(
                    f"simulate exited with {proc.returncode} before the first answer: {tail(tmp_path)}"
                )
            if time.monotonic() > deadline:
                pytest.fail(f"no candidate turn within {FIRST_ANSWER_TIMEOUT} s: {tail(tmp_path)}")
            time.sleep(POLL_EVERY)
            # a finished answer (the one in progress is stored meanwhile as kind "partial")
            rows = query(db, "SELECT end_s, \"index\" FROM turn WHERE speaker = 'candidate' "
                         " AND kind = 'answer'")
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(10.0) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10.0)
        log.close()
    answer_end, answer_index = float(str(rows[0][0])), int(str(rows[0][1]))
    asked = query(
        db, f"SELECT MAX(end_s) FROM turn WHERE speaker = 'interviewer' AND \"index\" < {answer_index}"
    )
    return tmp_path, answer_end, float(str(asked[0][0]))


def decoded_seconds(path: Path) -> float:
    """Seconds of stereo audio the file really decodes to."""
    with av.open(str(path)) as container:
        frames = list(container.decode(audio=0))
    assert frames and all(f.layout.name == "stereo" for f in frames)
    return sum(f.samples / f.sample_rate for f in frames)


def tail(tmp: Path) -> str:
    """The last lines the subprocess wrote to stderr."""
    return "\n".join((tmp / "stderr.log").read_text(errors="replace").splitlines()[-20:])


def test_a_killed_session_is_recovered_with_its_audio_and_turns(killed: tuple[Path, float, float]) -> None:
    tmp, answer_end, question_end = killed
    db = tmp / "milo.db"
    sessions = query(db, "SELECT id, status, recording_dir FROM interview_session")
    assert len(sessions) == 1
    session_id, status, recording_dir = sessions[0]
    assert status == "live"
    directory = Path(str(recording_dir))
    assert sorted(p.name for p in directory.iterdir()) == sorted([CANDIDATE, INTERVIEWER])
    assert wav_seconds(directory / CANDIDATE) >= answer_end - SLACK
    # The interviewer track ends where the interviewer last spoke (later silence is padded at encode).
    assert wav_seconds(directory / INTERVIEWER) >= question_end - SLACK

    done = subprocess.run(
        [str(MILO_VOICE), "recover"], env=milo_env(tmp), cwd=tmp, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert f"session {session_id}: interrupted" in done.stdout

    [(status, recording_path, duration, error)] = query(
        db, f"SELECT status, recording_path, duration_s, error FROM interview_session WHERE id = {session_id}"
    )
    assert status == "interrupted" and "recovered" in str(error)
    recording = Path(str(recording_path))
    assert recording == directory / RECORDING and recording.is_file()
    assert sorted(p.name for p in directory.iterdir()) == [RECORDING]
    played = probe_duration(recording)
    assert played >= answer_end - SLACK
    assert abs(decoded_seconds(recording) - played) < 0.1
    assert abs(played - float(str(duration))) < 0.1
    answers = query(
        db, f"SELECT end_s, live_text FROM turn WHERE session_id = {session_id} AND speaker = 'candidate'"
    )
    assert len(answers) == 1
    assert float(str(answers[0][0])) == answer_end and str(answers[0][1]).strip()

    again = subprocess.run(
        [str(MILO_VOICE), "recover"], env=milo_env(tmp), cwd=tmp, capture_output=True, text=True, timeout=60
    )
    assert again.returncode == 0 and again.stdout == ""


MID_ANSWER = "librispeech_2609_a02"
"""An answer with short pauses from the start (4.9, 6.2, 8.3, 10.2 s into the file, none over 1.2 s)."""
KILL_INTO_ANSWER = 11.0
"""Seconds into the answer's file at which the process is killed: mid-sentence, 0.8 s after a pause."""
OPENING_WORDS = 30
"""Opening words of the reference transcript the text may hold (16 come before the pause at 8.3 s; the
kill comes 2.7 s later, after one more pause)."""
AT_LEAST_WORDS = 10
"""Words the database must hold by then: the text up to the pause at 6.2 s is 13 words of the reference
("... is therefore perfectly natural."), decoded and written 4.8 s before the kill."""
PERSIST_LAG = 3.0
"""Seconds from a pause to its text in the database that the test allows: one live decode (tenths of a
second of CPU for tiny.en) plus at most one throttle interval (1 s), with room for a loaded machine."""


def words(text: str) -> list[str]:
    return [w.strip(".,;:!?\"'").lower() for w in text.split() if w.strip(".,;:!?\"'")]


@dataclass(slots=True)
class MidAnswer:
    """A process killed `KILL_INTO_ANSWER` s into an answer, and what its database showed meanwhile."""

    tmp: Path
    question_end: float
    """End of the question before the answer, on the recording's timeline (s)."""
    seen: list[tuple[float, float, str]]
    """Each version of the answer's row as the test saw it: (media time it was seen, end_s, text)."""
    killed_at: float
    """Media time (approximately: wall clock since the question was stored) of the SIGKILL."""


@pytest.fixture
def killed_mid_answer(tmp_path: Path) -> MidAnswer:
    answer = str(SPEECH / "answers" / f"{MID_ANSWER}.wav")
    log = (tmp_path / "stderr.log").open("wb")
    proc = subprocess.Popen(
        [str(MILO_VOICE), "simulate", answer, "--manifest", str(SPEECH / "manifest.jsonl")],
        env=milo_env(tmp_path), cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=log,
    )
    db = tmp_path / "milo.db"
    seen: list[tuple[float, float, str]] = []
    try:
        deadline = time.monotonic() + FIRST_ANSWER_TIMEOUT
        asked: list[tuple[object, ...]] = []
        while not asked:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"no question stored (exit {proc.poll()}): {tail(tmp_path)}")
            time.sleep(0.05)
            asked = query(db, "SELECT end_s FROM turn WHERE speaker = 'interviewer' AND kind = 'question'")
        asked_at, question_end = time.monotonic(), float(str(asked[0][0]))
        kill_at = asked_at + Settings().human_delay + KILL_INTO_ANSWER
        while time.monotonic() < kill_at:
            rows = query(db, "SELECT end_s, text FROM turn WHERE speaker = 'candidate'")
            row = (float(str(rows[0][0])), str(rows[0][1])) if rows else None
            if row is not None and (not seen or seen[-1][1:] != row):
                seen.append((question_end + time.monotonic() - asked_at, *row))
            time.sleep(0.05)
        assert proc.poll() is None, tail(tmp_path)
        os.kill(proc.pid, signal.SIGKILL)
        killed_at = question_end + time.monotonic() - asked_at
        assert proc.wait(10.0) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10.0)
        log.close()
    return MidAnswer(tmp_path, question_end, seen, killed_at)


def test_a_session_killed_mid_answer_keeps_the_answer_text_so_far(killed_mid_answer: MidAnswer) -> None:
    tmp, db = killed_mid_answer.tmp, killed_mid_answer.tmp / "milo.db"
    [(session_id, status)] = query(db, "SELECT id, status FROM interview_session")
    assert status == "live"
    answers = query(db, "SELECT \"index\", kind, text, live_text, start_s, end_s, words FROM turn "
                        f"WHERE session_id = {session_id} AND speaker = 'candidate'")
    assert len(answers) == 1, f"the answer in progress was not stored: {tail(tmp)}"
    [(index, kind, text, live_text, start_s, end_s, stored_words)] = answers
    assert kind == "partial" and text == live_text and stored_words == "[]"
    reference = words(str(manifest()[MID_ANSWER]["transcript"]))[:OPENING_WORDS]
    said = words(str(text))
    assert len(said) >= AT_LEAST_WORDS, text
    assert sum(w in reference for w in said) >= 0.6 * len(said), text  # the opening words (tiny.en errs)
    start, end = float(str(start_s)), float(str(end_s))
    assert killed_mid_answer.question_end < start < end < killed_mid_answer.killed_at
    lags = [at - until for at, until, _ in killed_mid_answer.seen]
    print(f"\n{text!r}\npartial answer versions seen (media s, end_s, lag s): "
          f"{[(round(at, 2), until, round(at - until, 2)) for at, until, _ in killed_mid_answer.seen]}; "
          f"killed at {killed_mid_answer.killed_at:.2f}, text up to {end:.2f} ({len(said)} words)")
    assert lags and max(lags) < PERSIST_LAG

    done = subprocess.run(
        [str(MILO_VOICE), "recover"], env=milo_env(tmp), cwd=tmp, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert f"session {session_id}: interrupted" in done.stdout and "1 answer cut off" in done.stdout
    [(status, duration, error)] = query(
        db, f"SELECT status, duration_s, error FROM interview_session WHERE id = {session_id}")
    assert status == "interrupted" and "cut off" in str(error)
    [(kind, after_text, after_end)] = query(
        db, f"SELECT kind, text, end_s FROM turn WHERE session_id = {session_id} AND \"index\" = {index}")
    assert kind == "partial" and after_text == text  # still marked: transcript views and scoring can tell
    assert float(str(after_end)) <= float(str(duration)) + 1e-6  # on the recovered recording
