"""The interview editor's form: parse and validate what a recruiter typed. Pure; no storage, no HTTP.

The same `InterviewForm` comes from an HTML form (repeated `q_*` fields, one per question, in
order, and `c_*` rubric rows: see `rubric_form`) or from the JSON API, and is what `Interviews`
stores.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from milo_voice.dialogue.script import AnswerShape
from milo_voice.scoring.rubric import QuestionRubric
from milo_voice.stages.types import StageSpec
from milo_voice.store.repo import Invalid
from milo_voice.workspace import rubric_form

MAX_QUESTIONS = 30
MAX_FOLLOW_UPS = 5
MAX_LOGO_BYTES = 200_000
"""Largest logo accepted (bytes); it is stored inline in the database and drawn on the poster."""
LOGO_TYPES = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}
"""Logo formats accepted, with their magic bytes (both can be drawn by fpdf2 on the poster)."""
LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


@dataclass(frozen=True, slots=True)
class QuestionForm:
    text: str
    shape: AnswerShape = AnswerShape.EXPLANATION
    follow_ups: tuple[str, ...] = ()
    max_follow_ups: int = 1
    wants_example: bool = False
    rubric: QuestionRubric | None = None
    """How answers are scored (the scoring area's type, stored as JSON); None: not scored."""


@dataclass(frozen=True, slots=True)
class InterviewForm:
    title: str
    questions: tuple[QuestionForm, ...]
    role: str = ""
    greeting: str = "Hello, and thank you for taking the time to talk with me today."
    """The welcome message: the first thing the interviewer says."""
    closing: str = "That was my last question. Thank you very much for your time, goodbye."
    language: str = "en"
    voice: str = ""
    thinking_silence: float | None = None
    """Seconds of silence allowed before an answer starts; None: the server's setting."""
    max_silence: float | None = None
    """Seconds of silence that end an answer; None: the server's setting."""
    logo: str | None = None
    """A data URL; None keeps the current logo, "" removes it."""
    retakes_allowed: int = 0
    """Retakes every candidate may take without asking a recruiter (0-5; see workspace/attempts.py)."""
    stages: tuple[StageSpec, ...] | None = None
    """The pipeline (issue 18); () is one voice stage; None keeps the stages the version has."""


def _text(value: object, name: str, limit: int, *, required: bool = False) -> str:
    text = str(value if value is not None else "").strip()
    if required and not text:
        raise Invalid(f"{name} is required")
    if len(text) > limit:
        raise Invalid(f"{name} is too long ({len(text)} characters; at most {limit})")
    return text


MAX_RETAKES = 5
"""At most this many retakes per interview setting (a recruiter can grant more, one candidate at a time)."""


def _seconds(value: object, name: str, low: float, high: float) -> float | None:
    if value is None or str(value).strip() == "":
        return None
    try:
        seconds = float(str(value))
    except ValueError:
        raise Invalid(f"{name}: {value!r} is not a number of seconds") from None
    if not low <= seconds <= high:
        raise Invalid(f"{name}: {seconds:g} s is outside {low:g}-{high:g} s")
    return seconds


def _int(value: object, name: str, low: int, high: int) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise Invalid(f"{name}: {value!r} is not a whole number") from None
    if not low <= number <= high:
        raise Invalid(f"{name}: {number} is outside {low}-{high}")
    return number


def question(data: Mapping[str, Any], number: int) -> QuestionForm:
    name = f"question {number}"
    shape = str(data.get("shape") or AnswerShape.EXPLANATION.value)
    try:
        answer_shape = AnswerShape(shape)
    except ValueError:
        raise Invalid(
            f"{name}: answer shape {shape!r} is not one of {', '.join(s.value for s in AnswerShape)}"
        ) from None
    raw = data.get("follow_ups") or ()
    lines = raw.splitlines() if isinstance(raw, str) else [str(x) for x in raw]
    follow_ups = tuple(_text(x, f"{name} follow-up", 500) for x in lines if str(x).strip())
    if len(follow_ups) > MAX_FOLLOW_UPS:
        raise Invalid(f"{name}: at most {MAX_FOLLOW_UPS} follow-up prompts")
    return QuestionForm(
        text=_text(data.get("text"), f"{name} text", 1000, required=True),
        shape=answer_shape,
        follow_ups=follow_ups,
        max_follow_ups=_int(data.get("max_follow_ups", 1), f"{name} follow-up limit", 0, MAX_FOLLOW_UPS),
        wants_example=str(data.get("wants_example", "")).lower() in ("1", "true", "on", "yes"),
        rubric=_rubric(data.get("rubric"), name),
    )


def _rubric(value: object, name: str) -> QuestionRubric | None:
    """A parsed rubric as is; a JSON object (the API) checked by the scoring area's model."""
    if value is None or isinstance(value, QuestionRubric):
        return value
    if not isinstance(value, Mapping):
        raise Invalid(f"{name}: the rubric must be an object with criteria")
    try:
        return QuestionRubric.model_validate(value)
    except ValidationError as exc:
        raise Invalid("; ".join(rubric_form.messages(exc, f"{name} rubric: "))) from None


def parse(data: Mapping[str, Any], questions: Sequence[Mapping[str, Any]]) -> InterviewForm:
    """Validate one interview; raises `Invalid` naming the first thing to fix."""
    parsed = tuple(question(q, i + 1) for i, q in enumerate(questions) if str(q.get("text", "")).strip())
    if not parsed:
        raise Invalid("an interview needs at least one question")
    if len(parsed) > MAX_QUESTIONS:
        raise Invalid(f"at most {MAX_QUESTIONS} questions")
    language = _text(data.get("language") or "en", "language", 20)
    if not LANGUAGE.match(language):
        raise Invalid(f"language {language!r}: expected a tag like en, en-GB or de")
    defaults = InterviewForm(title="", questions=())
    logo = data.get("logo")
    return InterviewForm(
        title=_text(data.get("title"), "title", 300, required=True),
        role=_text(data.get("role"), "role", 200),
        greeting=_text(data.get("greeting"), "welcome message", 2000) or defaults.greeting,
        closing=_text(data.get("closing"), "closing message", 2000) or defaults.closing,
        language=language,
        voice=_text(data.get("voice"), "voice", 100),
        thinking_silence=_seconds(data.get("thinking_silence"), "thinking time", 2.0, 60.0),
        max_silence=_seconds(data.get("max_silence"), "pause patience", 0.5, 15.0),
        logo=None if logo is None else check_logo(str(logo)),
        retakes_allowed=_int(data.get("retakes_allowed") or 0, "retakes allowed", 0, MAX_RETAKES),
        questions=parsed,
    )


def logo_data_url(content_type: str, data: bytes) -> str:
    """A data URL for an uploaded logo, after checking its size and that it really is PNG or JPEG."""
    if len(data) > MAX_LOGO_BYTES:
        raise Invalid(f"the logo is {len(data) // 1000} kB; at most {MAX_LOGO_BYTES // 1000} kB")
    for kind, magic in LOGO_TYPES.items():
        if data.startswith(magic):
            return f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"
    raise Invalid(f"the logo must be a PNG or JPEG image (got {content_type or 'an unknown type'})")


def check_logo(url: str) -> str:
    """Accept "" (no logo) or a data URL that decodes to a PNG or JPEG within the size limit."""
    if not url:
        return ""
    return logo_data_url("", logo_bytes(url))


def logo_bytes(url: str) -> bytes:
    match = re.match(r"^data:image/(png|jpeg);base64,([A-Za-z0-9+/=]+)$", url)
    if match is None:
        raise Invalid("the logo must be a data:image/png or data:image/jpeg base64 URL")
    try:
        return base64.b64decode(match.group(2), validate=True)
    except binascii.Error:
        raise Invalid("the logo's base64 data is damaged") from None


def form_questions(form: Any) -> list[dict[str, Any]]:
    """The repeated `q_text`, `q_shape`, `q_follow_ups`, `q_max_follow_ups`, `q_example`, `q_origin`
    fields of an HTML form as one dict per question (checkboxes are sent as the question's index),
    with its typed rubric rows under `criteria` (not parsed yet: `rubric_form.read_rubrics`)."""
    texts = form.getlist("q_text")
    shapes, follow_ups = form.getlist("q_shape"), form.getlist("q_follow_ups")
    limits, examples = form.getlist("q_max_follow_ups"), set(form.getlist("q_example"))
    origins, rows = form.getlist("q_origin"), rubric_form.form_rows(form)
    out = []
    for i, text in enumerate(texts):
        out.append(
            {
                "text": text,
                "shape": shapes[i] if i < len(shapes) else "",
                "follow_ups": follow_ups[i] if i < len(follow_ups) else "",
                "max_follow_ups": limits[i] if i < len(limits) else "1",
                "wants_example": "1" if str(i) in examples else "",
                "origin": str(origins[i]) if i < len(origins) else "",
                "criteria": rows.get(i, []),
            }
        )
    return out
