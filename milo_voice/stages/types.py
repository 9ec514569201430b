"""Stage specs: one stage of an interview's pipeline, as the editor saves it (pydantic, JSON on
`interview_stage.spec`), and the outcome of judging a candidate at it. No I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from milo_voice.dialogue.script import AnswerShape
from milo_voice.scoring.rubric import Criterion, QuestionRubric
from milo_voice.store.tables import StageKind

STAGE_TITLES: dict[StageKind, str] = {
    StageKind.RESUME: "Resume Screen",
    StageKind.FORM: "Form",
    StageKind.SMS: "SMS Interview",
    StageKind.VOICE: "Web Interview",
    StageKind.ASSESSMENT: "LLM Assessment",
}
"""Default titles: the board's columns unless the recruiter renames a stage."""

NEEDS_ASSISTANT = frozenset({StageKind.ASSESSMENT})
"""Stage types that cannot be published without an assistant model (MILO_ASSESSMENT_LLM_BASE_URL)."""
NEEDS_SMS = frozenset({StageKind.SMS})
"""Stage types that cannot be published without an SMS channel (MILO_TWILIO_* and MILO_SMS_FROM)."""

DEFAULT_KNOCKOUT_MESSAGE = (
    "Thank you for your interest. Based on your answers we are unable to move forward with your "
    "application for this role."
)


class FieldKind(StrEnum):
    SHORT_TEXT = "short_text"
    LONG_TEXT = "long_text"
    SINGLE_CHOICE = "single_choice"
    MULTI_CHOICE = "multi_choice"
    NUMBER = "number"
    YES_NO = "yes_no"
    DATE = "date"
    FILE = "file"


CHOICE_KINDS = frozenset({FieldKind.SINGLE_CHOICE, FieldKind.MULTI_CHOICE, FieldKind.YES_NO})
END = "end"
"""A skip target: the rest of the form is skipped."""


class SkipRule(BaseModel):
    """"If the answer is `when`, skip to `to`" (a later field's id, or `end`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    when: str = Field(min_length=1, max_length=200)
    to: str = Field(min_length=1, max_length=40)


class KnockoutRule(BaseModel):
    """A dealbreaker on one field: the answers that keep the candidate in (choice and yes/no), or the
    range a number must fall in. An answer outside it knocks the candidate out, with the answer
    quoted as evidence."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    accept: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    reason: str = Field(default="", max_length=300)
    """What the recruiter reads ("Not authorised to work in the UK"); defaults to the field's label."""

    @model_validator(mode="after")
    def _says_something(self) -> KnockoutRule:
        if not self.accept and self.minimum is None and self.maximum is None:
            raise ValueError("a dealbreaker needs the accepted answers or a minimum or maximum")
        return self


class FormField(BaseModel):
    """One question of a form stage."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, max_length=40, pattern=r"^[a-z0-9_\-]+$")
    kind: FieldKind
    label: str = Field(min_length=1, max_length=500)
    help: str = Field(default="", max_length=500)
    required: bool = True
    options: tuple[str, ...] = ()
    """Choices of a single or multiple choice field (yes/no has its own: Yes, No)."""
    minimum: float | None = None
    """Number: the smallest valid answer; text: the fewest characters."""
    maximum: float | None = None
    """Number: the largest valid answer; text: the most characters."""
    skip: tuple[SkipRule, ...] = ()
    knockout: KnockoutRule | None = None
    rubric: QuestionRubric | None = None
    """Scored like an interview answer (the answer's text against the anchors); None: not scored."""

    @property
    def choices(self) -> tuple[str, ...]:
        return ("Yes", "No") if self.kind is FieldKind.YES_NO else self.options

    @model_validator(mode="after")
    def _complete(self) -> FormField:
        if self.kind in (FieldKind.SINGLE_CHOICE, FieldKind.MULTI_CHOICE) and len(self.options) < 2:
            raise ValueError(f"question {self.id!r} needs at least two options")
        if len({o.casefold() for o in self.options}) != len(self.options):
            raise ValueError(f"question {self.id!r} repeats an option")
        for value in (*(r.when for r in self.skip), *(self.knockout.accept if self.knockout else ())):
            if self.kind in CHOICE_KINDS and value.casefold() not in {c.casefold() for c in self.choices}:
                raise ValueError(f"question {self.id!r}: {value!r} is not one of its options")
        if self.skip and self.kind not in CHOICE_KINDS:
            raise ValueError(f"question {self.id!r}: skip rules need a choice or yes/no question")
        return self


class FormSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    intro: str = Field(default="", max_length=2000)
    fields: tuple[FormField, ...] = Field(min_length=1, max_length=60)

    @field_validator("fields")
    @classmethod
    def _ids_and_skips(cls, fields: tuple[FormField, ...]) -> tuple[FormField, ...]:
        ids = [f.id for f in fields]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"question ids must be unique; repeated: {dupes}")
        for at, item in enumerate(fields):
            for rule in item.skip:
                if rule.to != END and rule.to not in ids[at + 1:]:
                    raise ValueError(f"question {item.id!r} skips to {rule.to!r}: not a later question")
        return fields

    def get(self, field_id: str) -> FormField:
        for item in self.fields:
            if item.id == field_id:
                return item
        raise LookupError(f"no question {field_id!r} in this form")


class ResumeSpec(BaseModel):
    """A resume screen: the resume text judged against `rubric` (dealbreakers included)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    requirements: str = Field(default="", max_length=4000)
    """The role's requirements as the recruiter wrote them (shown to an LLM scorer, and in the editor)."""
    rubric: QuestionRubric


