"""Rubric fields in the interview editor: rows posted as the page sends them become a valid
`QuestionRubric`; invalid rows are shown beside their question with what was typed; versions rise
only on a change; viewers and CSRF-less posts are refused; the offline scorer uses the edit."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from helpers import run  # tests/helpers.py
from scorer.scoring_builders import build_session  # tests/scorer/scoring_builders.py
from starlette.testclient import TestClient

from milo_voice.calls.session_store import SessionStore
from milo_voice.scoring.rubric import Criterion, CriterionKind, QuestionRubric
from milo_voice.scoring.service import build
from milo_voice.scoring.store import ScoringStore
from milo_voice.settings import Settings
from milo_voice.store.repo import Invalid
from milo_voice.workspace import editor, rubric_form
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.interviews import Interviews
from milo_voice.workspace.rubric_form import CriterionRow, RubricInvalid
from workspace.support import form_token

QUESTIONS = ["How would you calm down an angry customer?", "Can you work weekends?"]
EMPATHY = {
    "name": "Listens and acknowledges",
    "weight": "2",
    "a1": "Argues with the customer.",
    "a5": "Listens, acknowledges the frustration and apologises.",
    "keywords": "sorry, calm ,",
}
WEEKENDS = {"name": "Works weekends", "kind": "dealbreaker", "required": "yes"}
COLUMNS = ("id", "name", "kind", "weight", "a1", "a2", "a3", "a4", "a5", "required", "keywords", "delivery")


def editor_post(
    token: str, questions: list[str], rows: list[tuple[int, dict[str, str]]], **extra: Any
) -> dict:
    """The fields the editor page posts: `q_*` per question, parallel `c_*` per criterion row
    (two blank rows per question, as the page always renders them)."""
    data: dict[str, Any] = {
        "csrf_token": token,
        "title": "Support",
        "q_text": questions,
        "q_shape": ["explanation"] * len(questions),
        "q_follow_ups": [""] * len(questions),
        "q_max_follow_ups": ["1"] * len(questions),
        **extra,
    }
    blanks = [(q, {}) for q in range(len(questions)) for _ in range(2)]
    all_rows = rows + blanks
    data["c_q"] = [str(q) for q, _ in all_rows]
    for column in COLUMNS:
        default = {"kind": "scored", "weight": "1"}.get(column, "")
        data[f"c_{column}"] = [row.get(column, default) for _, row in all_rows]
    return data


class EditorForm(HTMLParser):
    """The fields the `#editor` form would submit, read from the page as a browser would."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.fields: dict[str, list[str]] = {}
        self._textarea: str | None = None
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []

    def add(self, name: str, value: str) -> None:
        self.fields.setdefault(name, []).append(value)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "input" and a.get("name") and a.get("type") != "file":
            if a.get("type") != "checkbox" or "checked" in a:
                self.add(a["name"], a.get("value", ""))
        elif tag == "textarea":
            self._textarea = a["name"]
            self.add(self._textarea, "")
        elif tag == "select":
            self._select, self._options = a["name"], []
        elif tag == "option":
            self._options.append((a.get("value", ""), "selected" in a))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self.fields[self._textarea][-1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "select" and self._select is not None:
            chosen = [v for v, on in self._options if on] or [self._options[0][0]]
            self.add(self._select, chosen[0])
            self._select = None


def submitted_form(page: str) -> dict[str, list[str]]:
    start = page.index('id="editor"')
    parser = EditorForm()
    parser.feed(page[start : page.index("</form>", start)])
    return parser.fields


def rubrics(store: SessionStore, slug: str) -> list[QuestionRubric | None]:
    latest = Interviews(store.engine).latest(slug)
    return [q.rubric for q in ScoringStore(store.engine).questions(latest.id or 0)]


def create(admin: TestClient, rows: list[tuple[int, dict[str, str]]]) -> str:
    token = form_token(admin, "/app/interviews/new")
    response = admin.post("/app/interviews", data=editor_post(token, QUESTIONS, rows), follow_redirects=False)
    assert response.status_code == 303, response.text
    return response.headers["location"].rsplit("/", 1)[1]


def test_posted_rubric_rows_are_stored_as_a_valid_question_rubric(
    admin: TestClient, store: SessionStore
) -> None:
    slug = create(admin, [(0, EMPATHY), (1, WEEKENDS)])
    first, second = rubrics(store, slug)
    assert first == QuestionRubric(
        criteria=(
            Criterion(
                id="listens_and_acknowledges",  # derived from the name when left empty
                name="Listens and acknowledges",
                weight=2.0,
                anchors={1: EMPATHY["a1"], 5: EMPATHY["a5"]},
                keywords=("sorry", "calm"),
            ),
        )
    )
    assert second == QuestionRubric(
        criteria=(
            Criterion(
                id="works_weekends",
                name="Works weekends",
                kind=CriterionKind.DEALBREAKER,
                required_answer="yes",
            ),
        )
    )
    page = admin.get(f"/app/interviews/{slug}/edit").text
    assert 'value="Listens and acknowledges"' in page and 'value="sorry, calm"' in page
    assert "1 criteria, version 1" in page


def test_a_question_with_only_blank_rows_is_not_scored(admin: TestClient, store: SessionStore) -> None:
    slug = create(admin, [(1, WEEKENDS)])
    assert rubrics(store, slug)[0] is None and rubrics(store, slug)[1] is not None


def test_an_invalid_rubric_is_shown_beside_its_question_with_what_was_typed_and_nothing_is_stored(
    admin: TestClient, store: SessionStore
) -> None:
    token = form_token(admin, "/app/interviews/new")
    no_anchor_5 = {"name": "Calms <b>them</b>", "a1": "Shouts back at them."}
    no_answer = {"name": "Works weekends", "kind": "dealbreaker"}
    response = admin.post(
        "/app/interviews",
        data=editor_post(token, QUESTIONS, [(0, EMPATHY), (1, no_anchor_5), (1, no_answer)]),
    )
    assert response.status_code == 400
    assert "some rubrics need fixing" in response.text
    first, second = response.text.split('<li class="question">')[1:]
    assert "rubric-errors" not in first and 'value="Listens and acknowledges"' in first
    errors = second.split('class="error rubric-errors"')[1].split("</ul>")[0]
    assert "criterion 1 (Calms &lt;b&gt;them&lt;/b&gt;): scored criterion" in errors
    assert "needs anchors for 1 and 5 at least" in errors
    assert (
        "criterion 2 (Works weekends): dealbreaker &#39;works_weekends&#39; needs the required answer"
        in errors
    )
    assert QUESTIONS[1] in second and 'value="Calms &lt;b&gt;them&lt;/b&gt;"' in second  # as typed, escaped
    assert ">Shouts back at them.</textarea>" in second
    assert '<option value="dealbreaker" selected>' in second
    assert Interviews(store.engine).summaries() == []

    # Saved, the form shows the rows again; an edit with a broken rubric changes nothing.
    slug = create(admin, [(0, EMPATHY)])
    before = rubrics(store, slug)
    broken = editor_post(
        token, QUESTIONS, [(0, {**EMPATHY, "a5": "", "weight": "lots"})], q_origin=["0", "1"]
    )
    response = admin.post(f"/app/interviews/{slug}/edit", data=broken)
    assert response.status_code == 400 and "weight: Input should be a valid number" in response.text
    assert rubrics(store, slug) == before


def test_the_rubric_version_rises_only_when_the_rubric_changed(
    admin: TestClient, store: SessionStore
) -> None:
    slug = create(admin, [(0, EMPATHY), (1, WEEKENDS)])
    token = form_token(admin, "/app/interviews/new")

    def resubmit(change: dict[str, list[str]] | None = None) -> None:
        fields = submitted_form(admin.get(f"/app/interviews/{slug}/edit").text)
        fields.update(change or {})
        response = admin.post(f"/app/interviews/{slug}/edit", data=fields, follow_redirects=False)
        assert response.status_code == 303, response.text

    def versions() -> list[int]:
        return [r.version if r else 0 for r in rubrics(store, slug)]

    resubmit()  # the page's own form, posted as is: a draft edited in place, nothing changed
    assert versions() == [1, 1] and Interviews(store.engine).latest(slug).version == 1
    fields = submitted_form(admin.get(f"/app/interviews/{slug}/edit").text)
    anchors = fields["c_a5"]
    resubmit({"c_a5": ["Listens, says sorry and apologises.", *anchors[1:]]})
    assert versions() == [2, 1]

    admin.post(f"/app/interviews/{slug}/publish", data={"csrf_token": token})
    resubmit()  # a published interview gets a new interview version; the rubrics are the same
    assert Interviews(store.engine).latest(slug).version == 2 and versions() == [2, 1]

    # Reordered with the page's buttons (the rows and origins move with their question), one changed.
    fields = submitted_form(admin.get(f"/app/interviews/{slug}/edit").text)
    swapped = {k: v[::-1] for k, v in fields.items() if k.startswith("q_") and len(v) == 2}
    rows = list(zip(*(fields[f"c_{c}"] for c in ("q", *COLUMNS)), strict=True))
    rows = [r for r in rows if r[0] == "1"] + [r for r in rows if r[0] == "0"]
    columns = {f"c_{c}": list(v) for c, v in zip(("q", *COLUMNS), zip(*rows, strict=True), strict=True)}
    columns["c_q"] = ["0" if q == "1" else "1" for q in columns["c_q"]]
    columns["c_required"] = ["yes, every weekend" if r == "yes" else r for r in columns["c_required"]]
    response = admin.post(
        f"/app/interviews/{slug}/edit", data={**fields, **swapped, **columns}, follow_redirects=False
    )
    assert response.status_code == 303
    assert Interviews(store.engine).latest(slug).version == 3
    new_first, new_second = rubrics(store, slug)
    assert new_first is not None and new_first.criteria[0].name == "Works weekends" and new_first.version == 2
    assert (
        new_second is not None and new_second.criteria[0].name == EMPATHY["name"] and new_second.version == 2
    )


def test_viewers_and_posts_without_csrf_cannot_change_a_rubric(
    admin: TestClient, viewer: TestClient, store: SessionStore
) -> None:
    slug = create(admin, [(0, EMPATHY)])
    before = rubrics(store, slug)
    changed = [(0, {**EMPATHY, "a5": "Anything at all."})]
    viewer_token = form_token(viewer, "/app/candidates")
    refused = viewer.post(f"/app/interviews/{slug}/edit", data=editor_post(viewer_token, QUESTIONS, changed))
    assert refused.status_code == 403
    assert (
        viewer.post("/app/interviews", data=editor_post(viewer_token, QUESTIONS, changed)).status_code == 403
    )
    no_csrf = editor_post("", QUESTIONS, changed)
    del no_csrf["csrf_token"]
    assert admin.post(f"/app/interviews/{slug}/edit", data=no_csrf).status_code == 403
    assert rubrics(store, slug) == before and len(Interviews(store.engine).summaries()) == 1


def test_the_offline_scorer_uses_the_rubric_from_the_editor(
    admin: TestClient, settings: Settings, store: SessionStore
) -> None:
    slug = create(admin, [(0, EMPATHY), (1, WEEKENDS)])
    token = form_token(admin, "/app/interviews/new")
    admin.post(f"/app/interviews/{slug}/publish", data={"csrf_token": token})
    refund = {**EMPATHY, "a5": "Offers a refund voucher.", "keywords": ""}
    edited = editor_post(token, QUESTIONS, [(0, refund), (1, WEEKENDS)], q_origin=["0", "1"])
    assert admin.post(f"/app/interviews/{slug}/edit", data=edited, follow_redirects=False).status_code == 303
    latest = Interviews(store.engine).latest(slug)
    assert latest.id is not None
    answers = {0: "I would offer a refund voucher straight away.", 1: "Yes, weekends are fine."}
    script = Interviews(store.engine).script(latest.id)
    built = build_session(store, answers, script=script, interview_id=latest.id)
    runtime = build(settings, store.engine, Candidates(store.engine))
    runtime.service.enqueue_scoring(built.session_id)
    assert run(runtime.worker.run_until_idle) == 1
    card = ScoringStore(store.engine).latest_card(built.session_id)
    assert card is not None and card.scorer == "offline" and card.knockout is None
    assert card.rubric_versions == {"0": 2, "1": 1}
    empathy = card.questions[0].criteria[0]
    assert empathy.score == 5 and '"refund", "voucher"' in empathy.rationale


def test_rubric_rows_parse_and_name_every_problem() -> None:
    rubric = rubric_form.rubric_of(
        [
            CriterionRow(name="Says sorry", kind="pass_fail", anchors=("", "", "", "", "Apologises.")),
            CriterionRow(),  # blank rows are ignored
        ]
    )
    assert rubric is not None and rubric.criteria[0].id == "says_sorry" and rubric.version == 1
    assert rubric_form.rubric_of([CriterionRow(), CriterionRow(weight="3")]) is None
    assert rubric_form.rows_of(rubric)[0].anchors[4] == "Apologises."
    with pytest.raises(RubricInvalid) as caught:
        rubric_form.rubric_of(
            [
                CriterionRow(name="Same", kind="pass_fail", anchors=("", "", "", "", "x")),
                CriterionRow(name="Same", kind="dealbreaker", required="yes"),
            ]
        )
    assert caught.value.messages == ["criteria: criterion ids must be unique; repeated: ['same']"]
    with pytest.raises(RubricInvalid) as caught:
        rubric_form.rubric_of(
            [
                CriterionRow(anchors=("a", "", "", "", "b")),
                CriterionRow(name="Odd", id="Not An Id", kind="poem", anchors=("a", "", "", "", "b")),
            ]
        )
    assert caught.value.messages[0] == "criterion 1: a name is required"
    assert any(
        re.match(r"criterion 2 \(Odd\): id: String should match pattern", m) for m in caught.value.messages
    )
    assert any(
        m.startswith("criterion 2 (Odd): kind: Input should be 'scored'") for m in caught.value.messages
    )

    old = rubric.model_copy(update={"version": 4})
    assert rubric_form.carry_version(rubric, old) == old
    assert rubric_form.carry_version(rubric.model_copy(update={"criteria": old.criteria * 1}), None) == rubric
    changed = rubric_form.rubric_of([CriterionRow(name="Says sorry", kind="dealbreaker", required="sorry")])
    carried = rubric_form.carry_version(changed, old)
    assert carried is not None and carried.version == 5
    assert rubric_form.carry_version(None, old) is None


def test_the_json_api_form_takes_a_rubric_object_and_refuses_a_bad_one() -> None:
    rubric = {
        "criteria": [
            {"id": "permit", "name": "Right to work", "kind": "dealbreaker", "required_answer": "yes"}
        ]
    }
    parsed = editor.parse({"title": "T"}, [{"text": "Q", "rubric": rubric}])
    assert parsed.questions[0].rubric == QuestionRubric.model_validate(rubric)
    with pytest.raises(
        Invalid, match=r"question 1 rubric: criteria\.0: scored criterion 'x' needs anchors for 1 and 5"
    ):
        editor.parse({"title": "T"}, [{"text": "Q", "rubric": {"criteria": [{"id": "x", "name": "X"}]}}])
