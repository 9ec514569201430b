"""The semantic offline scorer: the packaged model, the calibrated chance, the bands and review flags."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from milo_voice.errors import ModelMissing
from milo_voice.media.embedding_files import FILES, resolve_embedder
from milo_voice.scoring.meaning import SCORE_CUTS, MeaningReader, Reading, reader_for, score_of
from milo_voice.scoring.offline import OfflineScorer
from milo_voice.scoring.result import OFFLINE_LABEL, OFFLINE_WORDS_LABEL
from milo_voice.scoring.rubric import Criterion, CriterionKind, QuestionRubric
from milo_voice.scoring.scorer import QuestionInput
from milo_voice.scoring.word_match import Coverage

MODELS = Path(__file__).resolve().parents[2] / "models"
QUESTION = "Why did the bulb stop lighting?"
REFERENCE = "The battery is dead, so no current flows through the bulb."


@pytest.fixture(scope="module")
def reader() -> MeaningReader:
    found = reader_for(MODELS.resolve())
    assert found.embedder is not None, "run `milo-voice models` (scripts/setup.sh does)"
    return found


def test_the_packaged_model_files_are_verified_by_size_and_hash(tmp_path: Path) -> None:
    assert resolve_embedder(MODELS).name == "minilm-l6"
    folder = tmp_path / "minilm-l6"
    folder.mkdir()
    with pytest.raises(ModelMissing, match="is missing; run `milo-voice models`"):
        resolve_embedder(tmp_path)
    for spec in FILES:
        (folder / spec.name).write_bytes(b"x" * 10)
    with pytest.raises(ModelMissing, match="expected"):
        resolve_embedder(tmp_path)


def test_a_paraphrase_reads_closer_than_an_unrelated_answer(reader: MeaningReader) -> None:
    paraphrase = reader.read(
        ["The cell ran out of charge, so nothing moves in the circuit."], REFERENCE, QUESTION
    )
    unrelated = reader.read(["I had pasta for lunch."], REFERENCE, QUESTION)
    assert paraphrase.meaning is not None and unrelated.meaning is not None
    assert paraphrase.meaning > unrelated.meaning + 0.2
    assert paraphrase.points is not None and unrelated.points is not None
    assert paraphrase.points > unrelated.points
    assert paraphrase.chance > unrelated.chance


def test_the_reference_itself_is_great_and_nonsense_is_bad(reader: MeaningReader) -> None:
    same = reader.read([REFERENCE], REFERENCE, QUESTION)
    nonsense = reader.read(["Purple elephants dance on Tuesdays."], REFERENCE, QUESTION)
    assert score_of(same.chance) >= 4 and score_of(nonsense.chance) <= 2


def test_scores_follow_the_calibrated_cuts() -> None:
    assert [score_of(c) for c in (0.0, SCORE_CUTS[0], SCORE_CUTS[1], SCORE_CUTS[2], SCORE_CUTS[3], 1.0)] == [
        1,
        2,
        3,
        4,
        5,
        5,
    ]
    assert score_of(SCORE_CUTS[2] - 1e-6) == 3


def test_words_and_meaning_far_apart_is_a_low_confidence_reading() -> None:
    words = Coverage(0.9, ("battery", "dead"), (), False)
    agree = Reading(words, meaning=0.9, points=0.9, chance=0.9)
    disagree = Reading(words, meaning=0.05, points=0.1, chance=0.6)
    assert agree.review_reason == ""
    assert "words match but the meaning does not" in disagree.review_reason
    assert Reading(words, None, None, 0.8).review_reason == ""


def test_the_scorer_is_deterministic_and_quotes_the_closest_piece(reader: MeaningReader) -> None:
    criterion = Criterion(id="why", name="Explains why", anchors={1: "No reason.", 5: REFERENCE})
    answer = "Well, I checked the switch first. The battery was flat, so no current could reach the bulb."
    question = QuestionInput(0, QUESTION, QuestionRubric(criteria=(criterion,)), (answer,))
    scorer = OfflineScorer(reader)
    first = asyncio.run(scorer.judge(question))
    again = asyncio.run(OfflineScorer(reader).judge(question))
    assert first == again
    assert first[0].quotes and all(q in answer for q in first[0].quotes)
    assert "battery" in " ".join(first[0].quotes)
    assert "Estimated chance a grader gives full marks" in first[0].rationale
    assert scorer.label == OFFLINE_LABEL


def test_pass_fail_passes_on_the_calibrated_chance(reader: MeaningReader) -> None:
    criterion = Criterion(id="why", name="Explains why", kind=CriterionKind.PASS_FAIL, anchors={5: REFERENCE})
    scorer = OfflineScorer(reader)

    def judge(answer: str) -> bool | None:
        question = QuestionInput(0, QUESTION, QuestionRubric(criteria=(criterion,)), (answer,))
        return asyncio.run(scorer.judge(question))[0].passed

    assert judge("The battery is dead so no current flows to the bulb.") is True
    assert judge("I do not know.") is False


def test_without_the_model_files_the_scorer_says_it_matches_words_only(tmp_path: Path) -> None:
    words_only = reader_for(tmp_path)
    assert words_only.embedder is None
    scorer = OfflineScorer(words_only)
    assert scorer.label == OFFLINE_WORDS_LABEL
    criterion = Criterion(id="why", name="Explains why", anchors={1: "No reason.", 5: REFERENCE})
    question = QuestionInput(0, QUESTION, QuestionRubric(criteria=(criterion,)), (REFERENCE,))
    judgement = asyncio.run(scorer.judge(question))[0]
    assert judgement.score is not None and judgement.score >= 4 and "Meaning match" not in judgement.rationale
