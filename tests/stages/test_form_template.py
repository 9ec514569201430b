"""The candidate's form page (candidate_form.html) rendered on its own: every input type with its name,
the errors, the step line, the skip rules for the live script, and labels escaped (issue 18)."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader

from milo_voice.stages.form import visible_fields
from milo_voice.stages.types import FieldKind, FormField, FormSpec, SkipRule

TEMPLATES = Path(__file__).resolve().parents[2] / "milo_voice" / "web" / "templates"
SPEC = FormSpec(
    intro="A few questions <b>first</b>.",
    fields=(
        FormField(id="name", kind=FieldKind.SHORT_TEXT, label="Your <script>alert(1)</script> name"),
        FormField(id="why", kind=FieldKind.LONG_TEXT, label="Why this job?", help="Two or three sentences."),
        FormField(id="weekends", kind=FieldKind.YES_NO, label="Can you work weekends?",
                  skip=(SkipRule(when="No", to="years"),)),
        FormField(id="days", kind=FieldKind.MULTI_CHOICE, label="Which days?",
                  options=("Saturday", "Sunday")),
        FormField(id="shift", kind=FieldKind.SINGLE_CHOICE, label="Shift", options=("Early", "Late")),
        FormField(id="years", kind=FieldKind.NUMBER, label="Years of experience", minimum=0, maximum=60),
        FormField(id="start", kind=FieldKind.DATE, label="Earliest start", required=False),
        FormField(id="cv", kind=FieldKind.FILE, label="Your CV"),
    ),
)
ERRORS = {"years": "Please enter a number between 0 and 60.", "cv": "Please choose a file to upload."}


class Inputs(HTMLParser):
    """Every form control's attributes, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str | None]] = []
        self.fields: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag in ("input", "textarea"):
            self.controls.append({"tag": tag, **found})
        if tag == "div" and "data-skip" in found:
            self.fields.append(found)


def render(answers: dict[str, Any] | None = None, errors: dict[str, str] | None = None) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)
    answers = answers or {}
    return env.get_template("candidate_form.html").render(
        script=None, candidate=None, stage_name="Form", step=2, steps=3, intro=SPEC.intro,
        fields=visible_fields(SPEC, answers), all_fields=SPEC.fields, answers=answers,
        errors=errors or {}, csrf="tok-123", action="/i/abc/form",
    )


def parsed(html: str) -> Inputs:
    parser = Inputs()
    parser.feed(html)
    return parser


def control(html: str, name: str) -> list[dict[str, str | None]]:
    return [c for c in parsed(html).controls if c.get("name") == name]


def test_every_question_type_has_its_input() -> None:
    html = render(errors=ERRORS)
    [name] = control(html, "name")
    assert (name["type"], name["id"]) == ("text", "f-name")
    [why] = control(html, "why")
    assert (why["tag"], why["id"]) == ("textarea", "f-why")
    assert [(c["type"], c["value"]) for c in control(html, "weekends")] == [("radio", "Yes"), ("radio", "No")]
    assert [(c["type"], c["value"]) for c in control(html, "days")] == [
        ("checkbox", "Saturday"), ("checkbox", "Sunday")]
    assert [c["type"] for c in control(html, "shift")] == ["radio", "radio"]
    [years] = control(html, "years")
    assert (years["type"], years["step"], years["min"], years["max"], years["id"]) == (
        "number", "any", "0", "60", "f-years")
    [start] = control(html, "start")
    assert (start["type"], start["id"]) == ("date", "f-start")
    [cv] = control(html, "cv")
    assert (cv["type"], cv["id"]) == ("file", "f-cv")
    [csrf] = control(html, "csrf")
    assert (csrf["type"], csrf["value"]) == ("hidden", "tok-123")
    assert 'method="post" action="/i/abc/form" enctype="multipart/form-data"' in html
    assert re.search(r'<button type="submit"[^>]*>Submit</button>', html)
    assert "(required)" in html and "Two or three sentences." in html


def test_errors_show_under_their_question_and_are_counted() -> None:
    html = render(errors=ERRORS)
    assert "Please fix 2 answers below." in html
    assert '<p class="error" id="e-years" role="alert">Please enter a number between 0 and 60.</p>' in html
    assert '<p class="error" id="e-cv" role="alert">Please choose a file to upload.</p>' in html
    [years] = control(html, "years")
    assert years["aria-invalid"] == "true" and years["aria-describedby"] == "e-years"
    assert "Please fix" not in render()
    assert "Please fix 1 answer below." in render(errors={"cv": "Please choose a file to upload."})


def test_step_and_progress() -> None:
    html = render()
    assert "Step 2 of 3" in html and 'style="width: 67%"' in html


def test_labels_and_intro_are_escaped() -> None:
    html = render()
    assert "Your &lt;script&gt;alert(1)&lt;/script&gt; name" in html and "<script>alert(1)" not in html
    assert "A few questions &lt;b&gt;first&lt;/b&gt;." in html


def test_skip_rules_ride_on_each_question_and_skipped_ones_start_hidden() -> None:
    fields = {f["data-id"]: f for f in parsed(render(answers={"weekends": "No"})).fields}
    assert list(fields) == [f.id for f in SPEC.fields]
    assert json.loads(fields["weekends"]["data-skip"] or "") == [{"when": "No", "to": "years"}]
    assert json.loads(fields["name"]["data-skip"] or "") == []
    assert "hidden" in fields["days"] and "hidden" in fields["shift"] and "hidden" not in fields["years"]
    shown = {f["data-id"]: f for f in parsed(render()).fields}
    assert not any("hidden" in f for f in shown.values())


def test_required_in_the_browser_only_when_always_shown() -> None:
    html = render()
    required = {c["name"] for c in parsed(html).controls if "required" in c}
    assert required == {"name", "why", "weekends", "years", "cv"}  # days, shift: skippable; start: optional


def test_answers_are_refilled() -> None:
    answers = {"name": "Ana \"A\" <Lima>", "why": "Coffee.", "weekends": "Yes", "days": ["Sunday"],
               "years": 4.0, "start": "2027-01-11", "cv": {"name": "cv.pdf", "size": 3, "path": "/x"}}
    html = render(answers=answers)
    assert control(html, "name")[0]["value"] == 'Ana "A" <Lima>'
    assert ">Coffee.</textarea>" in html
    assert [c["value"] for c in control(html, "weekends") if "checked" in c] == ["Yes"]
    assert [c["value"] for c in control(html, "days") if "checked" in c] == ["Sunday"]
    assert control(html, "years")[0]["value"] == "4" and control(html, "start")[0]["value"] == "2027-01-11"
    assert "You attached cv.pdf before; please choose it again." in html


def test_skip_rules_with_quotes_stay_valid_json() -> None:
    tricky = FormField(id="sure", kind=FieldKind.SINGLE_CHOICE, label="Sure?",
                       options=("Don't know", 'Say "yes"'), skip=(SkipRule(when="Don't know", to="end"),))
    spec = FormSpec(fields=(tricky, FormField(id="more", kind=FieldKind.SHORT_TEXT, label="More")))
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)
    html = env.get_template("candidate_form.html").render(
        script=None, candidate=None, stage_name="Form", step=1, steps=1, intro="", fields=spec.fields,
        all_fields=spec.fields, answers={}, errors={}, csrf="", action="/x")
    [first, _] = parsed(html).fields
    assert json.loads(first["data-skip"] or "") == [{"when": "Don't know", "to": "end"}]
    assert [c["value"] for c in control(html, "sure")] == ["Don't know", 'Say "yes"']
    assert "required" not in control(html, "more")[0]  # an answer may skip it
