"""The resume screen on the developers' resumes (text read as intake reads an upload): scores, verbatim
quotes, pass-score gating, the empty and over-long resume, and dealbreakers that never knock anyone out
without a verified quote. Offline, plus a stand-in scorer for the knock-out path."""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Any

import pytest
from helpers import run

from milo_voice.intake.document_text import read_document
from milo_voice.scoring.quotes import normalise
from milo_voice.scoring.result import Judgement
from milo_voice.scoring.rubric import Criterion, CriterionKind, QuestionRubric
from milo_voice.scoring.scorer import QuestionInput
from milo_voice.scoring.transcript import CANDIDATE
from milo_voice.stages.resume_screen import MAX_CHARS, NO_TEXT, resume_transcript, screen_resume
from milo_voice.stages.types import ResumeSpec, StageOutcome, StageSpec
from milo_voice.store.tables import StageKind

RESUMES = Path(__file__).resolve().parents[3] / "shared" / "data" / "resumes"
MATCHING = "cv_dev_10"
"""An AI engineer and full-stack web developer: Python, Django/FastAPI REST APIs, MySQL/PostgreSQL."""
NOT_MATCHING = "cv_dev_13"
"""A veterinarian's application (English template): no programming at all."""
SCANNED = "cv_dev_05"
"""Image-only: no text layer."""
STACK = Criterion(
    id="stack", name="Python, SQL and web services",
    anchors={1: "no programming experience",
             5: "builds web services and REST APIs in Python with SQL databases"},
)
DEGREE = Criterion(id="degree", name="Computer science degree", kind=CriterionKind.PASS_FAIL,
                   anchors={5: "a degree in computer science"})
PYTHON = Criterion(id="python", name="Knows Python", kind=CriterionKind.DEALBREAKER, required_answer="Python")
SOFTWARE = QuestionRubric(criteria=(STACK, DEGREE))
VETERINARY = QuestionRubric(criteria=(
    Criterion(id="vet", name="Veterinary medicine",
              anchors={1: "no animal care", 5: "doctor of veterinary medicine treating animals"}),
))


def spec(rubric: QuestionRubric = SOFTWARE, pass_score: float | None = None) -> StageSpec:
    wanted = "Backend engineer: Python, SQL, web services"
    return StageSpec(kind=StageKind.RESUME, pass_score=pass_score,
                     resume=ResumeSpec(requirements=wanted, rubric=rubric))


@functools.cache
def text_of(name: str) -> str:
    path = RESUMES / f"{name}.pdf"
    return read_document(path.read_bytes(), path.name).text


def with_text() -> list[str]:
    return [p.stem for p in sorted(RESUMES.glob("cv_dev_*.pdf")) if p.stem != SCANNED]


def flat(text: str) -> str:
    return " ".join(text.split())


def screen(text: str, stage: StageSpec, **kwargs: object) -> StageOutcome:
    return run(lambda: screen_resume(text, stage, **kwargs))  # type: ignore[arg-type]


def criterion(outcome: StageOutcome, criterion_id: str) -> dict[str, Any]:
    """The card's result for one criterion, as stored (JSON)."""
    found: dict[str, Any] = next(
        c for c in outcome.detail["card"]["questions"][0]["criteria"] if c["criterion_id"] == criterion_id
    )
    return found


def all_verbatim(outcome: StageOutcome, text: str) -> bool:
    return all(e.quote and e.quote in flat(text) for e in outcome.evidence)


class Proposes:
    """A stand-in for an LLM scorer: proposes fixed judgements, and records what it was shown."""

    name, label, model = "llm", "LLM (stand-in)", "stand-in"

    def __init__(self, *judgements: Judgement) -> None:
        self.judgements: list[Judgement] = list(judgements)
        self.seen: list[QuestionInput] = []

    def fingerprint(self, question: QuestionInput) -> str:
        return question.question

    async def judge(self, question: QuestionInput) -> list[Judgement]:
        self.seen.append(question)
        return self.judgements


