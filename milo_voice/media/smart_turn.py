"""Smart Turn v3.2 (ONNX): does the audio of an answer so far sound finished? Sync; no policy, no I/O.

Measured here (2 cores busy with other jobs, load ~3): `predict` on 8 s of audio takes 75-150 ms
median with 1 intra-op thread (Whisper features 3-16 ms of it; 2 threads were slower), so run it in
an executor.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
from faster_whisper.feature_extractor import FeatureExtractor
from onnxruntime.capi.onnxruntime_pybind11_state import Fail, InvalidGraph, InvalidProtobuf, NoSuchFile

from milo_voice.errors import BadMedia, ModelMissing
from milo_voice.media.types import SAMPLE_RATE

WINDOW_SECONDS = 8
"""The model sees the last 8 s of the answer (zero-padded at the front when shorter)."""
WINDOW_SAMPLES = WINDOW_SECONDS * SAMPLE_RATE
N_MELS = 80
N_FRAMES = WINDOW_SAMPLES // 160
"""Whisper features: 10 ms hop, so 800 frames for 8 s."""
_NORM_EPS = 1e-7


class SmartTurn:
    """P(turn complete) from the end of a candidate's answer; one instance may serve many threads.

    The int8 model is confident at clear endings and clear mid-sentence stops, but in between its
    output is unstable: input changes of 1e-6 in the features can move it by ±0.2. Treat values
    near the threshold as weak evidence.
    """

    def __init__(self, model_path: Path, *, threads: int = 1) -> None:
        if threads < 1:
            raise ValueError(f"threads={threads}: expected >= 1")
        path = Path(model_path)
        if not path.is_file():
            raise ModelMissing(f"Smart Turn model {path} is missing; run `milo-voice models`")
        options = ort.SessionOptions()
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self._session = ort.InferenceSession(
                str(path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except (Fail, InvalidGraph, InvalidProtobuf, NoSuchFile) as exc:
            raise ModelMissing(
                f"Smart Turn model {path} cannot be loaded ({exc}); run `milo-voice models`"
            ) from None
        inputs = self._session.get_inputs()
        shape = list(inputs[0].shape) if len(inputs) == 1 else []
        if len(shape) != 3 or shape[1:] != [N_MELS, N_FRAMES]:
            raise ModelMissing(
                f"Smart Turn model {path} takes {[(i.name, i.shape) for i in inputs]}; "
                f"expected one input of shape (batch, {N_MELS}, {N_FRAMES})"
            )
        self._input_name = inputs[0].name
        self._features = FeatureExtractor(
            feature_size=N_MELS, sampling_rate=SAMPLE_RATE, chunk_length=WINDOW_SECONDS
        )

    def predict(self, samples: np.ndarray) -> float:
        """P(turn complete) in [0, 1] for 16 kHz mono audio (int16, or float in [-1, 1]) of the answer."""
        window = _last_window(samples)
        window = (window - window.mean()) / np.sqrt(window.var() + _NORM_EPS)
        features = self._features(window, padding=0)  # (80, 801 - 1): the last frame is dropped
        if features.shape != (N_MELS, N_FRAMES):
            raise BadMedia(
                f"Smart Turn features have shape {features.shape}; expected ({N_MELS}, {N_FRAMES})"
            )
        batch = np.ascontiguousarray(features[np.newaxis], dtype=np.float32)
        (output,) = self._session.run(None, {self._input_name: batch})
        return float(np.clip(np.asarray(output).reshape(-1)[0], 0.0, 1.0))


def _last_window(samples: np.ndarray) -> np.ndarray:
    """The last 8 s as float32 in [-1, 1], zero-padded at the front."""
    if samples.ndim != 1:
        raise BadMedia(f"Smart Turn got audio of shape {samples.shape}; expected mono (1-D) samples")
    if samples.size == 0:
        raise BadMedia("Smart Turn got no audio; expected at least one sample")
    tail = samples[-WINDOW_SAMPLES:]
    if tail.dtype == np.int16:
        tail = tail.astype(np.float32) / 32768.0
    elif np.issubdtype(tail.dtype, np.floating):
        tail = tail.astype(np.float32)
    else:
        raise BadMedia(f"Smart Turn got {tail.dtype} samples; expected int16 or float32")
    if tail.size < WINDOW_SAMPLES:
        tail = np.concatenate([np.zeros(WINDOW_SAMPLES - tail.size, np.float32), tail])
    return tail
