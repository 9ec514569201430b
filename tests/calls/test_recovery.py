"""A `milo-voice simulate` process killed mid-interview, then `milo-voice recover`: nothing captured is lost.

The interview runs as a real subprocess and gets SIGKILL (no cleanup of any kind) once its first
candidate answer is in the database; the recorder's WAV tracks, the live session row and the
stored turn must be enough for `recover` to finish the session.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
import wave
from pathlib import Path

import av
import pytest
from conftest import REPO, SPEECH

from milo_voice.media.recorder import CANDIDATE, INTERVIEWER, RECORDING, probe_duration

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
            rows = query(db, "SELECT end_s, \"index\" FROM turn WHERE speaker = 'candidate'")
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
