"""Where an interview goes on when another node takes it over: from the stored turns alone."""

from __future__ import annotations

from dataclasses import dataclass

from milo_voice.dialogue.planner import MoveKind
from milo_voice.dialogue.resume import RESUME_LINE, first_state, opening_lines, resume_point
from milo_voice.dialogue.script import AnswerShape, InterviewScript, Question

SCRIPT = InterviewScript(
    title="Resume",
    questions=(
        Question("Tell me about your last job.", AnswerShape.EXPLANATION, max_follow_ups=1),
        Question("Why this role?", AnswerShape.EXPLANATION, max_follow_ups=1),
        Question("When can you start?", AnswerShape.SHORT_FACT, max_follow_ups=0),
    ),
)


@dataclass
class T:
    index: int
    speaker: str
    kind: str
    text: str
    question_position: int
    is_follow_up: bool = False


def interviewer(index: int, kind: str, text: str, q: int, follow_up: bool = False) -> T:
    return T(index, "interviewer", kind, text, q, follow_up)


def candidate(index: int, kind: str, text: str, q: int) -> T:
    return T(index, "candidate", kind, text, q)


START = [interviewer(0, "greeting", SCRIPT.greeting, 0),
         interviewer(1, "question", SCRIPT.questions[0].text, 0)]


def test_no_question_heard_yet_starts_at_the_first_question_after_the_stored_turns() -> None:
    point = resume_point(SCRIPT, START[:1])
    assert (point.question_index, point.prompt_text) == (0, SCRIPT.questions[0].text)
    assert point.next_turn_index == 1
    assert resume_point(SCRIPT, []).next_turn_index == 0


def test_a_question_cut_mid_answer_is_asked_again_and_the_cut_text_stays_earlier() -> None:
    turns = [*START, candidate(2, "partial", "I worked as a", 0)]
    point = resume_point(SCRIPT, list(reversed(turns)))  # any order
    assert point.question_index == 0 and point.prompt_text == SCRIPT.questions[0].text
    assert not point.prompt_is_follow_up and point.follow_ups_asked == 0 and point.next_turn_index == 3
    lines = opening_lines(SCRIPT, point)
    assert [line.text for line in lines] == [RESUME_LINE, SCRIPT.questions[0].text]
    assert lines[1].is_prompt and lines[1].kind is MoveKind.NEXT_QUESTION and lines[0].kind is MoveKind.ASIDE


def test_an_answered_question_goes_on_to_the_next_one() -> None:
    turns = [*START, candidate(2, "answer", "I ran a warehouse team.", 0),
             interviewer(3, "acknowledgement", "Thank you.", 0)]
    point = resume_point(SCRIPT, turns)
    assert (point.question_index, point.prompt_text) == (1, SCRIPT.questions[1].text)
    assert point.next_turn_index == 4
    assert first_state(SCRIPT, point).question_index == 1


def test_a_follow_up_cut_before_its_answer_is_asked_again_with_the_earlier_answer_kept() -> None:
    turns = [*START, candidate(2, "answer", "I ran a team.", 0),
             interviewer(3, "follow_up", "How big was the team?", 0, follow_up=True)]
    point = resume_point(SCRIPT, turns)
    assert point.question_index == 0 and point.prompt_is_follow_up and point.follow_ups_asked == 1
    assert point.prompt_text == "How big was the team?" and point.earlier_answer == "I ran a team."
    assert opening_lines(SCRIPT, point)[1].kind is MoveKind.FOLLOW_UP
    state = first_state(SCRIPT, point)
    assert (state.follow_ups_asked, state.earlier_answer, state.turn_index) == (1, "I ran a team.", 4)


def test_the_last_question_answered_leaves_only_the_closing() -> None:
    turns = [interviewer(0, "question", SCRIPT.questions[2].text, 2), candidate(1, "answer", "Monday.", 2)]
    point = resume_point(SCRIPT, turns)
    assert point.closing
    lines = opening_lines(SCRIPT, point)
    assert [line.text for line in lines] == [SCRIPT.closing] and lines[0].kind is MoveKind.CLOSE
    assert first_state(SCRIPT, point).closing


def test_a_new_interview_opens_with_the_greeting_and_the_first_question() -> None:
    lines = opening_lines(SCRIPT, None)
    assert [line.text for line in lines] == [SCRIPT.greeting, SCRIPT.questions[0].text]
    state = first_state(SCRIPT, None)
    assert state.prompt_text == SCRIPT.questions[0].text and state.turn_index == 0 and not state.closing