@pytest.mark.parametrize("name", with_text())
def test_the_transcript_is_the_resume_line_by_line_in_its_own_words(name: str) -> None:
    text = text_of(name)
    turns = resume_transcript(text).utterances
    assert turns and all(u.speaker == CANDIDATE and u.question_position == 0 for u in turns)
    assert all(u.start_s == u.end_s == 0.0 for u in turns)
    assert all(u.text == flat(u.text) and u.text in flat(text) for u in turns)
    assert all(any(ch.isalnum() for ch in u.text) for u in turns)  # no lines of bullets or symbols
    assert normalise(" ".join(u.text for u in turns)) == normalise(text)  # no word lost


def test_bullet_lines_are_dropped_and_long_lines_cut_into_sentences() -> None:
    long = " ".join(f"Built service number {i} in Python." for i in range(20))
    turns = [u.text for u in resume_transcript(f"Jo   Doe\n•\n  • ·  \n---\n{long}\n").utterances]
    assert turns[0] == "Jo Doe" and len(turns) == 21
    assert turns[1:] == [f"Built service number {i} in Python." for i in range(20)]


def test_a_software_resume_gets_a_score_with_verbatim_quotes_and_the_card() -> None:
    text = text_of(MATCHING)
    outcome = screen(text, spec())
    assert outcome.score is not None and outcome.passed is True and not outcome.knocked_out
    assert outcome.evidence and all_verbatim(outcome, text)
    assert all(e.source in ("Resume: " + STACK.name, "Resume: " + DEGREE.name) for e in outcome.evidence)
    assert any(e.source == "Resume: " + STACK.name for e in outcome.evidence)
    card = outcome.detail["card"]
    assert card["scorer"] == "offline" and card["overall"] == outcome.score and outcome.detail["cut"] is False
    quoted = [q["text"] for c in card["questions"][0]["criteria"] for q in c["quotes"]]
    assert quoted == [e.quote for e in outcome.evidence]


def test_a_matching_resume_scores_higher_than_one_that_does_not_match() -> None:
    good, poor = screen(text_of(MATCHING), spec()), screen(text_of(NOT_MATCHING), spec())
    assert good.score is not None and poor.score is not None and good.score > poor.score
    vet_good, vet_poor = (screen(text_of(n), spec(VETERINARY)) for n in (NOT_MATCHING, MATCHING))
    assert vet_good.score is not None and vet_poor.score is not None and vet_good.score > vet_poor.score


def test_the_pass_score_gates() -> None:
    text = text_of(MATCHING)
    score = screen(text, spec()).score
    assert score is not None and 0 < score < 100
    at = screen(text, spec(pass_score=score))
    above = screen(text, spec(pass_score=min(100.0, score + 1)))
    assert at.passed is True and "at or above the pass score" in at.reason
    assert above.passed is False and not above.knocked_out and "below the pass score" in above.reason
    assert screen(text_of(NOT_MATCHING), spec(pass_score=score)).passed is False


@pytest.mark.parametrize("text", ["", "   \n\f  ", "•\n• •\n— ·", "scanned"])
def test_no_text_leaves_the_decision_to_a_person(text: str) -> None:
    text = text_of(SCANNED) if text == "scanned" else text
    outcome = screen(text, spec(pass_score=10))
    assert outcome == StageOutcome(passed=None, reason=NO_TEXT)


def test_a_dealbreaker_found_in_the_resume_passes_with_a_quote() -> None:
    text = text_of(MATCHING)
    outcome = screen(text, spec(QuestionRubric(criteria=(STACK, PYTHON))))
    python = criterion(outcome, "python")
    assert python["passed"] is True and python["quotes"] and outcome.passed is True
    assert all("Python" in q["text"] for q in python["quotes"]) and all_verbatim(outcome, text)


def test_an_absent_dealbreaker_never_knocks_out_without_a_quote() -> None:
    outcome = screen(text_of(NOT_MATCHING), spec(QuestionRubric(criteria=(STACK, PYTHON)), pass_score=0))
    card = outcome.detail["card"]
    python = criterion(outcome, "python")
    assert python["passed"] is False and python["quotes"] == [] and python["needs_review"]
    assert card["knockout"] is None and not outcome.knocked_out
    assert outcome.passed is None and "'Knows Python' failed without a verified quote" in outcome.reason


