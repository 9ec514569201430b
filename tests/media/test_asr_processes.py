"""Whisper in child processes (MILO_ASR_PROCESSES): the same text and words as in the server's own
process, a child that dies fails its job clearly and the next job runs on a new one, a broken model
fails at start, and closing leaves no child behind. Real tiny.en weights, real processes."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from milo_voice.errors import EngineUnavailable
from milo_voice.media import model_files
from milo_voice.media.asr import WhisperEngine, as_float
from milo_voice.media.asr_processes import WhisperProcesses
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


def test_a_child_that_dies_fails_its_job_and_the_next_job_runs_on_a_new_one(
    children: WhisperProcesses, audio: np.ndarray
) -> None:
    before = child_pids(children)
    assert len(before) == 2
    for pid in before:
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.5)
    with pytest.raises(EngineUnavailable, match="ASR worker process died"):
        children.decode(audio)
    again = children.decode_live(audio[: 16000 * 3])
    assert again.text and child_pids(children).isdisjoint(before)


def test_whole_answer_decodes_leave_a_child_free_for_live_decodes(
    children: WhisperProcesses, audio: np.ndarray
) -> None:
    """Two whole-answer decodes (seconds each) and then a live one: with two children, the live decode
    does not wait for either whole answer (the second one waits instead)."""
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
from milo_voice.media.asr_processes import WhisperProcesses

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
        assert len(pids) == 2 and all(Path(f"/proc/{pid}").exists() for pid in pids)
    finally:
        parent.kill()
        parent.wait(10)
        if parent.stdout is not None:
            parent.stdout.close()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in pids):
        time.sleep(0.1)
    assert [pid for pid in pids if Path(f"/proc/{pid}").exists()] == []
