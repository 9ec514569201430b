"""How well an answer meets a rubric line, by words and by meaning, as a calibrated chance (issue 19).

Three signals, each one a recruiter can check:

- **word coverage** (`offline.coverage`): the share of the full-marks description's content words
  the answer uses;
- **meaning match**: cosine similarity of the answer's sentence vector with the description's
  (all-MiniLM-L6-v2, `embedder.py`): high for paraphrases that share few words;
- **points covered**: for every content word piece of the description, its best match among the
  answer's word pieces by meaning (contextual token vectors), averaged: a required point said in
  other words still counts.

A logistic model turns them into `chance`: the estimated probability that a human grader gives the
answer full marks. Its four numbers were fitted once, on SemEval-2013 Task 7 (7,093 graded answers,
`bench/scoring.py --fit`), and are the same for every rubric, so a score means the same thing on
every question; the held-out figures (Powergrading, DT-Grade) are in docs/scoring.md. Without the
model files the scorer falls back to word coverage alone, with its own fitted calibration.

`review_reason` is set when the two kinds of evidence disagree (the words say one thing, the meaning
another): the score is then flagged "needs review" instead of being shown with false certainty.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from milo_voice.errors import ModelMissing
from milo_voice.scoring.embedder import Embedder, Encoded, load
from milo_voice.scoring.word_match import Coverage, coverage
from milo_voice.settings import Settings

log = logging.getLogger(__name__)

FULL = (-2.39, 2.57, 1.06, 1.19)
"""Intercept and weights of word coverage, meaning match and points covered (fitted on SemEval)."""
WORDS_ONLY = (-1.58, 3.82)
"""Intercept and weight of word coverage alone: the calibration without the embedding model."""
MEANING_ONLY = (-2.71, 1.09, 3.39)
"""Intercept and weights of meaning match and points covered alone (for the disagreement check)."""
SCORE_CUTS = (0.1, 0.18, 0.81, 0.9)
"""A 1-5 score is 1 + the number of these the chance reaches. With the default bands (Great >= 75,
Good >= 50 of 100) a one-criterion answer is Great at chance >= 0.81 and Bad below 0.18: the Great cut is
the lowest that keeps zero-mark answers banded Great at most 8% on every SemEval set, the Bad cut the
highest that keeps full-marks answers banded Bad at most 8% (leave-one-set-out and held-out figures:
docs/scoring.md)."""
PASS_CHANCE = 0.5
"""A pass/fail criterion passes when full marks are more likely than not."""
REVIEW_GAP = 0.5
"""Flag for review when the words-only and meaning-only chances differ by at least this much."""
CACHE_SIZE = 512
EMBEDDER_DIR = "minilm-l6"
"""Where `milo-voice models` puts the model under MILO_MODELS_DIR (media/embedding_files.py)."""


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _linear(coef: Sequence[float], values: Sequence[float]) -> float:
    return _sigmoid(coef[0] + sum(c * v for c, v in zip(coef[1:], values, strict=True)))


def score_of(chance: float) -> int:
    """The 1-5 score for a calibrated chance of full marks."""
    return 1 + sum(chance >= cut for cut in SCORE_CUTS)


@dataclass(frozen=True, slots=True)
class Reading:
    """What the offline scorer measured of one answer against one target text."""

    words: Coverage
    meaning: float | None
    """Cosine of answer and target sentence vectors; None without the model."""
    points: float | None
    """Mean best match of the target's content pieces among the answer's; None without the model."""
    chance: float
    """Calibrated probability of full marks from a human grader."""
    piece_similarity: tuple[float, ...] = ()
    """Per answer piece, its cosine with the target (for choosing quotes); empty without the model."""

    @property
    def words_chance(self) -> float:
        return _linear(WORDS_ONLY, (self.words.value,))

    @property
    def meaning_chance(self) -> float | None:
        if self.meaning is None or self.points is None:
            return None
        return _linear(MEANING_ONLY, (self.meaning, self.points))

    @property
    def review_reason(self) -> str:
        meaning = self.meaning_chance
        if meaning is None or abs(meaning - self.words_chance) < REVIEW_GAP:
            return ""
        side = (
            "the meaning matches but the words do not"
            if meaning > self.words_chance
            else ("the words match but the meaning does not")
        )
        return f"low confidence: {side} (word-based {self.words_chance:.0%}, meaning-based {meaning:.0%})"


class MeaningReader:
    """Measures answers against rubric text; keeps the target texts' vectors (rubrics repeat)."""

    def __init__(self, embedder: Embedder | None) -> None:
        self.embedder = embedder
        self._targets: OrderedDict[str, Encoded] = OrderedDict()
        self._lock = threading.Lock()

    def _target(self, text: str) -> Encoded:
        assert self.embedder is not None
        with self._lock:  # scorers run in worker threads; the cache is shared
            found = self._targets.get(text)
            if found is not None:
                self._targets.move_to_end(text)
                return found
        found = self.embedder.run([text])[0]
        with self._lock:
            self._targets[text] = found
            if len(self._targets) > CACHE_SIZE:
                self._targets.popitem(last=False)
        return found

    def read(self, pieces: Sequence[str], target: str, question: str = "") -> Reading:
        """`pieces`: the answer cut into sentences/clauses (their union is the answer)."""
        return self.best(pieces, [target], question)

    def best(self, pieces: Sequence[str], targets: Sequence[str], question: str = "") -> Reading:
        """The best reading over several acceptable targets (e.g. alternative reference answers); the
        answer goes through the model once."""
        answer = " ".join(pieces)
        targets = [t for t in targets if t.strip()]
        if not targets:
            return Reading(Coverage(0.0, (), (), False), None, None, _linear(WORDS_ONLY, (0.0,)))
        if self.embedder is None or not answer.strip():
            readings = [coverage(answer, t, question) for t in targets]
            return max((Reading(w, None, None, _linear(WORDS_ONLY, (w.value,))) for w in readings),
                       key=lambda r: r.chance)  # fmt: skip
        encoded = self.embedder.run(list(pieces))
        sizes = np.array([max(len(e.tokens), 1) for e in encoded], dtype=np.float32)
        vectors = np.array([e.vector for e in encoded])
        mean = (vectors * sizes[:, None]).sum(axis=0)
        mean = mean / max(float(np.linalg.norm(mean)), 1e-9)
        tokens = np.concatenate([e.tokens for e in encoded])
        return max((self._measure(answer, t, question, mean, vectors, tokens) for t in targets),
                   key=lambda r: r.chance)  # fmt: skip

    def _measure(
        self,
        answer: str,
        target: str,
        question: str,
        mean: np.ndarray,
        vectors: np.ndarray,
        tokens: np.ndarray,
    ) -> Reading:
        words = coverage(answer, target, question)
        goal = self._target(target)
        meaning = float(goal.vector @ mean)
        points = 0.0
        if len(tokens) and len(goal.tokens):
            points = float((goal.tokens @ tokens.T).max(axis=1).mean())
        chance = _linear(FULL, (words.value, meaning, points))
        similarity = tuple(float(goal.vector @ v) for v in vectors)
        return Reading(words, meaning, points, chance, similarity)


@functools.lru_cache(maxsize=4)
def reader_for(models_dir: Path) -> MeaningReader:
    """The process's reader for `models_dir`: with the embedding model when its files are there, else
    words only (logged once, and the scorer's label says so)."""
    folder = Path(models_dir) / EMBEDDER_DIR
    try:
        return MeaningReader(load(folder))
    except (ModelMissing, OSError, RuntimeError) as exc:  # onnxruntime raises RuntimeError subclasses
        log.warning("scoring.meaning_model_missing", extra={"folder": str(folder), "error": str(exc)})
        return MeaningReader(None)


def default_reader() -> MeaningReader:
    """The reader for the configured `MILO_MODELS_DIR`."""
    configured = os.environ.get("MILO_MODELS_DIR") or str(Settings().models_dir)
    return reader_for(Path(configured).resolve())
