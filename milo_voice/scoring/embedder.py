"""Sentence embeddings for the offline scorer: all-MiniLM-L6-v2 (int8 ONNX) run by onnxruntime.

Texts are tokenised by the model's own WordPiece tokenizer (the `tokenizers` package reads its
`tokenizer.json`), run through the model in one batch, mean-pooled over real tokens and
L2-normalised, so a dot product is the cosine similarity. One thread, CPU only: scoring runs in
the job worker, beside the live audio, and must not take every core. The files come from
`milo-voice models` (media/embedding_files.py); nothing is downloaded here.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from milo_voice.errors import ModelMissing
from milo_voice.scoring import terms

log = logging.getLogger(__name__)

DIMENSIONS = 384
MAX_TOKENS = 128
"""The model was trained on pieces of up to 128 word pieces; longer texts are cut (the scorer embeds
sentences and clauses, so this rarely bites)."""


class Embedder:
    """Texts -> unit vectors (384 dimensions). Thread-safe; deterministic for the same batch."""

    def __init__(self, folder: Path) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        model, vocab = Path(folder) / "model.onnx", Path(folder) / "tokenizer.json"
        for path in (model, vocab):
            if not path.is_file():
                raise ModelMissing(f"{path} is missing; run `milo-voice models`")
        self.folder = Path(folder)
        self._tokenizer = Tokenizer.from_file(str(vocab))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.no_padding()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(
            str(model), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised sentence vector per text (an empty text gives a zero row)."""
        return np.array([e.vector for e in self.run(texts)]).reshape(len(texts), DIMENSIONS)

    def run(self, texts: Sequence[str]) -> list[Encoded]:
        """Each text's sentence vector and its content-token vectors, from one batch through the model."""
        empty = Encoded(np.zeros(DIMENSIONS, dtype=np.float32), np.zeros((0, DIMENSIONS), dtype=np.float32))
        out = [empty] * len(texts)
        todo = [i for i, t in enumerate(texts) if t.strip()]
        if not todo:
            return out
        encodings = self._tokenizer.encode_batch([texts[i] for i in todo])
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(todo), width), dtype=np.int64)
        mask = np.zeros((len(todo), width), dtype=np.int64)
        for row, e in enumerate(encodings):
            ids[row, : len(e.ids)] = e.ids
            mask[row, : len(e.ids)] = 1
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        with self._lock:
            hidden = self._session.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0]
        for row, (i, e) in enumerate(zip(todo, encodings, strict=True)):
            tokens = hidden[row, : len(e.ids)]
            out[i] = Encoded(_unit(tokens.mean(axis=0)), _content_tokens(tokens, e.tokens))
        return out


@dataclass(frozen=True, slots=True)
class Encoded:
    """One text through the model."""

    vector: np.ndarray
    """The sentence vector: mean of the token vectors, L2-normalised (384,)."""
    tokens: np.ndarray
    """Unit vectors of the content word pieces (stopwords, [CLS] and [SEP] left out), (n, 384)."""


def _unit(v: np.ndarray) -> np.ndarray:
    return (v / max(float(np.linalg.norm(v)), 1e-9)).astype(np.float32)


def _content_tokens(vectors: np.ndarray, pieces: Sequence[str]) -> np.ndarray:
    """The vectors of word pieces that carry content: a continuation (##...) or a non-stopword."""
    keep = [
        i
        for i, piece in enumerate(pieces)
        if piece not in ("[CLS]", "[SEP]") and (piece.startswith("##") or terms.content_terms(piece))
    ]
    if not keep:  # only stopwords ("no", "it is"): keep every real piece
        keep = [i for i, piece in enumerate(pieces) if piece not in ("[CLS]", "[SEP]")]
    chosen = vectors[keep]
    norms = np.linalg.norm(chosen, axis=1, keepdims=True)
    return (chosen / np.maximum(norms, 1e-9)).astype(np.float32)


@functools.lru_cache(maxsize=4)
def load(folder: Path) -> Embedder:
    """The process's embedder for `folder` (loaded once: ~0.2 s)."""
    embedder = Embedder(folder)
    log.info("scoring.embedder_loaded", extra={"folder": str(folder)})
    return embedder
