"""Whisper in child processes (MILO_ASR_PROCESSES): the same text and words as in the server's own
process, a child that dies fails its job clearly and the next job runs on a new one, a broken model
fails at start, and closing leaves no child behind. Real tiny.en weights, real processes."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from milo_voice.errors import EngineUnavailable
from milo_voice.media import model_files
from milo_voice.media.asr import WhisperEngine, as_float
from milo_voice.media.asr_processes import FINAL_NICE, WhisperProcesses
from milo_voice.media.pcm import read_wav
from tests.conftest import REPO, SPEECH, manifest


@pytest.fixture(scope="module")
def model_dir() -> str:
    return str(model_files.resolve_whisper("tiny.en", REPO / "models"))


@pytest.fixture(scope="module")
def audio() -> np.ndarray:
    entry = manifest()["librispeech_367_a03"]
    samples = read_wav(SPEECH / str(entry["audio"]))
    return as_float(samples[: int(float(str(entry["speech_end_s"])) * 16000)])


@pytest.fixture
def children(model_dir: str):  # type: ignore[no-untyped-def]
    engine = WhisperProcesses(model_dir, processes=2)
    yield engine
    engine.close()


def child_pids(engine: WhisperProcesses) -> set[int]:
    return set(engine.pids())


def test_the_children_decode_what_the_server_process_decodes(
    children: WhisperProcesses, model_dir: str, audio: np.ndarray
) -> None:
    here = WhisperEngine(model_dir, threads=1, workers=1)
    there = children.decode(audio, offset=2.0)
    assert there.text == here.decode(audio, offset=2.0).text and len(there.text.split()) > 10
    assert there.words == here.decode(audio, offset=2.0).words and there.words[0].start >= 2.0
    live = children.decode_live(audio[: 16000 * 4], prompt="My favourite recipe")
    assert live.text == here.decode_live(audio[: 16000 * 4], prompt="My favourite recipe").text
    assert children.measures_cpu and there.cpu_s > 0 and live.audio_s == pytest.approx(4.0)


def test_when_children_die_the_job_runs_again_on_new_ones(
    children: WhisperProcesses, audio: np.ndarray, caplog: pytest.LogCaptureFixture
) -> None:
    before = child_pids(children)
    assert len(before) == 4  # two for live decodes, two for whole answers
    for pid in before:
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.5)
    assert children.decode(audio).text and children.decode_live(audio[: 16000 * 3]).text
    assert child_pids(children).isdisjoint(before) and len(child_pids(children)) == 4
    assert [r.getMessage() for r in caplog.records].count("asr.worker_process_died") == 2


def test_a_job_whose_children_die_twice_fails_clearly_and_the_next_one_is_served(
    children: WhisperProcesses, audio: np.ndarray
) -> None:
    stop = threading.Event()

    def kill_every_live_child() -> None:  # an OOM killer that does not let go, for a while
        while not stop.is_set():
            for pid in children.live.pids():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.02)

    killer = threading.Thread(target=kill_every_live_child, daemon=True)
    killer.start()
    try:
        with pytest.raises(EngineUnavailable, match="died twice"):
            children.decode_live(audio)
    finally:
        stop.set()
        killer.join(10)
    assert children.decode_live(audio[: 16000 * 3]).text


def niceness(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def test_whole_answers_decode_on_children_of_lower_priority(children: WhisperProcesses) -> None:
    own = os.nice(0)
    lower = min(19, own + FINAL_NICE)  # niceness stops at 19
    assert [niceness(pid) for pid in children.live.pids()] == [own, own]
    assert [niceness(pid) for pid in children.finals.pids()] == [lower, lower] and lower > own


def test_whole_answer_decodes_leave_a_child_free_for_live_decodes(
    children: WhisperProcesses, audio: np.ndarray
) -> None:
    """Two whole-answer decodes (seconds each) and then a live one: the live decode does not wait for
    either whole answer."""
    import threading

    done: list[str] = []

    def run(name: str, work: object) -> None:
        work()  # type: ignore[operator]
        done.append(name)

    finals = [threading.Thread(target=run, args=(f"final-{i}", lambda: children.decode(audio)))
              for i in range(2)]
    for thread in finals:
        thread.start()
    time.sleep(0.3)
    run("live", lambda: children.decode_live(audio[: 16000 * 2]))
    for thread in finals:
        thread.join(60)
    assert done[0] == "live", done


def test_a_model_that_cannot_load_fails_at_start(tmp_path: Path) -> None:
    (tmp_path / "model.bin").write_bytes(b"not a model")
    with pytest.raises(EngineUnavailable, match="did not start"):
        WhisperProcesses(str(tmp_path), processes=1)


def test_closing_leaves_no_child_behind(model_dir: str) -> None:
    engine = WhisperProcesses(model_dir, processes=2)
    pids = child_pids(engine)
    engine.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in pids):
        time.sleep(0.1)
    alive = [pid for pid in pids if Path(f"/proc/{pid}").exists()
             and Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[0] != "Z"]
    assert alive == []


PARENT = """
import sys, time
from milo_voice.media.asr_processes import FINAL_NICE, WhisperProcesses

if __name__ == "__main__":
    engine = WhisperProcesses(sys.argv[1], processes=2)
    print(" ".join(str(pid) for pid in engine.pids()), flush=True)
    time.sleep(600)
"""


def test_a_killed_server_leaves_no_child_behind(model_dir: str, tmp_path: Path) -> None:
    import subprocess
    import sys

    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    parent = subprocess.Popen([sys.executable, str(script), model_dir], stdout=subprocess.PIPE, text=True,
                              cwd=REPO)
    try:
        assert parent.stdout is not None
        pids = [int(p) for p in parent.stdout.readline().split()]
        assert len(pids) == 4 and all(Path(f"/proc/{pid}").exists() for pid in pids)
    finally:
        parent.kill()
        parent.wait(10)
        if parent.stdout is not None:
            parent.stdout.close()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in pids):
        time.sleep(0.1)
    assert [pid for pid in pids if Path(f"/proc/{pid}").exists()] == []
