"""An LLM assessment (issue 18): the candidate works through a task with an AI assistant in a chat
and submits a deliverable. This module keeps the session (every prompt, reply, draft edit and the
time taken, as JSON on the candidate's stage row), builds what the assistant is sent, and judges the
result: the deliverable against the stage's rubric, and how the candidate guided the assistant
against the guidance rubric, with quotes verified against the chat and the deliverable. Pure but for
the scorer, which may be an LLM."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from milo_voice.scoring.card import ScriptedQuestion, score_transcript
from milo_voice.scoring.offline import OfflineScorer
from milo_voice.scoring.rubric import Bands
from milo_voice.scoring.scorer import Scorer
from milo_voice.scoring.transcript import CANDIDATE, INTERVIEWER, Transcript, Utterance
from milo_voice.stages.outcome import by_score
from milo_voice.stages.types import AssessmentSpec, Evidence, StageOutcome, StageSpec

MAX_PROMPT = 4000
"""Characters of one candidate message."""
MAX_DELIVERABLE = 20_000
MAX_TURNS = 120
"""Messages in one session (candidate and assistant): the assistant is not a general chatbot."""
MAX_DRAFTS = 200
"""Draft snapshots kept (the newest; the first one is always kept)."""
DELIVERABLE, GUIDANCE = 0, 1
"""Question positions in the judged transcript."""


@dataclass(frozen=True, slots=True)
class ChatTurn:
    role: str
    """`candidate`, `assistant`, or `notice` (a message from us: the assistant is down, say)."""
    text: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Session:
    started_at: datetime
    turns: tuple[ChatTurn, ...] = ()
    drafts: tuple[tuple[datetime, str], ...] = ()
    """Snapshots of the deliverable as the candidate edits it."""
    deliverable: str = ""
    submitted_at: datetime | None = None

    @property
    def seconds_taken(self) -> float | None:
        return (self.submitted_at - self.started_at).total_seconds() if self.submitted_at else None

    def to_json(self) -> dict[str, Any]:
        return {
            "started_at": self.started_at.isoformat(),
            "turns": [{"role": t.role, "text": t.text, "at": t.at.isoformat()} for t in self.turns],
            "drafts": [{"at": at.isoformat(), "text": text} for at, text in self.drafts],
            "deliverable": self.deliverable,
            "submitted_at": self.submitted_at.isoformat() if self.submitted_at else None,
            "seconds_taken": self.seconds_taken,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], now: datetime) -> Session:
        """The stored session (or a new one started `now` when nothing is stored yet)."""
        if not data.get("started_at"):
            return cls(started_at=now)
        submitted = data.get("submitted_at")
        return cls(
            started_at=datetime.fromisoformat(data["started_at"]),
            turns=tuple(ChatTurn(t["role"], t["text"], datetime.fromisoformat(t["at"]))
                        for t in data["turns"]),
            drafts=tuple((datetime.fromisoformat(d["at"]), d["text"]) for d in data.get("drafts", [])),
            deliverable=str(data.get("deliverable", "")),
            submitted_at=datetime.fromisoformat(submitted) if submitted else None,
        )


class Refused(ValueError):
    """The candidate's action cannot be taken (a message a candidate can read)."""


def ask(session: Session, text: str, now: datetime) -> Session:
    """The candidate's message, added before the assistant is asked (so it is kept if it fails)."""
    text = text.strip()
    if session.submitted_at is not None:
        raise Refused("This assessment has been submitted.")
    if not text:
        raise Refused("Please type a message for the assistant.")
    if len(text) > MAX_PROMPT:
        raise Refused(f"Please keep a message under {MAX_PROMPT} characters.")
    if len(session.turns) >= MAX_TURNS:
        raise Refused("You have reached the limit of messages for this task. Please finish and submit.")
    return replace(session, turns=(*session.turns, ChatTurn("candidate", text, now)))


def answered(session: Session, reply: str, now: datetime) -> Session:
    return replace(session, turns=(*session.turns, ChatTurn("assistant", reply.strip(), now)))


