"""A form stage: which questions show (skip logic), what the candidate's answers are (validated, with a
message a candidate understands), and how they are judged (dealbreakers, rubric). Pure but for the
scorer, which may be an LLM."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from milo_voice.scoring.card import ScriptedQuestion, score_transcript
from milo_voice.scoring.offline import OfflineScorer
from milo_voice.scoring.rubric import Bands
from milo_voice.scoring.scorer import Scorer
from milo_voice.scoring.transcript import CANDIDATE, INTERVIEWER, Transcript, Utterance
from milo_voice.stages.types import (
    CHOICE_KINDS,
    END,
    Evidence,
    FieldKind,
    FormField,
    FormSpec,
    StageOutcome,
    StageSpec,
)

log = logging.getLogger(__name__)

REQUIRED = "Please answer this question."
TEXT_LIMIT = {FieldKind.SHORT_TEXT: 300, FieldKind.LONG_TEXT: 5000}


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """A file the candidate attached, as the web layer saved it."""

    name: str
    size: int
    path: str
    content_type: str = ""


@dataclass(frozen=True, slots=True)
class FormParse:
    answers: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def _chosen(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def visible_fields(spec: FormSpec, answers: Mapping[str, Any]) -> list[FormField]:
    """The questions the candidate sees, in order, after the skip rules their answers trigger."""
    shown: list[FormField] = []
    skip_to: str | None = None
    for item in spec.fields:
        if skip_to is not None:
            if item.id != skip_to:
                continue
            skip_to = None
        shown.append(item)
        picked = {c.casefold() for c in _chosen(answers.get(item.id))}
        for rule in item.skip:
            if rule.when.casefold() in picked:
                skip_to = rule.to
                break
        if skip_to == END:
            break
    return shown


def _number(text: str, item: FormField) -> tuple[float | None, str]:
    try:
        value = float(text.replace(",", ".").replace(" ", ""))
    except ValueError:
        value = math.nan
    low, high = item.minimum, item.maximum
    span = ""
    if low is not None and high is not None:
        span = f" between {low:g} and {high:g}"
    elif low is not None or high is not None:
        span = f" of at least {low:g}" if low is not None else f" of at most {high:g}"
    if not math.isfinite(value) or (low is not None and value < low) or (high is not None and value > high):
        return None, f"Please enter a number{span}."
    return value, ""


def _date(text: str) -> tuple[str | None, str]:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None, "Please enter a date as YYYY-MM-DD."
    if not 1900 <= day.year <= 2100:
        return None, "Please enter a date between 1900 and 2100."
    return day.isoformat(), ""


def _text(text: str, item: FormField) -> tuple[str | None, str]:
    most = int(item.maximum) if item.maximum is not None else TEXT_LIMIT.get(item.kind, 5000)
    least = int(item.minimum) if item.minimum is not None else 0
    if len(text) > most:
        return None, f"Please keep this under {most} characters."
    if len(text) < least:
        return None, f"Please write at least {least} characters."
    return text, ""


def _choice(values: list[str], item: FormField) -> tuple[Any, str]:
    by_key = {c.casefold(): c for c in item.choices}
    picked = [by_key.get(v.strip().casefold()) for v in values if v.strip()]
    if any(p is None for p in picked):
        return None, "Please choose one of the options."
    if item.kind is FieldKind.MULTI_CHOICE:
        return list(dict.fromkeys(p for p in picked if p)), ""
    if len(picked) > 1:
        return None, "Please choose one option."
    return picked[0], ""


def _one(item: FormField, values: list[str], upload: UploadedFile | None) -> tuple[Any, str]:
    """(value, error) for one visible question; (None, "") when it is left empty and optional."""
    if item.kind is FieldKind.FILE:
        if upload is None:
            return None, REQUIRED if item.required else ""
        if upload.size == 0:
            return None, "That file is empty. Please choose the file again."
        return {"name": upload.name, "size": upload.size, "path": upload.path}, ""
    texts = [v.strip() for v in values if v.strip()]
    if not texts:
        return None, REQUIRED if item.required else ""
    if item.kind in CHOICE_KINDS:
        return _choice(texts, item)
    if item.kind is FieldKind.NUMBER:
        return _number(texts[0], item)
    if item.kind is FieldKind.DATE:
        return _date(texts[0])
    return _text(values[0].strip(), item)


def parse_answers(
    spec: FormSpec, form: Mapping[str, list[str]], files: Mapping[str, UploadedFile] | None = None,
) -> FormParse:
    """The answers to the questions the candidate sees (skipped ones dropped), and what is wrong."""
    raw: dict[str, Any] = {}
    for item in spec.fields:  # a first pass for the skip rules: the choices as posted
        if item.kind in CHOICE_KINDS:
            raw[item.id] = [v for v in form.get(item.id, []) if v.strip()]
    answers: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for item in visible_fields(spec, raw):
        value, error = _one(item, list(form.get(item.id, [])), (files or {}).get(item.id))
        if error:
            errors[item.id] = error
        elif value is not None:
            answers[item.id] = value
    return FormParse(answers, errors)


def answer_text(item: FormField, value: Any) -> str:
    """What is quoted as evidence: "Yes", "3", "Mornings, Weekends", a file's name."""
    if isinstance(value, dict):
        return str(value.get("name", ""))
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _fails(item: FormField, value: Any) -> bool:
    rule = item.knockout
    if rule is None or value is None:
        return False
    if item.kind is FieldKind.NUMBER:
        number = float(value)
        return (rule.minimum is not None and number < rule.minimum) or (
            rule.maximum is not None and number > rule.maximum)
    if rule.accept:
        accepted = {a.casefold() for a in rule.accept}
        return not any(c.casefold() in accepted for c in _chosen(value))
    return False


