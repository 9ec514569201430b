"""The voice stage answered in writing: the written path of an accommodation (docs/compliance.md).

A candidate granted the written path (`workspace/accommodations.py` decides who; this module never
reads it) gets the voice stage's questions as a form: one long-text question per scripted question,
with the question's rubric, the stage's pass score and knock-out message. It is judged exactly as a
form stage is (`stages.form.judge_form`: the same scorer, the same quote check against the answers),
and the outcome is recorded on the voice stage, so the pipeline moves the candidate on as usual.
Follow-ups are not asked in writing: a question that wants an example says so in its help line.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from milo_voice.scoring.rubric import QuestionRubric
from milo_voice.scoring.scorer import Scorer
from milo_voice.stages.form import judge_form
from milo_voice.stages.types import FieldKind, FormField, FormSpec, StageOutcome, StageSpec
from milo_voice.store.tables import Question, StageKind
from milo_voice.workspace.interviews import Interviews

log = logging.getLogger(__name__)

INTRO = (
    "These are the interview's questions, to answer in writing instead of speaking. Answer each in "
    "your own words, as fully as you would aloud. Nothing is timed; your answers are sent when you "
    "press Submit."
)
EXAMPLE_HELP = "Please include a specific example."
MAX_LABEL = 500


def written_stage(voice: StageSpec, questions: Sequence[Question]) -> StageSpec:
    """The voice stage `voice` as a form of its scripted `questions` (in order)."""
    if voice.kind is not StageKind.VOICE:
        raise ValueError(f"only a voice stage has a written form, not a {voice.kind.value} stage")
    fields = tuple(
        FormField(
            id=f"q{q.position + 1}",
            kind=FieldKind.LONG_TEXT,
            label=q.text[:MAX_LABEL],
            help=EXAMPLE_HELP if q.wants_example else "",
            rubric=QuestionRubric.model_validate(q.rubric) if q.rubric else None,
        )
        for q in sorted(questions, key=lambda q: q.position)
    )
    return StageSpec(
        kind=StageKind.FORM,
        title=voice.name,
        pass_score=voice.pass_score,
        knockout_message=voice.knockout_message,
        form=FormSpec(intro=INTRO, fields=fields),
    )


def written_for(interviews: Interviews, interview_id: int, voice: StageSpec) -> StageSpec:
    """`written_stage` of one interview version's questions."""
    return written_stage(voice, interviews.questions(interview_id))


async def judge_written(
    spec: StageSpec, answers: Mapping[str, Any], *, scorer: Scorer | None = None
) -> StageOutcome:
    """Judge the written answers as a form (`judge_form`); the reason says they were written."""
    outcome = await judge_form(spec, answers, scorer=scorer)
    return dataclasses.replace(outcome, reason=f"answered in writing: {outcome.reason}")
