"""The offline scorer: deterministic word matching of the answer against the rubric, no model.

For a scored criterion it measures *coverage*: the share of the full-marks anchor's content words
(stemmed; anchor 5 plus the criterion's keywords) that the answer uses. Words the question itself
contains count half, since repeating the question shows little. When exactly one of answer and
anchor is negated, coverage is cut to 70% (it may say the opposite). Measured on SemEval-2013
Task 7 (bench/grading.py) these choices beat TF-IDF cosine on every corpus and test set.
The rationale lists the words found and missing, so a recruiter can check every point by eye.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from milo_voice.scoring import terms
from milo_voice.scoring.result import OFFLINE, OFFLINE_LABEL, Judgement
from milo_voice.scoring.rubric import Criterion, CriterionKind
from milo_voice.scoring.scorer import QuestionInput
from milo_voice.scoring.sentences import quote_pieces
from milo_voice.scoring.transcript import TimedWord

QUESTION_WORD_WEIGHT = 0.5
"""Weight of an anchor word that the question also contains (0.5 beat 1.0 and 0 on the bench)."""
NEGATION_PENALTY = 0.7
"""Coverage is multiplied by this when answer and anchor disagree on negation."""
PASS_COVERAGE = 0.5
"""A pass/fail criterion (or a phrase dealbreaker) passes at this coverage or above."""
MAX_QUOTES = 2


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


def sentences(answers: tuple[str, ...], timings: tuple[tuple[TimedWord, ...], ...] = ()) -> list[str]:
    """The answer turns cut into quotable pieces: sentences on real boundaries (never inside a number or
    after an abbreviation), long ones cut at the pauses the turn's word `timings` (parallel to `answers`,
    may be empty) show, then into clauses of at most `MAX_QUOTE_WORDS` words; each verbatim in its turn."""
    return [
        piece
        for i, answer in enumerate(answers)
        for piece in quote_pieces(answer, timings[i] if i < len(timings) else ())
    ]


def evidence(
    answers: tuple[str, ...], words: tuple[str, ...], timings: tuple[tuple[TimedWord, ...], ...] = ()
) -> tuple[str, ...]:
    """Up to `MAX_QUOTES` sentences that contain the most of `words`, in spoken order."""
    wanted = {terms.stem(w) for w in words}
    ranked = []
    for order, sentence in enumerate(sentences(answers, timings)):
        hits = len(wanted & set(terms.content_terms(sentence)))
        if hits:
            ranked.append((-hits, order, sentence))
    chosen = sorted(ranked)[:MAX_QUOTES]
    return tuple(sentence for _, _, sentence in sorted(chosen, key=lambda r: r[1]))


def _listing(words: tuple[str, ...]) -> str:
    return ", ".join(f'"{w}"' for w in words) or "none"


class OfflineScorer:
    """Deterministic rubric scoring by word matching. Labelled "offline" wherever it is shown."""

    name = OFFLINE
    label = OFFLINE_LABEL
    model = ""

    def fingerprint(self, question: QuestionInput) -> str:
        return json.dumps(
            {
                "scorer": OFFLINE,
                "question": question.question,
                "rubric": question.rubric.model_dump(mode="json"),
                "answers": list(question.answers),
            },
            sort_keys=True,
        )

    async def judge(self, question: QuestionInput) -> list[Judgement]:
        return [self.judge_criterion(question, c) for c in question.rubric.criteria]

    def judge_criterion(self, question: QuestionInput, criterion: Criterion) -> Judgement:
        answer = " ".join(question.answers)
        if not answer.strip():
            if criterion.kind is CriterionKind.DEALBREAKER:
                return Judgement(criterion.id, None, None, "No answer was given; a person must decide.")
            passed = False if criterion.kind is CriterionKind.PASS_FAIL else None
            return Judgement(criterion.id, 1, passed, "No answer was given to this question.")
        if criterion.kind is CriterionKind.DEALBREAKER:
            return self._dealbreaker(question, criterion)
        cov = coverage(answer, criterion.target, question.question)
        total = len(cov.found) + len(cov.missing)
        rationale = (
            f"Offline word match: the answer uses {len(cov.found)} of {total} key words of the "
            f"full-marks description ({_listing(cov.found)}); missing: {_listing(cov.missing)}."
        )
        if cov.negation_mismatch:
            rationale += " One of the two is negated and the other is not, so it may say the opposite."
        quotes = evidence(question.answers, cov.found, question.answer_words)
        if criterion.kind is CriterionKind.PASS_FAIL:
            passed = cov.value >= PASS_COVERAGE
            verdict = "passes" if passed else "does not pass"
            rationale += f" Coverage {cov.value:.0%} {verdict} (threshold {PASS_COVERAGE:.0%})."
            return Judgement(criterion.id, 5 if passed else 1, passed, rationale, quotes)
        score = 1 + round(4 * cov.value)
        rationale += f" Coverage {cov.value:.0%} gives {score}/5."
        return Judgement(criterion.id, score, None, rationale, quotes)

    def _dealbreaker(self, question: QuestionInput, criterion: Criterion) -> Judgement:
        required = terms.yes_no(criterion.required_answer)
        wants = f"the required answer is {criterion.required_answer!r}"
        if required is None:
            cov = coverage(" ".join(question.answers), criterion.required_answer)
            passed = cov.value >= PASS_COVERAGE and not cov.negation_mismatch
            quotes = evidence(question.answers, cov.found, question.answer_words) or tuple(
                sentences(question.answers, question.answer_words)[:1]
            )
            negated = " and negates it" if cov.negation_mismatch else ""
            rationale = (
                f"Offline word match: {wants}; the answer uses {_listing(cov.found)}, "
                f"misses {_listing(cov.missing)}{negated}."
            )
            return Judgement(criterion.id, None, passed, rationale, quotes)
        for sentence in sentences(question.answers, question.answer_words):
            said = terms.polarity(sentence)
            if said is not None:
                word = "yes" if said else "no"
                rationale = f"Offline yes/no reading: {wants}; the first yes/no word means {word!r}."
                return Judgement(criterion.id, None, said == required, rationale, (sentence,))
        rationale = f"Offline yes/no reading: {wants}; no clear yes or no was said, so a person must decide."
        return Judgement(criterion.id, None, None, rationale)
