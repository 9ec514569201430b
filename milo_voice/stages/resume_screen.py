"""The resume screen: a resume's text judged against the stage's rubric, with verbatim quotes from the
resume as evidence, by the same scorers and the same quote check as interview answers (`score_transcript`).

The resume becomes a transcript of candidate turns, one per line (a long line is cut into sentence
chunks), with runs of whitespace collapsed and lines of bullets or symbols dropped; the words stay as
printed, so every quote a scorer proposes is checked against the resume's own text. Only the first
`MAX_CHARS` characters are read (the outcome says when a resume was cut).

A resume is not an answer to a question, so the offline scorer reads it through `ResumeReading`:
- a line that negates (no, not, without...) is not counted as evidence for a scored or pass/fail
  criterion: one "not" anywhere in a resume would otherwise mark the whole resume as negated (the
  offline scorer's 70% cut), and a line that says "no" may say the candidate lacks the thing;
- the role's requirements are not the question's words (no half weight for words they share with the
  anchors: here they are what is looked for);
- a dealbreaker passes when the lines that do not negate cover its required phrase; it fails, with
  no quote, when the resume never mentions it (a recruiter decides: a failed dealbreaker knocks out
  only with a verified quote, and an absence cannot be quoted); a phrase mentioned only in a negated
  line, and any yes/no dealbreaker (a question for the candidate, not a resume), stay undecided.
So the offline screen never knocks anyone out; an LLM scorer can, with a verified quote.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Sequence

from milo_voice.scoring import terms
from milo_voice.scoring.card import ScriptedQuestion, score_transcript
from milo_voice.scoring.offline import PASS_COVERAGE, OfflineScorer, evidence
from milo_voice.scoring.result import Judgement, ScoreCard
from milo_voice.scoring.rubric import Bands, Criterion, CriterionKind
from milo_voice.scoring.scorer import QuestionInput, Scorer
from milo_voice.scoring.transcript import CANDIDATE, Transcript, Utterance
from milo_voice.stages.types import Evidence, StageOutcome, StageSpec

log = logging.getLogger(__name__)

MAX_CHARS = 20_000
"""Resumes longer than this are screened on their first `MAX_CHARS` characters (the outcome says so)."""
MAX_TURN_CHARS = 300
"""A line longer than this (a DOCX paragraph, a summary) is cut into sentence chunks."""
NO_TEXT = "no resume text to screen"
SOURCE = "Resume"
READING = "resume-reading/1"
"""Marks the offline scorer's input as read the resume's way (hashed into the card's prompt hash)."""
_WORD = re.compile(r"[^\W_]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def resume_lines(text: str) -> list[str]:
    """The first `MAX_CHARS` characters of `text` as the lines a scorer reads: whitespace collapsed, lines
    without a letter or digit dropped, long lines cut after a sentence's end."""
    lines: list[str] = []
    for raw in text[:MAX_CHARS].splitlines():
        line = " ".join(raw.split())
        if not _WORD.search(line):
            continue
        chunks = _SENTENCE_END.split(line) if len(line) > MAX_TURN_CHARS else [line]
        lines += [chunk for chunk in chunks if _WORD.search(chunk)]
    return lines


def resume_transcript(text: str) -> Transcript:
    """The resume as candidate turns of question 0 (see `resume_lines`), so that any quote is verified as
    a verbatim span of the resume."""
    lines = resume_lines(text)
    return Transcript(tuple(Utterance(i, CANDIDATE, line, 0.0, 0.0, 0) for i, line in enumerate(lines)))


def read_dealbreaker(lines: Sequence[str], criterion: Criterion) -> Judgement:
    """A dealbreaker read from resume lines, offline (see the module docstring): passed with the lines
    that state it, failed without a quote when nothing mentions it, undecided otherwise."""
    if terms.yes_no(criterion.required_answer) is not None:
        quotes = evidence(tuple(lines), tuple(terms.content_terms(criterion.name).values()))
        return Judgement(criterion.id, None, None, "A yes/no dealbreaker is a question for the candidate; a "
                         "resume does not answer it. A person must decide (or ask it in a form).", quotes)
    wanted = terms.content_terms(criterion.required_answer)
    if not wanted:
        return Judgement(criterion.id, None, None, f"The required answer {criterion.required_answer!r} has "
                         "no words to look for in a resume; a person must decide.")
    negated = terms.is_negated(criterion.required_answer)
    agree = tuple(line for line in lines if terms.is_negated(line) == negated)
    disagree = tuple(line for line in lines if terms.is_negated(line) != negated)
    stated, found = _covers(agree, wanted)
    wants = f"the required answer is {criterion.required_answer!r}"
    if stated:
        return Judgement(criterion.id, None, True, f"Offline resume reading: {wants}; the resume states "
                         f"{_listing(found)}.", evidence(agree, found))
    contradicted, against = _covers(disagree, wanted)
    if contradicted:
        return Judgement(criterion.id, None, None, f"Offline resume reading: {wants}; the resume mentions "
                         f"{_listing(against)} only in a line that may say the opposite; a person must "
                         "decide.", evidence(disagree, against))
    missing = tuple(w for s, w in wanted.items() if s not in {terms.stem(f) for f in found})
    return Judgement(criterion.id, None, False, f"Offline resume reading: {wants}; the resume does not "
                     f"mention {_listing(missing)}.")


def _covers(lines: Sequence[str], wanted: dict[str, str]) -> tuple[bool, tuple[str, ...]]:
    """Whether `lines` together use at least `PASS_COVERAGE` of the wanted terms, and the ones they use."""
    have: set[str] = set()
    for line in lines:
        have |= terms.content_terms(line).keys()
    found = tuple(word for stem, word in wanted.items() if stem in have)
    return len(found) / len(wanted) >= PASS_COVERAGE, found


def _listing(words: Sequence[str]) -> str:
    return ", ".join(f'"{w}"' for w in words) or "none of its words"


class ResumeReading:
    """A scorer that reads a resume: the offline scorer adjusted for resumes (module docstring); any other
    scorer (an LLM) is asked as it is, its quotes verified by the card like any other."""

    def __init__(self, scorer: Scorer) -> None:
        self.scorer = scorer
        self.name, self.label, self.model = scorer.name, scorer.label, scorer.model

    def fingerprint(self, question: QuestionInput) -> str:
        if isinstance(self.scorer, OfflineScorer):
            return f"{READING}\n{self.scorer.fingerprint(question)}"
        return self.scorer.fingerprint(question)

    async def judge(self, question: QuestionInput) -> list[Judgement]:
        if not isinstance(self.scorer, OfflineScorer):
            return await self.scorer.judge(question)
        plain = tuple(line for line in question.answers if not terms.is_negated(line))
        scored = dataclasses.replace(question, question="", answers=plain)
        return [
            read_dealbreaker(question.answers, c) if c.kind is CriterionKind.DEALBREAKER
            else self.scorer.judge_criterion(scored, c)
            for c in question.rubric.criteria
        ]


async def screen_resume(text: str, spec: StageSpec, *, scorer: Scorer | None = None) -> StageOutcome:
    """Judge the resume `text` at the resume stage `spec` (offline unless `scorer` says otherwise)."""
    if spec.resume is None:
        raise ValueError("screen_resume needs a resume stage (spec.resume is not set)")
    transcript = resume_transcript(text or "")
    if not transcript.utterances:
        outcome = StageOutcome(passed=None, reason=NO_TEXT)
        _log(outcome)
        return outcome
    wanted = spec.resume.requirements.strip()
    title = f"Resume screen: {wanted}" if wanted else "Resume screen"
    question = ScriptedQuestion(0, title, spec.resume.rubric)
    reading = ResumeReading(scorer or OfflineScorer())
    card = await score_transcript(reading, [question], transcript, bands=Bands())
    cut = len(text) > MAX_CHARS
    note = f" (only the first {MAX_CHARS:,} of {len(text):,} characters were read)" if cut else ""
    detail = {"card": card.model_dump(mode="json"), "chars": len(text), "cut": cut}
    evidence_ = tuple(
        Evidence(q.text, f"{SOURCE}: {c.name}") for r in card.questions for c in r.criteria for q in c.quotes
    )
    if card.knockout is not None:
        outcome = StageOutcome(passed=False, knocked_out=True, score=card.overall,
                               reason=card.knockout.reason + note,
                               evidence=(Evidence(card.knockout.quote.text, SOURCE),
                                         *(e for e in evidence_ if e.quote != card.knockout.quote.text)),
                               detail=detail)
    else:
        passed, reason = decision(card, spec.pass_score)
        outcome = StageOutcome(passed=passed, score=card.overall, reason=reason + note, evidence=evidence_,
                               detail=detail)
    _log(outcome)
    return outcome


def decision(card: ScoreCard, pass_score: float | None) -> tuple[bool | None, str]:
    """Passed or not, and why, for a card without a knock-out (None: a recruiter decides)."""
    open_: list[str] = []
    for question in card.questions:
        for c in question.criteria:
            if c.kind is CriterionKind.DEALBREAKER and c.passed is None:
                open_.append(f"dealbreaker {c.name!r} could not be decided from the resume")
            elif c.kind is CriterionKind.DEALBREAKER and c.passed is False:
                open_.append(f"dealbreaker {c.name!r} failed without a verified quote from the resume, so it "
                             "does not knock out")
    if open_:
        return None, "; ".join(open_) + ": a person decides"
    if card.overall is None:
        return None, "no weighted criterion could be scored from the resume: a person decides"
    if pass_score is None:
        return True, f"scored {card.overall:g}; no pass score is set"
    side = "at or above" if card.overall >= pass_score else "below"
    return card.overall >= pass_score, f"scored {card.overall:g}, {side} the pass score {pass_score:g}"


def _log(outcome: StageOutcome) -> None:
    log.info("stages.resume.screened", extra={"score": outcome.score, "passed": outcome.passed,
                                              "knocked_out": outcome.knocked_out, "reason": outcome.reason})
