"""Where the TTS cache may hold a line's audio, for erasure (`workspace/personal_files.SpeechPaths`).

The cache (`media/tts.TtsCache`, under `MILO_MODELS_DIR/tts-cache`, as `engines.load_runtime` builds
it) names each file by the SHA-256 of the engine id and the line, so a line's file can be found but
not read back from the name. Which engine rendered a line depends on the process that spoke it
(Piper, or espeak when Piper could not load), so both ids are tried; computing an id loads no model.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from milo_voice.errors import ModelMissing
from milo_voice.media.model_files import resolve_piper_voice
from milo_voice.media.tts import ESPEAK_RATE, ESPEAK_VOICE, TtsCache
from milo_voice.settings import Settings

CACHE_FOLDER = "tts-cache"
"""The cache folder under MILO_MODELS_DIR (`engines.load_runtime`)."""


class _NoEngine:
    """Stands in for the engine: only the cache's file names are wanted, nothing is synthesised."""

    def synthesize(self, text: str) -> np.ndarray:
        raise RuntimeError("speech_cache only names cache files")

    def synthesize_stream(self, text: str) -> Iterator[np.ndarray]:
        raise RuntimeError("speech_cache only names cache files")


def engine_ids() -> list[str]:
    """The ids `media.tts.make_tts` gives its engines: Piper's (when its voice is installed), espeak's."""
    ids = []
    try:
        onnx, _ = resolve_piper_voice()
        ids.append(f"piper:{onnx.stem}:{onnx.stat().st_size}")
    except ModelMissing:
        pass
    ids.append(f"espeak:{ESPEAK_VOICE}:{ESPEAK_RATE}")
    return ids


def cache_folder(settings: Settings) -> Path:
    return settings.models_dir / CACHE_FOLDER


def speech_paths(settings: Settings) -> SpeechFiles:
    return SpeechFiles(cache_folder(settings), engine_ids())


class SpeechFiles:
    """Lines -> the cache files that would hold them, under every known engine id."""

    def __init__(self, folder: Path, ids: Sequence[str]) -> None:
        self.caches = [TtsCache(folder, _NoEngine(), engine_id) for engine_id in ids]

    def __call__(self, lines: Sequence[str]) -> list[Path]:
        return [cache.path_for(line) for cache in self.caches for line in lines]
