"""The rubric rows of the interview editor: what an admin typed, checked by the scoring area's own
`QuestionRubric` model. Pure; no storage, no HTTP.

HTML forms cannot nest, so every criterion row of every question sends the same parallel fields
(`c_q` = the question's index in the form, `c_id`, `c_name`, `c_kind`, `c_weight`, `c_a1`..`c_a5`,
`c_required`, `c_keywords`, `c_delivery`) and rows are grouped by `c_q`. Blank rows are ignored,
so the page always offers a few empty ones and works without JavaScript. Rows stay strings until
they validate, so a form that fails re-shows exactly what was typed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from milo_voice.scoring.rubric import SCALE, Criterion, CriterionKind, QuestionRubric, slug_id
from milo_voice.store.repo import Invalid

BLANK_ROWS = 2
"""Empty criterion rows shown under each question (more can be added with JavaScript or by saving)."""
MAX_CRITERIA = 20
KINDS = [k.value for k in CriterionKind]


@dataclass(frozen=True, slots=True)
class CriterionRow:
    """One criterion as typed (all text), for parsing and for re-showing the form."""

    id: str = ""
    name: str = ""
    kind: str = CriterionKind.SCORED.value
    weight: str = "1"
    anchors: tuple[str, ...] = ("",) * len(SCALE)
    """Anchor texts for 1..5, in order."""
    required: str = ""
    keywords: str = ""
    delivery: bool = False

    @property
    def blank(self) -> bool:
        return not any(s.strip() for s in (self.id, self.name, self.required, self.keywords, *self.anchors))


class RubricInvalid(Invalid):
    """A question's rubric rows do not make a valid rubric; `messages` name each problem."""

    def __init__(self, messages: Sequence[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = list(messages)


def rows_of(rubric: QuestionRubric | None) -> list[CriterionRow]:
    """A stored rubric as editor rows."""
    if rubric is None:
        return []
    return [
        CriterionRow(
            id=c.id,
            name=c.name,
            kind=c.kind.value,
            weight=f"{c.weight:g}",
            anchors=tuple(c.anchors.get(n, "") for n in SCALE),
            required=c.required_answer,
            keywords=", ".join(c.keywords),
            delivery=c.listens_to_delivery,
        )
        for c in rubric.criteria
    ]


def with_blanks(rows: Sequence[CriterionRow]) -> list[CriterionRow]:
    """The rows worth showing again (blank ones dropped) plus `BLANK_ROWS` empty ones."""
    return [r for r in rows if not r.blank] + [CriterionRow() for _ in range(BLANK_ROWS)]


def form_rows(form: Any) -> dict[int, list[CriterionRow]]:
    """Criterion rows of an HTML form (a Starlette `FormData`), grouped by question index."""
    marks = [str(x) for x in form.getlist("c_q")]
    columns = {
        name: [str(x) for x in form.getlist(f"c_{name}")]
        for name in ("id", "name", "kind", "weight", "required", "keywords", "delivery")
    }
    anchors = [[str(x) for x in form.getlist(f"c_a{n}")] for n in SCALE]

    def at(values: list[str], i: int, default: str = "") -> str:
        return values[i] if i < len(values) else default

    grouped: dict[int, list[CriterionRow]] = {}
    for i, mark in enumerate(marks):
        if not mark.isdigit():
            continue
        grouped.setdefault(int(mark), []).append(
            CriterionRow(
                id=at(columns["id"], i),
                name=at(columns["name"], i),
                kind=at(columns["kind"], i, CriterionKind.SCORED.value),
                weight=at(columns["weight"], i, "1"),
                anchors=tuple(at(a, i) for a in anchors),
                required=at(columns["required"], i),
                keywords=at(columns["keywords"], i),
                delivery=at(columns["delivery"], i).lower() in ("1", "yes", "true", "on"),
            )
        )
    return grouped


def messages(exc: ValidationError, prefix: str = "") -> list[str]:
    """Pydantic's errors as sentences an admin can act on ("weight: Input should be a valid number")."""
    out = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"])
        text = str(error["msg"]).removeprefix("Value error, ")
        out.append(f"{prefix}{where + ': ' if where else ''}{text}")
    return out


def _criterion(row: CriterionRow) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": row.id.strip() or slug_id(row.name),
        "name": row.name.strip(),
        "kind": row.kind.strip(),
        "anchors": {n: text for n, text in zip(SCALE, row.anchors, strict=False) if text.strip()},
        "required_answer": row.required.strip(),
        "keywords": tuple(k.strip() for k in row.keywords.split(",") if k.strip()),
        "listens_to_delivery": row.delivery,
    }
    if row.weight.strip():
        data["weight"] = row.weight.strip()
    return data


def rubric_of(rows: Sequence[CriterionRow]) -> QuestionRubric | None:
    """The rubric the rows describe (version 1); None when every row is blank (question not scored)."""
    filled = [r for r in rows if not r.blank]
    if not filled:
        return None
    if len(filled) > MAX_CRITERIA:
        raise RubricInvalid([f"at most {MAX_CRITERIA} criteria per question"])
    problems: list[str] = []
    criteria: list[Criterion] = []
    for number, row in enumerate(filled, start=1):
        label = f"criterion {number}" + (f" ({row.name.strip()})" if row.name.strip() else "")
        if not row.name.strip():
            problems.append(f"{label}: a name is required")
            continue
        try:
            criteria.append(Criterion.model_validate(_criterion(row)))
        except ValidationError as exc:
            problems += messages(exc, f"{label}: ")
    if problems:
        raise RubricInvalid(problems)
    try:
        return QuestionRubric(criteria=tuple(criteria))
    except ValidationError as exc:
        raise RubricInvalid(messages(exc)) from None


def carry_version(new: QuestionRubric | None, old: QuestionRubric | None) -> QuestionRubric | None:
    """`new` numbered after `old`: the same version when nothing changed, the next one when it did.

    The same rule as `Interviews.set_rubric`, applied before saving because an edit stores new
    question rows (a new interview version, or a draft's rows replaced).
    """
    if new is None or old is None:
        return None if new is None else new.model_copy(update={"version": 1})
    same = new.model_copy(update={"version": old.version}) == old
    return new.model_copy(update={"version": old.version if same else old.version + 1})


def read_rubrics(
    questions: Sequence[dict[str, Any]], previous: Mapping[int, QuestionRubric | None]
) -> dict[int, list[str]]:
    """Parse each question's `criteria` rows into its `rubric` (versioned after the rubric of the
    stored question it was loaded from, `origin`); returns the problems by question index."""
    problems: dict[int, list[str]] = {}
    for index, question in enumerate(questions):
        try:
            rubric = rubric_of(question.get("criteria", ()))
        except RubricInvalid as exc:
            problems[index] = exc.messages
            continue
        origin = str(question.get("origin", ""))
        question["rubric"] = carry_version(rubric, previous.get(int(origin)) if origin.isdigit() else None)
    return problems
