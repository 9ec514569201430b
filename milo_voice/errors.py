"""Every error milo_voice raises on purpose. Raise where the fault is found, catch where it can be acted on.

    MiloError
    ├── ConfigError            a MILO_* variable is unknown or malformed
    ├── BadMedia               audio that cannot be used: truncated, wrong rate or channels, empty
    ├── ProtocolViolation      garbage on a socket: bad JSON, unknown event, wrong payload size
    ├── TransportClosed        the far end went away (call dropped, peer closed)
    ├── EngineUnavailable      ASR / TTS / LLM down, missing or too slow (`retryable` says if a retry helps)
    ├── ModelMissing           a model file or package is not installed (names the package)
    └── UploadRejected         an upload too large or of the wrong kind
"""

from __future__ import annotations


class MiloError(Exception):
    """Base of every deliberate milo_voice error."""


class ConfigError(MiloError):
    """A MILO_* variable is unknown or has a value of the wrong form."""


class BadMedia(MiloError):
    """Audio that cannot be used as given; the message names the input and what was expected."""


class ProtocolViolation(MiloError):
    """A peer sent something the protocol does not allow."""


class TransportClosed(MiloError):
    """The far end of a call went away."""


class EngineUnavailable(MiloError):
    """An engine (ASR, TTS, LLM) failed or timed out."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class ModelMissing(MiloError):
    """A model is not installed; the message names the package that provides it."""


class UploadRejected(MiloError):
    """An upload was refused (size, type)."""
