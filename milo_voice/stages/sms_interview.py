"""An SMS interview: the stage's questions asked by text, answered at the candidate's pace, with
follow-ups planned by the same planner as a voice interview. Pure and clock-driven: every call gets
`now` (timezone-aware) and returns the new state and the texts to send; the caller stores the state
(JSON on the stage row) and sends the texts, in order.

- `start`: the intro and question 1, in one text (with the notice's line and link, when given: the
  caller records the candidate's first reply as their consent to that notice version);
- `reply`: the candidate's text is an answer; the planner follows up on a thin answer (its own text),
  or acknowledges and asks the next question (one text), or closes after the last question;
- `tick`: one reminder when a prompt has waited `remind_after_hours`; the interview ends (no reply)
  when it has waited `give_up_after_hours`, counted from the prompt, not from the reminder;
- `opt_out`: STOP ends it at once, and nothing more is sent (the carrier answers STOP itself);
- `transcript` and `judge_sms`: the thread as a scoring transcript, scored with verified quotes.
Every text we send is at most `MAX_TEXT` characters.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from milo_voice.dialogue.planner import Line, MoveKind, OfflinePlanner, PlanContext
from milo_voice.dialogue.script import InterviewScript, Question
from milo_voice.errors import MiloError
from milo_voice.scoring.card import ScriptedQuestion, score_transcript
from milo_voice.scoring.offline import OfflineScorer
from milo_voice.scoring.result import ScoreCard
from milo_voice.scoring.rubric import Bands
from milo_voice.scoring.scorer import Scorer
from milo_voice.scoring.transcript import CANDIDATE, INTERVIEWER, Transcript, Utterance
from milo_voice.stages.outcome import by_score
from milo_voice.stages.types import Evidence, SmsSpec, StageOutcome, StageSpec

MAX_TEXT = 640
"""Characters of one text we send (four SMS segments at most)."""
MAX_REMINDER = 480
"""A reminder stays under this many characters."""
MAX_ANSWER = 2000
"""Characters of one candidate text that are kept (the rest is dropped)."""
MIN_QUESTION_ROOM = 160
MAX_NOTICE = 240
"""Characters of the notice line in the first text (ours is ~150 and the link: it is not cut in practice)."""
"""In the first text, the intro is cut (rarely: a very long name or role) to leave the question this."""
REMINDER = "Just a reminder: "
GAVE_UP = (
    "We have not heard back, so we have closed this interview. Reply to this number if you would "
    "still like to continue."
)
PROMPT_KINDS = ("intro", "question", "follow_up")
"""Interviewer turns that wait for an answer (a reminder repeats one; it is not a prompt itself)."""
ENDINGS = ("completed", "no_reply", "opted_out")


@dataclass(frozen=True, slots=True)
class SmsTurn:
    """One text of the thread, ours or the candidate's."""

    speaker: str
    """`interviewer` or `candidate`."""
    text: str
    """The text as sent or received (a candidate's stripped and capped at `MAX_ANSWER`)."""
    at: datetime
    """When it was sent or received (timezone-aware)."""
    question_index: int
    """The question the turn belongs to (0-based)."""
    kind: str
    """Interviewer: intro, question, follow_up, reminder, closing, timeout; candidate: answer."""


@dataclass(frozen=True, slots=True)
class SmsState:
    """Where one candidate's SMS interview stands; kept as JSON (`to_json`) on their stage row."""

    turns: tuple[SmsTurn, ...] = ()
    question_index: int = 0
    """The question being asked (0-based)."""
    follow_ups_asked: int = 0
    """Follow-ups already sent for the current question."""
    reminded: bool = False
    """A reminder went out for the prompt now waiting."""
    finished: bool = False
    ended: str = ""
    """"" while open; completed, no_reply or opted_out."""
    notice_version: int | None = None
    """The notice version the first text linked to (None: it linked to none)."""

    def to_json(self) -> dict[str, Any]:
        """JSON-able form; times are ISO 8601 with their offset."""
        turns = [
            {"speaker": t.speaker, "text": t.text, "at": t.at.isoformat(), "question_index": t.question_index,
             "kind": t.kind}
            for t in self.turns
        ]
        return {"turns": turns, "question_index": self.question_index,
                "follow_ups_asked": self.follow_ups_asked, "reminded": self.reminded,
                "finished": self.finished, "ended": self.ended, "notice_version": self.notice_version}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SmsState:
        """The state `to_json` wrote (an unknown ending or a time without offset is refused)."""
        turns = tuple(
            SmsTurn(str(t["speaker"]), str(t["text"]), _aware(datetime.fromisoformat(t["at"])),
                    int(t["question_index"]), str(t["kind"]))
            for t in data.get("turns", [])
        )
        ended = str(data.get("ended", ""))
        if ended and ended not in ENDINGS:
            raise MiloError(f"SMS interview state: unknown ending {ended!r}")
        notice = data.get("notice_version")
        return cls(turns, int(data.get("question_index", 0)), int(data.get("follow_ups_asked", 0)),
                   bool(data.get("reminded", False)), bool(data.get("finished", False)), ended,
                   int(notice) if notice is not None else None)


