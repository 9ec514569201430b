"""A form stage: which questions show (skip logic), what the candidate's answers are (validated, with a
message a candidate understands), and how they are judged (dealbreakers, rubric). Pure but for the
scorer, which may be an LLM.

Answers are JSON-able as stored on the stage row: text, a date (YYYY-MM-DD), a single choice and yes/no
are `str` (a choice in the option's own spelling), a multiple choice is `list[str]`, a number is `float`
and a file is `{"name", "size", "path"}`. Only valid answers to the questions the candidate sees are
kept: a skipped question's answer is dropped, an invalid one comes back as an error instead.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from milo_voice.scoring.card import ScriptedQuestion, score_transcript
from milo_voice.scoring.offline import OfflineScorer
from milo_voice.scoring.result import ScoreCard
from milo_voice.scoring.rubric import Bands, CriterionKind
from milo_voice.scoring.scorer import Scorer
from milo_voice.scoring.transcript import CANDIDATE, INTERVIEWER, Transcript, Utterance
from milo_voice.stages.outcome import by_score
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
NO_FILE = "Please choose a file to upload."
EMPTY_FILE = "That file is empty. Please choose the file again."
NOT_AN_OPTION = "Please choose one of the options."
ONE_OPTION = "Please choose only one option."
DATE_FORMAT = "Please enter a date as YYYY-MM-DD."
NO_SUCH_DATE = "That date does not exist. Please check the day and month (YYYY-MM-DD)."
DATE_RANGE = "Please enter a date between 1900 and 2100."
THOUSANDS = "Please write the number without a thousands separator (1000, not 1,000)."
TEXT_LIMIT = {FieldKind.SHORT_TEXT: 300, FieldKind.LONG_TEXT: 5000}
"""The most characters a text answer may have when its question sets no maximum."""
YEARS = (1900, 2100)
_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)")
_THOUSANDS = re.compile(r"[+-]?[1-9]\d{0,2},\d{3}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """A file the candidate attached, as the web layer saved it (size limits are the web layer's)."""

    name: str
    size: int
    path: str
    content_type: str = ""


@dataclass(frozen=True, slots=True)
class FormParse:
    """A posted form read against its spec: the valid answers to the visible questions, and what is wrong
    (question id -> a message for the candidate)."""

    answers: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def _chosen(value: Any) -> list[str]:
    """An answer as the list of what was picked (one item for a single value, none for no answer)."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [str(value)]


def visible_fields(spec: FormSpec, answers: Mapping[str, Any]) -> list[FormField]:
    """The questions the candidate sees, in order, after the skip rules their answers trigger: an answer
    equal to a rule's `when` (any case; for multiple choice, one of those picked) skips every question
    up to the rule's `to` (or all the rest for `end`). A skipped question's own rules do not apply."""
    shown: list[FormField] = []
    skip_to: str | None = None
    for item in spec.fields:
        if skip_to is not None:
            if item.id != skip_to:
                continue
            skip_to = None
        shown.append(item)
        if item.kind not in CHOICE_KINDS:
            continue
        picked = {c.strip().casefold() for c in _chosen(answers.get(item.id))}
        for rule in item.skip:
            if rule.when.casefold() in picked:
                skip_to = rule.to
                break
        if skip_to == END:
            break
    return shown


def _fmt(number: float) -> str:
    """A number as a candidate writes it: 40, 2.5."""
    return str(int(number)) if number.is_integer() and abs(number) < 1e15 else str(number)


def _number(text: str, item: FormField) -> tuple[float | None, str]:
    low, high = item.minimum, item.maximum
    span = ""
    if low is not None and high is not None:
        span = f" between {_fmt(low)} and {_fmt(high)}"
    elif low is not None:
        span = f" of at least {_fmt(low)}"
    elif high is not None:
        span = f" of at most {_fmt(high)}"
    compact = text.replace(" ", "")
    if _THOUSANDS.fullmatch(compact):
        return None, THOUSANDS
    value = float(compact.replace(",", ".")) if _NUMBER.fullmatch(compact) else math.nan
    if not math.isfinite(value) or (low is not None and value < low) or (high is not None and value > high):
        return None, f"Please enter a number{span}."
    return value + 0.0, ""  # + 0.0: no "-0"


def _date(text: str) -> tuple[str | None, str]:
    if not _DATE.fullmatch(text):
        return None, DATE_FORMAT
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None, NO_SUCH_DATE
    if not YEARS[0] <= day.year <= YEARS[1]:
        return None, DATE_RANGE
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
    picked = [by_key.get(v.casefold()) for v in values]
    if any(p is None for p in picked):
        return None, NOT_AN_OPTION
    if item.kind is FieldKind.MULTI_CHOICE:
        return list(dict.fromkeys(p for p in picked if p)), ""
    if len(set(picked)) > 1:
        return None, ONE_OPTION
    return picked[0], ""


def _clean(value: str) -> str:
    """A posted value stripped, with browsers' CRLF line ends as one character and no NUL bytes."""
    return value.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").strip()


def _one(item: FormField, values: list[str], upload: UploadedFile | None) -> tuple[Any, str]:
    """(value, error) for one visible question; (None, "") when it is left empty and optional."""
    if item.kind is FieldKind.FILE:
        if upload is None:
            return None, NO_FILE if item.required else ""
        if upload.size <= 0:
            return None, EMPTY_FILE
        return {"name": upload.name, "size": upload.size, "path": upload.path}, ""
    texts = [t for t in (_clean(v) for v in values) if t]
    if not texts:
        return None, REQUIRED if item.required else ""
    if item.kind in CHOICE_KINDS:
        return _choice(texts, item)
    if item.kind is FieldKind.NUMBER:
        return _number(texts[0], item)
    if item.kind is FieldKind.DATE:
        return _date(texts[0])
    return _text(texts[0], item)


def parse_answers(
    spec: FormSpec, form: Mapping[str, list[str]], files: Mapping[str, UploadedFile] | None = None,
) -> FormParse:
    """Read a posted form (`form`: every value of each name, in order, as an HTML form posts it; `files`:
    the uploads by question id): the answers to the questions the candidate sees (skipped ones and
    unknown names dropped), and a message for each visible question that is missing or invalid."""
    posted = {item.id: [_clean(v) for v in form.get(item.id, [])] for item in spec.fields
              if item.kind in CHOICE_KINDS}  # the choices as posted decide the skips
    answers: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for item in visible_fields(spec, posted):
        value, error = _one(item, list(form.get(item.id, [])), (files or {}).get(item.id))
        if error:
            errors[item.id] = error
        elif value is not None:
            answers[item.id] = value
    return FormParse(answers, errors)


def answer_text(item: FormField, value: Any) -> str:
    """What is quoted as evidence: "Yes", "3", "Red, Blue", a file's name."""
    if isinstance(value, dict):
        return str(value.get("name", ""))
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float):
        return _fmt(value)
    return str(value)


