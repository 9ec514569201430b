"""The offline scorer: deterministic word matching of the answer against the rubric, no model.

For a scored criterion it measures *coverage*: the share of the full-marks anchor's content words
(stemmed; anchor 5 plus the criterion's keywords) that the answer uses. Words the question itself
contains count half, since repeating the question shows little. When exactly one of answer and
anchor is negated, coverage is cut to 70% (it may say the opposite). Measured on SemEval-2013
Task 7 (bench/grading.py) these choices beat TF-IDF cosine on every corpus and test set.
The rationale lists the words found and missing, so a recruiter can check every point by eye.
"""

from __future__ import annotations

import asyncio
import json

from milo_voice.scoring import terms
from milo_voice.scoring.meaning import PASS_CHANCE, MeaningReader, Reading, default_reader, score_of
from milo_voice.scoring.result import OFFLINE, OFFLINE_LABEL, OFFLINE_WORDS_LABEL, Judgement
from milo_voice.scoring.rubric import Criterion, CriterionKind
from milo_voice.scoring.scorer import QuestionInput
from milo_voice.scoring.sentences import quote_pieces
from milo_voice.scoring.transcript import TimedWord
from milo_voice.scoring.word_match import coverage

PASS_COVERAGE = 0.5
"""A pass/fail criterion (or a phrase dealbreaker) passes at this coverage or above."""
MAX_QUOTES = 2
QUOTE_SIMILARITY = 0.35
"""A piece with no description word is quoted when its meaning is at least this close (cosine)."""


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


def chosen_quotes(pieces: list[str], reading: Reading) -> tuple[str, ...]:
    """Up to `MAX_QUOTES` pieces that carry the evidence, in spoken order: those using the most
    description words, then those closest in meaning. A piece is already the shortest natural unit
    (sentence, phrase between pauses, or clause; verbatim, at most `MAX_QUOTE_WORDS` words): it is not
    narrowed further, since a quote cut mid-phrase reads worse ("listen, acknowledge..." for "I listen,
    acknowledge...")."""
    wanted = {terms.stem(w) for w in reading.words.found}
    ranked = []
    for order, piece in enumerate(pieces):
        hits = len(wanted & set(terms.content_terms(piece)))
        similar = reading.piece_similarity[order] if order < len(reading.piece_similarity) else 0.0
        if hits or similar >= QUOTE_SIMILARITY:
            ranked.append((-hits, -round(similar, 4), order, piece))
    chosen = sorted(sorted(ranked)[:MAX_QUOTES], key=lambda r: r[2])
    return tuple(piece for _, _, _, piece in chosen)


def explain(reading: Reading) -> str:
    """The rationale a recruiter reads: the words found and missing, the meaning match, the chance."""
    words = reading.words
    total = len(words.found) + len(words.missing)
    text = (
        f"Offline reading: the answer uses {len(words.found)} of {total} key words of the full-marks "
        f"description ({_listing(words.found)}); missing: {_listing(words.missing)}."
    )
    if words.negation_mismatch:
        text += " One of the two is negated and the other is not, so it may say the opposite."
    if reading.meaning is not None and reading.points is not None:
        text += (
            f" Meaning match {reading.meaning:.2f} (sentence similarity) and points covered "
            f"{reading.points:.2f} (each point's best match in the answer)."
        )
    return text + f" Estimated chance a grader gives full marks: {reading.chance:.0%}."


def _listing(words: tuple[str, ...]) -> str:
    return ", ".join(f'"{w}"' for w in words) or "none"


class OfflineScorer:
    """Deterministic rubric scoring by words and meaning (meaning.py). Labelled "offline" wherever shown."""

    name = OFFLINE
    model = ""

    def __init__(self, reader: MeaningReader | None = None) -> None:
        self.reader = reader if reader is not None else default_reader()
        self.label = OFFLINE_LABEL if self.reader.embedder is not None else OFFLINE_WORDS_LABEL

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
        """Off the event loop: the meaning model is CPU work (a few ms per answer, ~0.3 s to load)."""
        criteria = question.rubric.criteria
        return await asyncio.to_thread(lambda: [self.judge_criterion(question, c) for c in criteria])

    def judge_criterion(self, question: QuestionInput, criterion: Criterion) -> Judgement:
        answer = " ".join(question.answers)
        if not answer.strip():
            if criterion.kind is CriterionKind.DEALBREAKER:
                return Judgement(criterion.id, None, None, "No answer was given; a person must decide.")
            passed = False if criterion.kind is CriterionKind.PASS_FAIL else None
            return Judgement(criterion.id, 1, passed, "No answer was given to this question.")
        if criterion.kind is CriterionKind.DEALBREAKER:
            return self._dealbreaker(question, criterion)
        pieces = sentences(question.answers, question.answer_words)
        reading = self.reader.read(pieces, criterion.target, question.question)
        rationale = explain(reading)
        quotes = chosen_quotes(pieces, reading)
        if criterion.kind is CriterionKind.PASS_FAIL:
            passed = reading.chance >= PASS_CHANCE
            verdict = "passes" if passed else "does not pass"
            rationale += f" {verdict.capitalize()} (passes at {PASS_CHANCE:.0%})."
            score = 5 if passed else 1
            return Judgement(criterion.id, score, passed, rationale, quotes, reading.review_reason)
        score = score_of(reading.chance)
        rationale += f" That gives {score}/5."
        return Judgement(criterion.id, score, None, rationale, quotes, reading.review_reason)

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