async def judge_form(
    spec: StageSpec, answers: Mapping[str, Any], *, scorer: Scorer | None = None,
) -> StageOutcome:
    """Dealbreakers first (an answer outside a rule knocks out, quoted), then the rubric questions."""
    assert spec.form is not None
    shown = visible_fields(spec.form, answers)
    index = {f.id: i for i, f in enumerate(spec.form.fields)}
    failed = [(f, answer_text(f, answers[f.id])) for f in shown
              if f.id in answers and _fails(f, answers[f.id])]
    detail: dict[str, Any] = {"dealbreakers": [{"field": f.id, "answer": a} for f, a in failed]}
    scored = [f for f in shown if f.rubric is not None and f.id in answers]
    score, evidence = None, []
    if scored:
        card = await _score(spec.form, scored, answers, index, scorer)
        detail["card"] = card.model_dump(mode="json")
        score = card.overall
        evidence = [Evidence(q.text, f"Q{r.position + 1}") for r in card.questions for c in r.criteria
                    for q in c.quotes]
        if card.knockout is not None and not failed:
            item = spec.form.fields[card.knockout.question_position]
            failed = [(item, card.knockout.quote.text)]
    if failed:
        item, answer = failed[0]
        reason = f"{(item.knockout.reason if item.knockout else '') or item.label}: answered {answer}"
        log.info("stages.form.knockout", extra={"field": item.id, "reason": reason})
        return StageOutcome(passed=False, knocked_out=True, score=score, reason=reason,
                            evidence=(Evidence(answer, f"Q{index[item.id] + 1} {item.label}"),),
                            detail=detail)
    if spec.pass_score is None:
        return StageOutcome(passed=True, score=score, reason="form completed", evidence=tuple(evidence),
                            detail=detail)
    if score is None:
        return StageOutcome(passed=None, reason="the answers could not be scored: a person decides",
                            detail=detail)
    passed = score >= spec.pass_score
    side = "at or above" if passed else "below"
    return StageOutcome(passed=passed, score=score, reason=f"scored {score:g}, {side} the pass score "
                        f"{spec.pass_score:g}", evidence=tuple(evidence), detail=detail)


async def _score(
    form: FormSpec, scored: list[FormField], answers: Mapping[str, Any], index: dict[str, int],
    scorer: Scorer | None,
) -> Any:
    turns: list[Utterance] = []
    for item in scored:
        at = index[item.id]
        turns.append(Utterance(len(turns), INTERVIEWER, item.label, 0.0, 0.0, at))
        turns.append(Utterance(len(turns), CANDIDATE, answer_text(item, answers[item.id]), 0.0, 0.0, at))
    questions = [ScriptedQuestion(index[f.id], f.label, f.rubric) for f in scored]
    transcript = Transcript(tuple(turns))
    return await score_transcript(scorer or OfflineScorer(), questions, transcript, bands=Bands())