def noticed(session: Session, notice: str, now: datetime) -> Session:
    """A message from us in the chat (not shown to the assistant, not judged)."""
    return replace(session, turns=(*session.turns, ChatTurn("notice", notice, now)))


def draft(session: Session, text: str, now: datetime) -> Session:
    """The deliverable as the candidate is writing it (an edit is kept only when the text changed)."""
    if session.submitted_at is not None:
        raise Refused("This assessment has been submitted.")
    text = text[:MAX_DELIVERABLE]
    if session.drafts and session.drafts[-1][1] == text:
        return session
    drafts = (*session.drafts, (now, text))
    if len(drafts) > MAX_DRAFTS:
        drafts = (drafts[0], *drafts[-(MAX_DRAFTS - 1):])
    return replace(session, drafts=drafts, deliverable=text)


def submit(session: Session, text: str, now: datetime) -> Session:
    text = text.strip()
    if session.submitted_at is not None:
        raise Refused("This assessment has already been submitted.")
    if not text:
        raise Refused("Please write your answer in the box before you submit.")
    if len(text) > MAX_DELIVERABLE:
        raise Refused(f"Please keep your answer under {MAX_DELIVERABLE} characters.")
    return replace(draft(session, text, now), deliverable=text, submitted_at=now)


def messages_for_assistant(spec: AssessmentSpec, session: Session) -> list[dict[str, str]]:
    """The chat as the assistant is sent it: its instructions with the task and the materials, then
    the conversation (our notices left out)."""
    system = f"{spec.assistant_prompt}\n\nThe candidate's task: {spec.task}"
    if spec.materials:
        system += f"\n\nMaterials the candidate has:\n{spec.materials}"
    roles = {"candidate": "user", "assistant": "assistant"}
    return [{"role": "system", "content": system},
            *({"role": roles[t.role], "content": t.text} for t in session.turns if t.role in roles)]


def transcript(session: Session) -> Transcript:
    """What a scorer reads: the deliverable (question 0) and the candidate's messages (question 1),
    with the assistant's replies as context. Quotes can only come from the candidate's own words."""
    turns = [Utterance(0, INTERVIEWER, "The deliverable", 0.0, 0.0, DELIVERABLE),
             Utterance(1, CANDIDATE, session.deliverable, 0.0, 0.0, DELIVERABLE)]
    for t in session.turns:
        if t.role == "notice":
            continue
        at = (t.at - session.started_at).total_seconds()
        speaker = CANDIDATE if t.role == "candidate" else INTERVIEWER
        turns.append(Utterance(len(turns), speaker, t.text, at, at, GUIDANCE))
    return Transcript(tuple(turns))


async def judge_assessment(
    spec: StageSpec, session: Session, *, scorer: Scorer | None = None,
) -> StageOutcome:
    assert spec.assessment is not None
    task = spec.assessment
    questions = [ScriptedQuestion(DELIVERABLE, f"{task.deliverable}: {task.task}", task.rubric),
                 ScriptedQuestion(GUIDANCE, "How the candidate guided the assistant", task.guidance)]
    card = await score_transcript(scorer or OfflineScorer(), questions, transcript(session), bands=Bands())
    where = {DELIVERABLE: "Deliverable", GUIDANCE: "Chat"}
    evidence = tuple(Evidence(q.text, f"{where[r.position]}: {c.name}") for r in card.questions
                     for c in r.criteria for q in c.quotes)
    prompts = sum(1 for t in session.turns if t.role == "candidate")
    detail = {"card": card.model_dump(mode="json"), "prompts": prompts,
              "seconds_taken": session.seconds_taken}
    if card.knockout is not None:
        return StageOutcome(passed=False, knocked_out=True, score=card.overall, reason=card.knockout.reason,
                            evidence=(Evidence(card.knockout.quote.text, "Assessment"),), detail=detail)
    return by_score(card.overall, spec.pass_score, done="assessment submitted", evidence=evidence,
                    detail=detail, unscored="the assessment could not be scored")
