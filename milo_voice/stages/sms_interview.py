"""An SMS interview: the stage's questions asked by text, answered at the candidate's pace, with
follow-ups planned by the same planner as a voice interview. Pure and clock-driven: every call gets
`now` and returns the new state and the texts to send (the caller stores and sends them).

- `start`: the intro and question 1, in one text;
- `reply`: the candidate's text is an answer; the planner follows up on a thin answer (its own text),
  or acknowledges and asks the next question (one text), or closes after the last;
- `tick`: one reminder when a prompt has waited `remind_after_hours`; the interview ends (no reply)
  when it has waited `give_up_after_hours`, counted from the prompt, not from the reminder;
- `opt_out`: STOP ends it at once, and nothing more is sent.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from milo_voice.dialogue.planner import MoveKind, OfflinePlanner, PlanContext
from milo_voice.dialogue.script import InterviewScript, Question
from milo_voice.scoring.card import ScriptedQuestion, score_transcript
from milo_voice.scoring.offline import OfflineScorer
from milo_voice.scoring.rubric import Bands
from milo_voice.scoring.scorer import Scorer
from milo_voice.scoring.transcript import CANDIDATE, INTERVIEWER, Transcript, Utterance
from milo_voice.stages.types import Evidence, SmsSpec, StageOutcome, StageSpec

MAX_TEXT = 640
"""Characters of one text we send (four SMS segments)."""
MAX_ANSWER = 2000
GAVE_UP = (
    "We have not heard back, so we have closed this interview. Reply to this number if you would "
    "still like to continue."
)


@dataclass(frozen=True, slots=True)
class SmsTurn:
    speaker: str
    """`interviewer` or `candidate`."""
    text: str
    at: datetime
    question_index: int
    kind: str
    """Interviewer: intro, question, follow_up, reminder, closing, timeout; candidate: answer."""


@dataclass(frozen=True, slots=True)
class SmsState:
    turns: tuple[SmsTurn, ...] = ()
    question_index: int = 0
    follow_ups_asked: int = 0
    reminded: bool = False
    finished: bool = False
    ended: str = ""
    """"" while open; completed, no_reply or opted_out."""

    def to_json(self) -> dict[str, Any]:
        return {
            "turns": [
                {
                    "speaker": t.speaker,
                    "text": t.text,
                    "at": t.at.isoformat(),
                    "question_index": t.question_index,
                    "kind": t.kind,
                }
                for t in self.turns
            ],
            "question_index": self.question_index,
            "follow_ups_asked": self.follow_ups_asked,
            "reminded": self.reminded,
            "finished": self.finished,
            "ended": self.ended,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SmsState:
        turns = tuple(
            SmsTurn(
                t["speaker"], t["text"], datetime.fromisoformat(t["at"]), int(t["question_index"]), t["kind"]
            )
            for t in data.get("turns", [])
        )
        return cls(
            turns,
            int(data.get("question_index", 0)),
            int(data.get("follow_ups_asked", 0)),
            bool(data.get("reminded", False)),
            bool(data.get("finished", False)),
            str(data.get("ended", "")),
        )


@dataclass(frozen=True, slots=True)
class Step:
    state: SmsState
    send: tuple[str, ...] = ()


def _fit(text: str) -> str:
    text = " ".join(text.split()) if "\n\n" not in text else text.strip()
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1].rstrip() + "…"


def _said(
    state: SmsState, text: str, now: datetime, kind: str, index: int | None = None
) -> tuple[SmsState, str]:
    text = _fit(text)
    at = state.question_index if index is None else index
    turn = SmsTurn("interviewer", text, now, at, kind)
    return replace(state, turns=(*state.turns, turn)), text


def script_of(spec: SmsSpec) -> InterviewScript:
    questions = tuple(
        Question(q.text, q.shape, q.follow_ups, q.max_follow_ups, q.wants_example) for q in spec.questions
    )
    return InterviewScript(title="SMS interview", questions=questions, greeting="", closing=spec.closing)


def start(spec: SmsSpec, *, first_name: str, role: str, now: datetime) -> Step:
    intro = spec.intro.replace("{first_name}", first_name or "there").replace("{role}", role or "the role")
    state, text = _said(SmsState(), f"{intro}\n\n{spec.questions[0].text}", now, "question", 0)
    return Step(state, (text,))


def _prompt(state: SmsState) -> SmsTurn | None:
    """The interviewer's last prompt that waits for an answer (None: the candidate spoke last)."""
    for turn in reversed(state.turns):
        if turn.speaker == "candidate":
            return None
        if turn.kind in ("question", "follow_up", "intro"):
            return turn
    return None


