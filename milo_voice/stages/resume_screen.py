"""The resume screen: a resume's text judged against the stage's rubric, with verbatim quotes from the
resume as evidence, exactly as interview answers are scored (the same scorers, the same quote check).
Instant and offline by default; an LLM scorer when one is configured."""

from __future__ import annotations

import logging
import re

from milo_voice.scoring.card import ScriptedQuestion, score_transcript
from milo_voice.scoring.offline import OfflineScorer
from milo_voice.scoring.rubric import Bands
from milo_voice.scoring.scorer import Scorer
from milo_voice.scoring.transcript import CANDIDATE, INTERVIEWER, Transcript, Utterance
from milo_voice.stages.types import Evidence, StageOutcome, StageSpec

log = logging.getLogger(__name__)

MAX_CHARS = 20_000
"""Resumes longer than this are screened on their start (the outcome says so)."""
WORDS = re.compile(r"\w", re.UNICODE)


def resume_transcript(text: str) -> Transcript:
    """The resume as candidate turns, one per line with words on it, so any quote is verified against
    the resume's own words."""
    lines = [" ".join(line.split()) for line in text[:MAX_CHARS].splitlines()]
    turns = [Utterance(0, INTERVIEWER, "Resume", 0.0, 0.0, 0)]
    turns += [Utterance(i + 1, CANDIDATE, line, 0.0, 0.0, 0) for i, line in
              enumerate(x for x in lines if WORDS.search(x))]
    return Transcript(tuple(turns))


async def screen_resume(text: str, spec: StageSpec, *, scorer: Scorer | None = None) -> StageOutcome:
    assert spec.resume is not None
    if not WORDS.search(text or ""):
        return StageOutcome(passed=None, reason="no resume text to screen (none uploaded, or a scanned "
                            "document without text): a person decides")
    question = ScriptedQuestion(0, f"Resume screen. {spec.resume.requirements}".strip(), spec.resume.rubric)
    transcript = resume_transcript(text)
    card = await score_transcript(scorer or OfflineScorer(), [question], transcript, bands=Bands())
    evidence = tuple(Evidence(q.text, f"Resume: {c.name}") for r in card.questions for c in r.criteria
                     for q in c.quotes)
    detail = {"card": card.model_dump(mode="json"), "cut": len(text) > MAX_CHARS}
    cut = f" (only the first {MAX_CHARS} characters were read)" if len(text) > MAX_CHARS else ""
    if card.knockout is not None:
        outcome = StageOutcome(passed=False, knocked_out=True, score=card.overall,
                               reason=card.knockout.reason + cut,
                               evidence=(Evidence(card.knockout.quote.text, "Resume"),), detail=detail)
    elif card.needs_review and any(c.kind.value == "dealbreaker" and c.needs_review
                                   for r in card.questions for c in r.criteria):
        outcome = StageOutcome(passed=None, score=card.overall, evidence=evidence, detail=detail,
                               reason="a dealbreaker could not be decided from the resume: "
                                      "a person decides" + cut)
    elif spec.pass_score is None:
        outcome = StageOutcome(passed=True, score=card.overall, evidence=evidence, detail=detail,
                               reason="resume screened" + cut)
    elif card.overall is None:
        outcome = StageOutcome(passed=None, evidence=evidence, detail=detail,
                               reason="the resume could not be scored: a person decides" + cut)
    else:
        passed = card.overall >= spec.pass_score
        side = "at or above" if passed else "below"
        outcome = StageOutcome(passed=passed, score=card.overall, evidence=evidence, detail=detail,
                               reason=f"scored {card.overall:g}, {side} the pass score "
                                      f"{spec.pass_score:g}{cut}")
    log.info("stages.resume.screened", extra={"score": outcome.score, "passed": outcome.passed,
                                              "knocked_out": outcome.knocked_out, "reason": outcome.reason})
    return outcome
