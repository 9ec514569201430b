"""The offline scorer: deterministic, explains itself in words, and reads yes/no dealbreakers."""

from __future__ import annotations

from helpers import run

from milo_voice.scoring.offline import OfflineScorer, coverage
from milo_voice.scoring.rubric import Criterion, CriterionKind, QuestionRubric
from milo_voice.scoring.scorer import QuestionInput

EMPATHY = Criterion(
    id="empathy",
    name="Empathy",
    anchors={1: "Argues.", 5: "Listens, acknowledges the frustration and apologises."},
)
PERMIT = Criterion(id="permit", name="Right to work", kind=CriterionKind.DEALBREAKER, required_answer="yes")


def ask(answer: str, *criteria: Criterion) -> QuestionInput:
    criteria = criteria or (EMPATHY, PERMIT)
    return QuestionInput(
        0, "How would you calm an angry customer?", QuestionRubric(criteria=criteria), (answer,)
    )


def test_more_of_the_full_marks_description_scores_higher_and_the_rationale_names_the_words() -> None:
    scorer = OfflineScorer()
    good = scorer.judge_criterion(ask("I listen, acknowledge their frustration and apologise."), EMPATHY)
    weak = scorer.judge_criterion(ask("I tell them the policy. We listen sometimes."), EMPATHY)
    assert good.score is not None and weak.score is not None and good.score > weak.score
    assert '"frustration"' in good.rationale and "missing" in weak.rationale
    assert good.quotes == ("I listen, acknowledge their frustration and apologise.",)


def test_the_same_input_gives_the_same_judgement() -> None:
    item = ask("I listen and apologise. Then I fix it.", EMPATHY, PERMIT)
    assert run(lambda: OfflineScorer().judge(item)) == run(lambda: OfflineScorer().judge(item))
    assert OfflineScorer().fingerprint(item) == OfflineScorer().fingerprint(item)


def test_a_negated_answer_covers_less_than_the_same_words_affirmed() -> None:
    target = "The water evaporates and leaves the salt."
    assert (
        coverage("The water does not evaporate.", target).value
        < coverage("The water evaporates.", target).value
    )


def test_yes_no_dealbreakers_read_the_first_yes_or_no() -> None:
    scorer = OfflineScorer()
    yes = scorer.judge_criterion(ask("Yes, I am. I have a permit."), PERMIT)
    no = scorer.judge_criterion(ask("Well. No, I would need sponsorship."), PERMIT)
    unclear = scorer.judge_criterion(ask("It depends on the paperwork."), PERMIT)
    assert (yes.passed, no.passed, unclear.passed) == (True, False, None)
    assert no.quotes == ("No, I would need sponsorship.",)


def test_an_unanswered_question_scores_lowest_without_inventing_evidence() -> None:
    result = OfflineScorer().judge_criterion(ask("", EMPATHY), EMPATHY)
    assert (result.score, result.quotes) == (1, ())
