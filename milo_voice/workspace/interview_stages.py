"""The stages of an interview version: read, checked and written (the one writer of `interview_stage`).

Stages are versioned with the questions: `Interviews` writes them whenever it writes a version, so
an edit to a published interview's stages is a new version, and candidates keep the version (and
so the pipeline) they started on. An interview without stage rows is one voice stage.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from pydantic import ValidationError
from sqlmodel import Session, col, select

from milo_voice.stages.types import NEEDS_ASSISTANT, NEEDS_SMS, StageSpec
from milo_voice.store.repo import Invalid
from milo_voice.store.tables import InterviewStage, StageKind

MAX_STAGES = 6
VOICE_ONLY = (StageSpec(kind=StageKind.VOICE),)
"""The pipeline of an interview with no stage rows."""


def check(stages: Sequence[StageSpec]) -> tuple[StageSpec, ...]:
    """The stages as they may be stored, or `Invalid` with what is wrong."""
    if len(stages) > MAX_STAGES:
        raise Invalid(f"an interview has at most {MAX_STAGES} stages ({len(stages)} given)")
    kinds = [s.kind for s in stages]
    if kinds.count(StageKind.VOICE) > 1:
        raise Invalid("an interview has one voice/video stage: its questions are the interview's questions")
    if kinds and kinds.count(StageKind.RESUME) and kinds[0] is not StageKind.RESUME:
        raise Invalid("a resume screen comes first: it runs the moment a resume arrives")
    return tuple(stages)


def unpublishable(stages: Sequence[StageSpec], *, assistant: bool, sms: bool) -> str:
    """Why these stages cannot be published on this server ("" if they can): an LLM assessment needs an
    assistant model, an SMS interview an SMS channel."""
    kinds = {s.kind for s in stages}
    if not assistant and kinds & NEEDS_ASSISTANT:
        return ("an LLM assessment needs an assistant model, and this server has none: set "
                "MILO_ASSESSMENT_LLM_BASE_URL (or MILO_LLM_BASE_URL) to an OpenAI-compatible server "
                "and restart")
    if not sms and kinds & NEEDS_SMS:
        return ("an SMS interview needs an SMS channel, and this server has none: set "
                "MILO_TWILIO_ACCOUNT_SID, MILO_TWILIO_AUTH_TOKEN and MILO_SMS_FROM and restart "
                "(docs/outreach.md)")
    return ""


def parse_json(text: str) -> tuple[StageSpec, ...]:
    """Stages from the editor's JSON (a list of stage objects), with a message a recruiter can act on."""
    try:
        data = json.loads(text or "[]")
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise Invalid(f"the stages are not valid JSON: {exc.msg} at {where}") from None
    if not isinstance(data, list):
        raise Invalid("the stages must be a JSON list, one object per stage")
    specs = []
    for number, item in enumerate(data, 1):
        try:
            specs.append(StageSpec.model_validate(item))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise Invalid(f"stage {number}: {where + ': ' if where else ''}{first['msg']}") from None
    return check(specs)


def to_json(stages: Sequence[StageSpec]) -> str:
    return json.dumps([s.model_dump(mode="json", exclude_defaults=True) for s in stages], indent=2)


def read(session: Session, interview_id: int) -> tuple[StageSpec, ...]:
    """The stored stages of one version, in order (none stored: the stages are exactly `VOICE_ONLY`)."""
    rows = session.exec(
        select(InterviewStage).where(InterviewStage.interview_id == interview_id)
        .order_by(col(InterviewStage.position))
    ).all()
    return tuple(StageSpec.model_validate(r.spec) for r in rows)


def pipeline(session: Session, interview_id: int) -> tuple[StageSpec, ...]:
    return read(session, interview_id) or VOICE_ONLY


def write(session: Session, interview_id: int, stages: Sequence[StageSpec]) -> None:
    """Replace the stages of one version inside the caller's transaction."""
    for row in session.exec(select(InterviewStage).where(InterviewStage.interview_id == interview_id)):
        session.delete(row)
    session.flush()
    session.add_all(
        InterviewStage(interview_id=interview_id, position=i, kind=s.kind.value,
                       spec=s.model_dump(mode="json"))
        for i, s in enumerate(check(stages))
    )


_RUBRIC = {"criteria": [{"id": "fit", "name": "Fit for the role", "anchors": {
    "1": "nothing relevant", "5": "relevant experience, described clearly"}}]}
STARTERS: dict[StageKind, dict[str, object]] = {
    StageKind.RESUME: {"kind": "resume", "pass_score": 50, "resume": {"rubric": _RUBRIC}},
    StageKind.FORM: {"kind": "form", "form": {"fields": [
        {"id": "authorised", "kind": "yes_no", "label": "Are you authorised to work in this country?",
         "knockout": {"accept": ["Yes"]}}]}},
    StageKind.SMS: {"kind": "sms", "sms": {"questions": [
        {"text": "What experience do you have for this role?", "rubric": _RUBRIC}]}},
    StageKind.VOICE: {"kind": "voice"},
    StageKind.ASSESSMENT: {"kind": "assessment", "assessment": {
        "task": "Draft a reply to a customer from the notes below.", "materials": "(the notes)",
        "rubric": _RUBRIC}},
}
"""What "Add a stage" adds: a working stage of each type, to edit."""


def edited(stages: Sequence[StageSpec], action: str, position: int, kind: str = "") -> tuple[StageSpec, ...]:
    """The stages after one editor action: `up`, `down`, `remove` (at `position`) or `add` (a starter
    stage of `kind` at the end)."""
    items = list(stages) or [VOICE_ONLY[0]]
    if action == "add":
        try:
            items.append(StageSpec.model_validate(STARTERS[StageKind(kind)]))
        except ValueError:
            raise Invalid(f"unknown stage type {kind!r}") from None
        return check(items)
    if not 0 <= position < len(items):
        raise Invalid(f"there is no stage {position + 1}")
    if action == "remove":
        if len(items) == 1:
            raise Invalid("an interview keeps at least one stage")
        del items[position]
    elif action in ("up", "down"):
        other = position - 1 if action == "up" else position + 1
        if not 0 <= other < len(items):
            raise Invalid(f"stage {position + 1} cannot move {action}")
        items[position], items[other] = items[other], items[position]
    else:
        raise Invalid(f"unknown action {action!r}")
    return check(items)