@pytest.mark.parametrize("name", with_text())
def test_no_offline_knock_out_on_any_resume_and_every_quote_verbatim(name: str) -> None:
    text = text_of(name)
    rubric = QuestionRubric(criteria=(
        STACK, DEGREE, PYTHON,
        Criterion(id="permit", name="Authorised to work in the UK", kind=CriterionKind.DEALBREAKER,
                  required_answer="yes"),
    ))
    outcome = screen(text, spec(rubric, pass_score=50))
    assert not outcome.knocked_out and outcome.detail["card"]["knockout"] is None
    assert outcome.passed is None and "'Authorised to work in the UK' could not be decided" in outcome.reason
    python = criterion(outcome, "python")
    assert python["passed"] is ("python" in text.lower())  # no resume here says it lacks Python
    assert ("'Knows Python' failed without a verified quote" in outcome.reason) == (python["passed"] is False)
    assert all_verbatim(outcome, text)


def test_a_dealbreaker_mentioned_only_in_a_negated_line_is_left_to_a_person() -> None:
    text = "Jo Doe\nSkills: Java, Kotlin, SQL\nNo Python experience yet."
    outcome = screen(text, spec(QuestionRubric(criteria=(STACK, PYTHON))))
    python = outcome.detail["card"]["questions"][0]["criteria"][1]
    assert python["passed"] is None and [q["text"] for q in python["quotes"]] == ["No Python experience yet"]
    assert outcome.passed is None and not outcome.knocked_out and "could not be decided" in outcome.reason


def test_a_failed_dealbreaker_with_a_verified_quote_knocks_out() -> None:
    text = text_of(NOT_MATCHING)
    quote = "Doctor of Veterinary Medicine"
    assert quote in text
    scorer = Proposes(Judgement("stack", 1, None, "No programming."),
                      Judgement("python", None, False, "A veterinarian, no Python.", (quote,)))
    outcome = screen(text, spec(QuestionRubric(criteria=(STACK, PYTHON)), pass_score=0), scorer=scorer)
    assert outcome.knocked_out and outcome.passed is False and outcome.score == 0.0
    assert outcome.evidence[0].quote == quote and outcome.evidence[0].source == "Resume"
    assert outcome.reason.startswith("Knows Python: A veterinarian")
    seen = scorer.seen[0]  # an LLM reads the whole resume, and the requirements as the question
    assert seen.question == "Resume screen: Backend engineer: Python, SQL, web services"
    assert " ".join(seen.answers) == " ".join(u.text for u in resume_transcript(text).utterances)


def test_a_knock_out_quote_that_is_not_in_the_resume_is_rejected() -> None:
    scorer = Proposes(Judgement("stack", 4, None, "Strong."),
                      Judgement("python", None, False, "No Python.", ("I have never written Python",)))
    outcome = screen(text_of(MATCHING), spec(QuestionRubric(criteria=(STACK, PYTHON))), scorer=scorer)
    python = outcome.detail["card"]["questions"][0]["criteria"][1]
    assert python["rejected_quotes"] == ["I have never written Python"] and python["quotes"] == []
    assert not outcome.knocked_out and outcome.passed is None and outcome.score == 75.0
    assert outcome.evidence == ()


def test_an_over_long_resume_is_cut_and_says_so() -> None:
    one = text_of(MATCHING)
    text = "\n".join([one] * (MAX_CHARS // len(one) + 2))
    assert len(text) > MAX_CHARS
    outcome = screen(text, spec(pass_score=0))
    assert outcome.detail["cut"] is True and outcome.detail["chars"] == len(text)
    assert f"only the first 20,000 of {len(text):,} characters were read" in outcome.reason
    assert outcome.passed is True and all_verbatim(outcome, text[:MAX_CHARS])
    assert len(" ".join(u.text for u in resume_transcript(text).utterances)) <= MAX_CHARS
    assert screen(one, spec()).detail["cut"] is False


def test_the_decision_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="milo_voice.stages.resume_screen"):
        outcome = screen(text_of(MATCHING), spec(pass_score=0))
    record = [r for r in caplog.records if r.getMessage() == "stages.resume.screened"][-1]
    assert (record.score, record.passed, record.knocked_out) == (outcome.score, True, False)  # type: ignore[attr-defined]
    assert record.reason == outcome.reason  # type: ignore[attr-defined]
