"""Interviews: the editor form, versions on edit, publish, duplicate, templates and archive."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from starlette.testclient import TestClient

from milo_voice.calls.run import server_turn_params, turn_params_for
from milo_voice.calls.session_store import SessionStore
from milo_voice.settings import Settings
from milo_voice.store.repo import Invalid
from milo_voice.web.app import create_app
from milo_voice.workspace import editor
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.editor import InterviewForm, QuestionForm
from milo_voice.workspace.interviews import Interviews
from workspace.support import ADMIN, form_token, login

FORM = InterviewForm(
    title="Barista",
    role="Barista",
    questions=(
        QuestionForm("Why coffee?"),
        QuestionForm("Tell me about a rush hour.", follow_ups=("And then?",)),
    ),
)
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da"
    "63f8cfc0f01f0005000201a5f1f5b90000000049454e44ae426082"
)


def test_editing_a_published_interview_adds_a_version_and_candidates_keep_theirs(store: SessionStore) -> None:
    interviews, candidates = Interviews(store.engine), Candidates(store.engine)
    v1 = interviews.create(FORM)
    assert (v1.version, v1.status) == (1, "draft")
    with pytest.raises(Invalid, match="publish it first"):
        candidates.add(slug=v1.slug, name="Early")
    draft_edit = interviews.save(v1.slug, FORM)  # a draft is edited in place
    assert draft_edit.id == v1.id and draft_edit.version == 1
    interviews.publish(v1.slug)
    first = candidates.add(slug=v1.slug, name="First")
    changed = InterviewForm(title="Barista", questions=(QuestionForm("What is a flat white?"),))
    v2 = interviews.save(v1.slug, changed)
    assert (v2.version, v2.status, v2.slug) == (2, "published", v1.slug)
    second = candidates.add(slug=v1.slug, name="Second")
    assert first.interview_id == v1.id and second.interview_id == v2.id
    assert Interviews(store.engine).script(first.interview_id).questions[0].text == "Why coffee?"
    assert Interviews(store.engine).script(second.interview_id).questions[0].text == "What is a flat white?"
    assert [v.version for v in interviews.versions(v1.slug)] == [2, 1]
    [summary] = interviews.summaries()
    assert (summary.interview.version, summary.candidates, summary.versions) == (2, 2, 2)


def test_duplicate_templates_and_archive(store: SessionStore) -> None:
    interviews = Interviews(store.engine)
    original = interviews.create(FORM)
    copy = interviews.duplicate(original.slug)
    assert copy.slug != original.slug and copy.title == "Barista (copy)" and copy.status == "draft"
    assert interviews.form(copy).questions == FORM.questions
    interviews.set_template(original.slug, True)
    assert [s.interview.slug for s in interviews.summaries(templates=True)] == [original.slug]
    from_template = interviews.duplicate(original.slug)
    assert from_template.title == "Barista" and not from_template.is_template
    interviews.set_archived(copy.slug, True)
    assert copy.slug not in {s.interview.slug for s in interviews.summaries()}
    assert [s.interview.slug for s in interviews.summaries(archived=True)] == [copy.slug]
    with pytest.raises(Invalid, match="unarchive"):
        interviews.publish(copy.slug)


def test_the_editor_refuses_bad_input_by_name() -> None:
    ok = {"title": "T"}
    with pytest.raises(Invalid, match="at least one question"):
        editor.parse(ok, [{"text": "  "}])
    with pytest.raises(Invalid, match="title is required"):
        editor.parse({}, [{"text": "Q"}])
    with pytest.raises(Invalid, match="answer shape 'poem'"):
        editor.parse(ok, [{"text": "Q", "shape": "poem"}])
    with pytest.raises(Invalid, match="thinking time: 500 s"):
        editor.parse({**ok, "thinking_silence": "500"}, [{"text": "Q"}])
    with pytest.raises(Invalid, match="language"):
        editor.parse({**ok, "language": "english please"}, [{"text": "Q"}])
    with pytest.raises(Invalid, match="PNG or JPEG"):
        editor.logo_data_url("image/gif", b"GIF89a....")
    with pytest.raises(Invalid, match="at most 200 kB"):
        editor.logo_data_url("image/png", PNG + b"\0" * 200_000)
    parsed = editor.parse(
        {**ok, "max_silence": "3.5"},
        [{"text": "Q", "follow_ups": "a\n\nb", "max_follow_ups": "2", "wants_example": "1"}],
    )
    assert parsed.max_silence == 3.5
    assert parsed.questions[0] == QuestionForm(
        "Q", follow_ups=("a", "b"), max_follow_ups=2, wants_example=True
    )


def test_create_edit_publish_through_the_pages(admin: TestClient, store: SessionStore) -> None:
    token = form_token(admin, "/app/interviews/new")
    created = admin.post(
        "/app/interviews",
        data={
            "csrf_token": token,
            "title": "Line cook",
            "role": "Cook",
            "greeting": "Welcome to the kitchen.",
            "language": "en-GB",
            "thinking_silence": "15",
            "q_text": ["Knife skills?", "A busy night?"],
            "q_shape": ["short_fact", "story"],
            "q_follow_ups": ["", "What went wrong?\nWhat did you change?"],
            "q_max_follow_ups": ["0", "2"],
            "q_example": ["1"],
        },
        files={"logo_file": ("logo.png", PNG, "image/png")},
        follow_redirects=False,
    )
    assert created.status_code == 303
    slug = created.headers["location"].rsplit("/", 1)[1]
    row = Interviews(store.engine).latest(slug)
    form = Interviews(store.engine).form(row)
    assert (form.role, form.greeting, form.language, form.thinking_silence) == (
        "Cook",
        "Welcome to the kitchen.",
        "en-GB",
        15.0,
    )
    assert row.logo.startswith("data:image/png;base64,")
    assert [q.text for q in form.questions] == ["Knife skills?", "A busy night?"]
    assert form.questions[1].follow_ups == ("What went wrong?", "What did you change?")
    assert [q.wants_example for q in form.questions] == [False, True]
    admin.post(f"/app/interviews/{slug}/publish", data={"csrf_token": token})
    edit = admin.get(f"/app/interviews/{slug}/edit")
    assert "Saving creates version 2" in edit.text and "What did you change?" in edit.text
    saved = admin.post(
        f"/app/interviews/{slug}/edit",
        data={
            "csrf_token": token,
            "title": "Line cook",
            "q_text": ["A busy night?", "Knife skills?"],
            "q_shape": ["story", "short_fact"],
            "q_follow_ups": ["", ""],
            "q_max_follow_ups": ["1", "0"],
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    latest = Interviews(store.engine).latest(slug)
    assert latest.version == 2 and latest.logo == row.logo  # the logo is kept unless removed
    assert [q.text for q in Interviews(store.engine).questions(latest.id or 0)] == [
        "A busy night?",
        "Knife skills?",
    ]


def test_a_rejected_edit_shows_the_error_and_keeps_what_was_typed(admin: TestClient) -> None:
    token = form_token(admin, "/app/interviews/new")
    response = admin.post(
        "/app/interviews",
        data={
            "csrf_token": token,
            "title": "Night <b>shift</b>",
            "thinking_silence": "abc",
            "q_text": ["First question kept"],
            "q_shape": ["story"],
            "q_follow_ups": ["follow-up kept"],
            "q_max_follow_ups": ["1"],
        },
    )
    assert response.status_code == 400
    assert "thinking time: &#39;abc&#39; is not a number" in response.text
    assert "First question kept" in response.text and "follow-up kept" in response.text
    assert "Night &lt;b&gt;shift&lt;/b&gt;" in response.text


def test_share_codes_and_poster(  # type: ignore[no-untyped-def]
    settings: Settings, store: SessionStore, users: dict[str, int], tmp_path
) -> None:
    import subprocess

    # The poster needs a public URL candidates can reach (test_share_guard.py: refused without one).
    app = create_app(settings.with_overrides(public_url="https://jobs.example.org"), store.engine)
    admin = TestClient(app, base_url="https://testserver")
    login(admin, ADMIN)
    interviews = Interviews(store.engine)
    row = interviews.create(FORM)
    interviews.publish(row.slug)
    png = admin.get(f"/app/interviews/{row.slug}/qr.png")
    assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG")
    svg = admin.get(f"/app/interviews/{row.slug}/qr.svg")
    assert svg.headers["content-type"] == "image/svg+xml" and b"<svg" in svg.content
    pdf = admin.get(f"/app/interviews/{row.slug}/poster.pdf")
    assert pdf.content.startswith(b"%PDF")
    (tmp_path / "poster.pdf").write_bytes(pdf.content)
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "poster.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert f"https://jobs.example.org/s/{row.slug}" in text and "Barista" in text
    info = subprocess.run(
        ["pdfinfo", str(tmp_path / "poster.pdf")], capture_output=True, text=True, check=True
    ).stdout
    assert re.search(r"Pages:\s+1\b", info) and "595.28 x 841.89" in info  # one A4 page


def test_the_interviews_own_patience_reaches_the_live_turn_policy(store: SessionStore) -> None:
    interviews = Interviews(store.engine)
    patient = interviews.create(replace(FORM, max_silence=6.0, thinking_silence=25.0))
    hasty = interviews.create(replace(FORM, max_silence=1.0))
    plain = interviews.create(FORM)
    settings = Settings()
    params = turn_params_for(settings, Interviews(store.engine).script(patient.id))
    assert (params.max_silence, params.thinking_silence) == (6.0, 25.0)
    assert params.min_silence == settings.min_silence  # only the patience the editor sets changes
    quick = turn_params_for(settings, Interviews(store.engine).script(hasty.id))
    assert quick.max_silence == quick.unsure_silence == quick.min_silence == 1.0  # none waits longer
    plain_script = Interviews(store.engine).script(plain.id)
    assert turn_params_for(settings, plain_script) == server_turn_params(settings)