@dataclass(frozen=True, slots=True)
class Step:
    """The state after one call, and the texts to send now, in order (often none)."""

    state: SmsState
    send: tuple[str, ...] = ()


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise MiloError(f"SMS interview: {now.isoformat()} has no time zone")
    return now


def _cut(text: str, limit: int) -> str:
    """`text` if it fits in `limit` characters, else cut at a word and ended with "…"."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    if " " in head[limit // 2 :]:
        head = head.rsplit(" ", 1)[0]
    return head.rstrip(" ,;:-–") + "…"


def _tidy(text: str) -> str:
    """One text to send: spaces collapsed within each paragraph, at most `MAX_TEXT` characters."""
    paragraphs = [" ".join(p.split()) for p in text.split("\n\n")]
    return _cut("\n\n".join(p for p in paragraphs if p), MAX_TEXT)


def _said(state: SmsState, text: str, now: datetime, kind: str, index: int) -> tuple[SmsState, str]:
    """`state` with our text recorded as a turn, and the text as it will be sent."""
    body = _tidy(text)
    return replace(state, turns=(*state.turns, SmsTurn(INTERVIEWER, body, now, index, kind))), body


def script_of(spec: SmsSpec) -> InterviewScript:
    """The stage's questions as an interview script, for the planner."""
    questions = tuple(
        Question(q.text, q.shape, q.follow_ups, q.max_follow_ups, q.wants_example) for q in spec.questions
    )
    return InterviewScript(title="SMS interview", questions=questions, greeting="", closing=spec.closing)


def _opening(spec: SmsSpec, first_name: str, role: str, notice: str = "") -> str:
    """The intro (first name and role filled in), the notice line and question 1, a blank line apart,
    within `MAX_TEXT` (the intro is cut first)."""
    intro = spec.intro.replace("{first_name}", first_name.strip() or "there")
    intro = " ".join(intro.replace("{role}", role.strip() or "the role").split())
    notice = f"\n\n{' '.join(notice.split())[:MAX_NOTICE]}" if notice.strip() else ""
    question = " ".join(spec.questions[0].text.split())
    intro = _cut(intro, MAX_TEXT - 2 - len(notice) - min(len(question), MIN_QUESTION_ROOM))
    return f"{intro}{notice}\n\n{_cut(question, MAX_TEXT - 2 - len(intro) - len(notice))}"


def start(spec: SmsSpec, *, first_name: str, role: str, now: datetime, notice: str = "",
          notice_version: int | None = None) -> Step:
    """The first text: the intro, the notice line (`notice`, linking to `notice_version`) and question 1
    (recorded as the question-1 prompt)."""
    opening = _opening(spec, first_name, role, notice)
    state, sent = _said(SmsState(notice_version=notice_version if notice else None), opening, _aware(now),
                        "question", 0)
    return Step(state, (sent,))


def first_reply(state: SmsState) -> bool:
    """The candidate has not texted yet: their next text is the first reply (their consent to the notice)."""
    return not any(t.speaker == CANDIDATE for t in state.turns)


def _waiting(state: SmsState) -> SmsTurn | None:
    """Our last prompt if it still waits for an answer (None: the candidate texted since, or none)."""
    for turn in reversed(state.turns):
        if turn.speaker == CANDIDATE:
            return None
        if turn.kind in PROMPT_KINDS:
            return turn
    return None


def _asked(spec: SmsSpec, prompt: SmsTurn) -> str:
    """What a prompt asks: the scripted question (without the intro or acknowledgement), or the follow-up."""
    if prompt.kind == "follow_up":
        return prompt.text
    return spec.questions[min(prompt.question_index, len(spec.questions) - 1)].text


def reply(spec: SmsSpec, state: SmsState, text: str, now: datetime) -> Step:
    """The candidate's text answers the current question; our next move is planned and recorded.

    An empty text (a picture alone) is no answer: nothing is recorded or sent. After the interview
    ended, nothing changes and nothing is sent."""
    answer = text.strip()[:MAX_ANSWER].rstrip()
    if state.finished or not answer:
        return Step(state)
    now, index = _aware(now), state.question_index
    earlier = " ".join(t.text for t in state.turns if t.speaker == CANDIDATE and t.question_index == index)
    prompt = next((t for t in reversed(state.turns) if t.speaker == INTERVIEWER and t.kind in PROMPT_KINDS),
                  None)
    state = replace(state, turns=(*state.turns, SmsTurn(CANDIDATE, answer, now, index, "answer")),
                    reminded=False)
    ctx = PlanContext(script=script_of(spec), question_index=index, follow_ups_asked=state.follow_ups_asked,
                      answer_text=answer, prompt_text=_asked(spec, prompt) if prompt else "",
                      earlier_answer=earlier)
    return _move(spec, state, OfflinePlanner().decide(ctx), now)