def reply(spec: SmsSpec, state: SmsState, text: str, now: datetime) -> Step:
    if state.finished:
        return Step(state)
    answer = text.strip()[:MAX_ANSWER]
    index = state.question_index
    earlier = " ".join(t.text for t in state.turns if t.speaker == "candidate" and t.question_index == index)
    prompt = next((t.text for t in reversed(state.turns) if t.speaker == "interviewer"), "")
    state = replace(
        state, turns=(*state.turns, SmsTurn("candidate", answer, now, index, "answer")), reminded=False
    )
    ctx = PlanContext(
        script=script_of(spec),
        question_index=index,
        follow_ups_asked=state.follow_ups_asked,
        answer_text=answer,
        prompt_text=prompt,
        earlier_answer=earlier,
    )
    lines = OfflinePlanner().decide(ctx)
    if lines and lines[0].kind is MoveKind.FOLLOW_UP:
        state = replace(state, follow_ups_asked=state.follow_ups_asked + 1)
        state, sent = _said(state, " ".join(line.text for line in lines), now, "follow_up")
        return Step(state, (sent,))
    body = " ".join(line.text for line in lines)
    if any(line.kind is MoveKind.CLOSE for line in lines):
        state, sent = _said(state, body or spec.closing, now, "closing")
        return Step(replace(state, finished=True, ended="completed"), (sent,))
    state = replace(state, question_index=index + 1, follow_ups_asked=0)
    state, sent = _said(state, body, now, "question")
    return Step(state, (sent,))


def tick(spec: SmsSpec, state: SmsState, now: datetime) -> Step:
    prompt = _prompt(state)
    if state.finished or prompt is None:
        return Step(state)
    waited = now - prompt.at
    if waited >= timedelta(hours=spec.give_up_after_hours):
        state, sent = _said(state, GAVE_UP, now, "timeout")
        return Step(replace(state, finished=True, ended="no_reply"), (sent,))
    if waited >= timedelta(hours=spec.remind_after_hours) and not state.reminded:
        question = spec.questions[prompt.question_index].text if prompt.kind == "question" else prompt.text
        state, sent = _said(state, f"Just a reminder: {question}", now, "reminder")
        return Step(replace(state, reminded=True), (sent,))
    return Step(state)


def opt_out(state: SmsState, now: datetime) -> SmsState:
    if state.finished:
        return state
    return replace(state, finished=True, ended="opted_out")


def transcript(state: SmsState) -> Transcript:
    first = state.turns[0].at if state.turns else None
    utterances = []
    for i, t in enumerate(state.turns):
        at = (t.at - first).total_seconds() if first else 0.0
        speaker = CANDIDATE if t.speaker == "candidate" else INTERVIEWER
        utterances.append(
            Utterance(i, speaker, t.text, at, at, t.question_index, t.kind, t.kind == "follow_up")
        )
    return Transcript(tuple(utterances))


async def judge_sms(spec: StageSpec, state: SmsState, *, scorer: Scorer | None = None) -> StageOutcome:
    assert spec.sms is not None
    answered = len({t.question_index for t in state.turns if t.speaker == "candidate"})
    questions = [ScriptedQuestion(i, q.text, q.rubric) for i, q in enumerate(spec.sms.questions)]
    detail: dict[str, Any] = {"ended": state.ended, "answered": answered}
    card = None
    if any(q.rubric for q in questions) and answered:
        card = await score_transcript(scorer or OfflineScorer(), questions, transcript(state), bands=Bands())
        detail["card"] = card.model_dump(mode="json")
    evidence = (
        tuple(
            Evidence(q.text, f"Q{r.position + 1}")
            for r in card.questions
            for c in r.criteria
            for q in c.quotes
        )
        if card
        else ()
    )
    score = card.overall if card else None
    if card is not None and card.knockout is not None:
        return StageOutcome(
            passed=False,
            knocked_out=True,
            score=score,
            reason=card.knockout.reason,
            evidence=(Evidence(card.knockout.quote.text, f"Q{card.knockout.question_position + 1}"),),
            detail=detail,
        )
    if state.ended in ("no_reply", "opted_out"):
        why = "no reply" if state.ended == "no_reply" else "the candidate opted out (STOP)"
        total = len(spec.sms.questions)
        return StageOutcome(
            passed=None,
            score=score,
            evidence=evidence,
            detail=detail,
            reason=f"the SMS interview ended early ({why}) after {answered} of {total} "
            "questions: a person decides",
        )
    if spec.pass_score is None:
        return StageOutcome(
            passed=True, score=score, reason="SMS interview completed", evidence=evidence, detail=detail
        )
    if score is None:
        return StageOutcome(
            passed=None,
            reason="the answers could not be scored: a person decides",
            evidence=evidence,
            detail=detail,
        )
    passed = score >= spec.pass_score
    side = "at or above" if passed else "below"
    return StageOutcome(
        passed=passed,
        score=score,
        evidence=evidence,
        detail=detail,
        reason=f"scored {score:g}, {side} the pass score {spec.pass_score:g}",
    )
