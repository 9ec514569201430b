"""Word matching: how much of a rubric text's content words an answer uses (the offline scorer's
first signal, and the one a recruiter can check by eye).

Coverage = the share of the target's content words (Snowball-stemmed, stopwords out) the answer
uses. Words the question itself contains count half, since repeating the question shows little.
When exactly one of answer and target is negated, coverage is cut to 70% (it may say the opposite).
"""

from __future__ import annotations

from dataclasses import dataclass

from milo_voice.scoring import terms

QUESTION_WORD_WEIGHT = 0.5
"""Weight of an anchor word that the question also contains (0.5 beat 1.0 and 0 on the bench)."""
NEGATION_PENALTY = 0.7
"""Coverage is multiplied by this when answer and anchor disagree on negation."""


@dataclass(frozen=True, slots=True)
class Coverage:
    """How much of a target text an answer covers, and which words did it."""

    value: float
    """0..1."""
    found: tuple[str, ...]
    missing: tuple[str, ...]
    negation_mismatch: bool


def coverage(answer: str, target: str, question: str = "") -> Coverage:
    """Weighted share of `target`'s content words present in `answer` (see the module docstring)."""
    wanted = terms.content_terms(target)
    if not wanted:
        return Coverage(0.0, (), (), False)
    have = terms.content_terms(answer)
    asked = terms.content_terms(question)
    weights = {s: (QUESTION_WORD_WEIGHT if s in asked else 1.0) for s in wanted}
    found = [s for s in wanted if s in have]
    value = sum(weights[s] for s in found) / sum(weights.values())
    mismatch = bool(answer.strip()) and terms.is_negated(answer) != terms.is_negated(target)
    if mismatch:
        value *= NEGATION_PENALTY
    return Coverage(
        value=value,
        found=tuple(wanted[s] for s in found),
        missing=tuple(wanted[s] for s in wanted if s not in have),
        negation_mismatch=mismatch,
    )


def best_coverage(answer: str, targets: list[str], question: str = "") -> Coverage:
    """The best coverage over several acceptable targets (e.g. alternative reference answers)."""
    results = [coverage(answer, t, question) for t in targets if t.strip()]
    return max(results, key=lambda c: c.value, default=Coverage(0.0, (), (), False))