class SmsQuestion(BaseModel):
    """One question of an SMS interview (follow-ups planned as in a voice interview)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str = Field(min_length=1, max_length=480)
    shape: AnswerShape = AnswerShape.EXPLANATION
    follow_ups: tuple[str, ...] = ()
    max_follow_ups: int = Field(default=1, ge=0, le=3)
    wants_example: bool = False
    rubric: QuestionRubric | None = None


class SmsSpec(BaseModel):
    """An SMS interview: questions asked by text, answered at the candidate's pace."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    intro: str = Field(default="Hi {first_name}, thanks for applying for {role}. A few quick questions by "
                       "text: answer in your own words, whenever suits you. Reply STOP to opt out.",
                       max_length=480)
    questions: tuple[SmsQuestion, ...] = Field(min_length=1, max_length=10)
    closing: str = Field(default="Thank you! That was the last question. The hiring team will be in touch.",
                         max_length=480)
    remind_after_hours: float = Field(default=24.0, gt=0, le=24 * 14)
    """One reminder when a question has waited this long for a reply."""
    give_up_after_hours: float = Field(default=72.0, gt=0, le=24 * 30)
    """The stage ends (not passed, a person decides) when a question has waited this long."""

    @model_validator(mode="after")
    def _remind_first(self) -> SmsSpec:
        if self.remind_after_hours >= self.give_up_after_hours:
            raise ValueError("the reminder must come before the stage gives up")
        return self


GUIDANCE_RUBRIC = QuestionRubric(criteria=(
    Criterion(id="clear_instructions", name="Gives the assistant clear instructions",
              anchors={1: "vague requests with no goal, audience or constraints",
                       5: "states the goal, the audience, the tone and the constraints of the task, "
                          "and gives the notes or facts the assistant needs"}),
    Criterion(id="corrects", name="Corrects and steers the assistant",
              anchors={1: "accepts whatever comes back",
                       5: "points out what is wrong or missing and asks for a specific change, "
                          "shorter, clearer, fix the mistake, add the detail"}),
    Criterion(id="checks", name="Checks the output against the facts",
              anchors={1: "never checks the answer",
                       5: "checks the facts, the numbers and the names against the notes, and asks "
                          "the assistant to verify or explain"}),
))
"""How the candidate guided the assistant (their own messages are the evidence); a stage may replace it."""


class AssessmentSpec(BaseModel):
    """An LLM assessment: a task worked through with an AI assistant in a browser chat, ending in a
    deliverable the candidate writes and submits."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    task: str = Field(min_length=1, max_length=4000)
    """What to produce ("Draft a reply to this customer from the notes below")."""
    materials: str = Field(default="", max_length=20_000)
    """What the candidate works from (notes, a customer's email), shown beside the chat."""
    deliverable: str = Field(default="Your final answer", max_length=200)
    """The label of the box the candidate writes the deliverable in."""
    minutes: int = Field(default=25, ge=5, le=90)
    """The time the candidate is told they have (the clock is shown; time taken is stored)."""
    rubric: QuestionRubric
    """How the deliverable is judged (quotes come from the deliverable)."""
    guidance: QuestionRubric = GUIDANCE_RUBRIC
    """How the candidate guided the assistant (quotes come from their chat messages)."""
    assistant_prompt: str = Field(
        default="You are a helpful writing assistant. A job candidate is working on a task with your "
                "help. Do what they ask, briefly and accurately; do not invent facts.", max_length=4000)


class StageSpec(BaseModel):
    """One stage of a pipeline."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: StageKind
    title: str = Field(default="", max_length=100)
    pass_score: float | None = Field(default=None, ge=0.0, le=100.0)
    """The overall score (0-100) a candidate needs to advance; None: finishing the stage is enough."""
    knockout_message: str = Field(default=DEFAULT_KNOCKOUT_MESSAGE, max_length=1000)
    """What a knocked-out candidate reads; empty: they simply see the thank-you page."""
    form: FormSpec | None = None
    resume: ResumeSpec | None = None
    sms: SmsSpec | None = None
    assessment: AssessmentSpec | None = None

    @model_validator(mode="after")
    def _has_its_part(self) -> StageSpec:
        if self.kind is StageKind.FORM and self.form is None:
            raise ValueError("a form stage needs its questions")
        if self.kind is StageKind.RESUME and self.resume is None:
            raise ValueError("a resume stage needs its rubric")
        if self.kind is StageKind.SMS and self.sms is None:
            raise ValueError("an SMS stage needs its questions")
        if self.kind is StageKind.ASSESSMENT and self.assessment is None:
            raise ValueError("an LLM assessment stage needs its task and rubric")
        return self

    @property
    def name(self) -> str:
        return self.title or STAGE_TITLES[self.kind]


@dataclass(frozen=True, slots=True)
class Evidence:
    """A verbatim quote that backs an outcome, and where it is from ("Q2 Are you authorised...")."""

    quote: str
    source: str


@dataclass(frozen=True, slots=True)
class StageOutcome:
    """How a candidate did at one stage. `passed` None: a person must decide (nothing automatic)."""

    passed: bool | None
    knocked_out: bool = False
    score: float | None = None
    reason: str = ""
    evidence: tuple[Evidence, ...] = ()
    detail: dict[str, Any] = field(default_factory=dict)
    """JSON-able detail kept with the result (the score card, the answers)."""