def _move(spec: SmsSpec, state: SmsState, lines: list[Line], now: datetime) -> Step:
    """The planned move as one text: a follow-up, the acknowledgement and next question, or the closing."""
    body = " ".join(line.text for line in lines)
    index = state.question_index
    if lines and lines[0].kind is MoveKind.FOLLOW_UP:
        state = replace(state, follow_ups_asked=state.follow_ups_asked + 1)
        state, sent = _said(state, body, now, "follow_up", index)
        return Step(state, (sent,))
    if not lines or any(line.kind is MoveKind.CLOSE for line in lines):
        state, sent = _said(state, body or spec.closing, now, "closing", index)
        return Step(replace(state, finished=True, ended="completed"), (sent,))
    nxt = min(lines[-1].question_index, len(spec.questions) - 1)
    state = replace(state, question_index=nxt, follow_ups_asked=0)
    state, sent = _said(state, body, now, "question", nxt)
    return Step(state, (sent,))


def tick(spec: SmsSpec, state: SmsState, now: datetime) -> Step:
    """What the clock calls for: one reminder after `remind_after_hours`, the end after
    `give_up_after_hours` (both counted from the prompt); otherwise nothing."""
    prompt = _waiting(state)
    if state.finished or prompt is None:
        return Step(state)
    waited = _aware(now) - prompt.at
    if waited >= timedelta(hours=spec.give_up_after_hours):
        state, sent = _said(state, GAVE_UP, now, "timeout", prompt.question_index)
        return Step(replace(state, finished=True, ended="no_reply"), (sent,))
    if waited >= timedelta(hours=spec.remind_after_hours) and not state.reminded:
        text = _cut(REMINDER + " ".join(_asked(spec, prompt).split()), MAX_REMINDER - 1)
        state, sent = _said(state, text, now, "reminder", prompt.question_index)
        return Step(replace(state, reminded=True), (sent,))
    return Step(state)


def opt_out(state: SmsState, now: datetime) -> SmsState:
    """STOP: the interview ends now (opted out); nothing is sent. An ended interview stays as it is."""
    _aware(now)
    if state.finished:
        return state
    return replace(state, finished=True, ended="opted_out")


def transcript(state: SmsState) -> Transcript:
    """The thread as a scoring transcript: times are seconds since the first text."""
    first = state.turns[0].at if state.turns else None
    utterances = []
    for i, t in enumerate(state.turns):
        at = (t.at - first).total_seconds() if first else 0.0
        speaker = CANDIDATE if t.speaker == CANDIDATE else INTERVIEWER
        follow_up = t.kind == "follow_up"
        utterances.append(Utterance(i, speaker, t.text, at, at, t.question_index, t.kind, follow_up))
    return Transcript(tuple(utterances))


def answered(state: SmsState) -> int:
    """How many questions the candidate answered (a text or more)."""
    return len({t.question_index for t in state.turns if t.speaker == CANDIDATE and t.text.strip()})


async def _card(spec: StageSpec, state: SmsState, scorer: Scorer | None) -> ScoreCard | None:
    """The score card of the questions with a rubric (None: no rubric, or nothing answered)."""
    assert spec.sms is not None
    questions = [ScriptedQuestion(i, q.text, q.rubric) for i, q in enumerate(spec.sms.questions)]
    if not any(q.rubric for q in questions) or not answered(state):
        return None
    return await score_transcript(scorer or OfflineScorer(), questions, transcript(state), bands=Bands())


async def judge_sms(spec: StageSpec, state: SmsState, *, scorer: Scorer | None = None) -> StageOutcome:
    """A knock-out needs a verified quote; an interview that ended early goes to a person; otherwise
    it passes as a form does (completed, or the score against the stage's pass score)."""
    assert spec.sms is not None
    count, total = answered(state), len(spec.sms.questions)
    card = await _card(spec, state, scorer)
    detail: dict[str, Any] = {"ended": state.ended, "answered": count}
    score, evidence = None, ()
    if card is not None:
        detail["card"] = card.model_dump(mode="json")
        score = card.overall
        evidence = tuple(Evidence(q.text, f"Q{r.position + 1}") for r in card.questions for c in r.criteria
                         for q in c.quotes)
    if card is not None and card.knockout is not None:
        out = card.knockout
        quoted = (Evidence(out.quote.text, f"Q{out.question_position + 1}"),)
        return StageOutcome(passed=False, knocked_out=True, score=score, reason=out.reason, evidence=quoted,
                            detail=detail)
    if state.ended in ("no_reply", "opted_out"):
        why = "no reply" if state.ended == "no_reply" else "the candidate opted out (STOP)"
        reason = f"the SMS interview ended early ({why}) after {count} of {total} questions: a person decides"
        return StageOutcome(passed=None, score=score, reason=reason, evidence=evidence, detail=detail)
    return by_score(score, spec.pass_score, done="SMS interview completed", evidence=evidence, detail=detail,
                    unscored="the answers could not be scored")