def _answered(value: Any) -> bool:
    return value is not None and bool(_chosen(value)) and any(v.strip() for v in _chosen(value))


def _fails(item: FormField, value: Any) -> bool:
    """Whether `value` is outside the question's dealbreaker (an empty answer never is)."""
    rule = item.knockout
    if rule is None or not _answered(value):
        return False
    if item.kind is FieldKind.NUMBER and (rule.minimum is not None or rule.maximum is not None):
        try:
            number = float(value)
        except (TypeError, ValueError):
            return False
        return (rule.minimum is not None and number < rule.minimum) or (
            rule.maximum is not None and number > rule.maximum)
    if rule.accept and item.kind is not FieldKind.FILE:
        accepted = {a.strip().casefold() for a in rule.accept}
        picked = [answer_text(item, value)] if item.kind is FieldKind.NUMBER else _chosen(value)
        return not any(c.strip().casefold() in accepted for c in picked)
    return False


def _source(spec: FormSpec, item: FormField) -> str:
    return f"Q{spec.fields.index(item) + 1} {item.label}"


def _dealbreakers(spec: FormSpec, shown: list[FormField], answers: Mapping[str, Any]) -> list[dict[str, str]]:
    """Every answer outside its question's dealbreaker, in question order."""
    failed = []
    for item in shown:
        if item.knockout is not None and _fails(item, answers.get(item.id)):
            answer = answer_text(item, answers[item.id])
            failed.append({"field": item.id, "label": item.label, "answer": answer,
                           "reason": f"{item.knockout.reason or item.label}: answered {answer}",
                           "source": _source(spec, item)})
    return failed


async def _card(
    spec: FormSpec, scored: list[FormField], answers: Mapping[str, Any], scorer: Scorer | None,
) -> ScoreCard:
    """The rubric questions scored like an interview: each label asked, each answer one candidate turn."""
    turns: list[Utterance] = []
    for item in scored:
        at = spec.fields.index(item)
        turns.append(Utterance(len(turns), INTERVIEWER, item.label, 0.0, 0.0, at, kind="question"))
        turns.append(Utterance(len(turns), CANDIDATE, answer_text(item, answers[item.id]), 0.0, 0.0, at,
                               kind="answer"))
    questions = [ScriptedQuestion(spec.fields.index(f), f.label, f.rubric) for f in scored]
    transcript = Transcript(tuple(turns))
    return await score_transcript(scorer or OfflineScorer(), questions, transcript, bands=Bands())


def _open_dealbreakers(card: ScoreCard) -> list[str]:
    """Rubric dealbreakers the card could not settle (undecided, or failed without a verified quote)."""
    found = []
    for question in card.questions:
        for c in question.criteria:
            unsettled = c.passed is None or (c.passed is False and not c.quotes)
            if c.kind is CriterionKind.DEALBREAKER and unsettled:
                found.append(f"Q{question.position + 1} dealbreaker {c.name!r} could not be settled")
    return found


def _knocked_out(failed: list[dict[str, str]], score: float | None, detail: dict[str, Any]) -> StageOutcome:
    first = failed[0]
    for item in failed:
        log.info("stages.form.knockout", extra={"field": item["field"], "reason": item["reason"],
                                                "decides": item is first})
    evidence = tuple(Evidence(quote=f["answer"], source=f["source"]) for f in failed)
    return StageOutcome(passed=False, knocked_out=True, score=score, reason=first["reason"],
                        evidence=evidence, detail=detail)


async def judge_form(
    spec: StageSpec, answers: Mapping[str, Any], *, scorer: Scorer | None = None,
) -> StageOutcome:
    """Judge a form stage's `answers` (as `parse_answers` returned them; skipped ones are ignored).

    Dealbreakers first: an answer outside a question's rule knocks the candidate out, quoted; the first
    one (in question order) is the reason, all are in `detail["dealbreakers"]`. Then the questions with a
    rubric are scored (offline unless `scorer` says otherwise), their quotes verified against the answers;
    a rubric dealbreaker failed with a verified quote knocks out too. Otherwise the candidate passes when
    the stage has no pass score or the score reaches it; a person decides when there is no score to
    compare or a rubric dealbreaker is unsettled.
    """
    if spec.form is None:
        raise ValueError("judge_form needs a form stage (spec.form is not set)")
    form = spec.form
    shown = visible_fields(form, answers)
    failed = _dealbreakers(form, shown, answers)
    detail: dict[str, Any] = {"dealbreakers": failed}
    scored = [f for f in shown if f.rubric is not None and _answered(answers.get(f.id))]
    card = await _card(form, scored, answers, scorer) if scored else None
    score: float | None = None
    evidence: tuple[Evidence, ...] = ()
    if card is not None:
        detail["card"] = card.model_dump(mode="json")
        score = card.overall
        evidence = tuple(Evidence(q.text, _source(form, form.fields[r.position])) for r in card.questions
                         for c in r.criteria for q in c.quotes)
        if card.knockout is not None:
            item = form.fields[card.knockout.question_position]
            failed.append({"field": item.id, "label": item.label, "answer": card.knockout.quote.text,
                           "reason": card.knockout.reason, "source": _source(form, item)})
    if failed:
        return _knocked_out(failed, score, detail)
    unsettled = _open_dealbreakers(card) if card is not None else []
    if unsettled:
        return StageOutcome(passed=None, score=score, reason="; ".join(unsettled) + ": a person decides",
                            evidence=evidence, detail=detail)
    unscored = f"the answers could not be scored against the pass score {spec.pass_score or 0:g}"
    return by_score(score, spec.pass_score, done="form completed", evidence=evidence, detail=detail,
                    unscored=unscored)
