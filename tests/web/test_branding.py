"""The interview's branding on the candidate's pages: logo, role, title and a welcome that greets once.

The pure welcome rule, the pages rendered from their templates, the `BrandedScript` read from the
database, and the pages served by the real app (which reads interviews through `BrandedInterviews`)."""

from __future__ import annotations

import base64
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.templating import Jinja2Templates
from starlette.testclient import TestClient

from milo_voice.calls.session_store import SessionStore
from milo_voice.dialogue.script import AnswerShape, InterviewScript, Question
from milo_voice.settings import Settings
from milo_voice.web.app import create_app
from milo_voice.web.branding import BrandedInterviews, BrandedScript, branded_script, welcome
from milo_voice.web.candidate import WEB
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.editor import InterviewForm, QuestionForm
from milo_voice.workspace.interviews import Interviews

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da"
    "63f8cfc0f01f0005000201a5f1f5b90000000049454e44ae426082"
)
LOGO = "data:image/png;base64," + base64.b64encode(PNG).decode()
DEFAULT = InterviewScript(title="t", questions=(Question("q"),)).greeting
GREETED = "Hello Robin Reader, and thank you for taking the time to talk with me today."
SCRIPT = BrandedScript(
    title="Archivist – Spring intake",
    role="Archivist",
    questions=(Question("Why archives?", AnswerShape.EXPLANATION),),
    logo=LOGO,
)


@pytest.mark.parametrize(
    ("greeting", "name", "shown"),
    [
        (DEFAULT, "Robin Reader", GREETED),
        (DEFAULT, "", DEFAULT),
        ("Hi! We are glad you applied.", "Robin", "Hi Robin! We are glad you applied."),
        ("Welcome, and thanks.", " Robin  Reader ", "Welcome Robin Reader, and thanks."),
        ("Good morning.", "Robin", "Good morning Robin."),
        ("Hello", "Robin", "Hello Robin."),
        ("Welcome to Acme!", "Robin", "Welcome to Acme!"),
        ("Hiring at Acme moves fast.", "Robin", "Hello Robin. Hiring at Acme moves fast."),
        ("Thanks for applying.", "Robin", "Hello Robin. Thanks for applying."),
        ("", "Robin", "Hello Robin."),
        ("", "", ""),
    ],
)
def test_the_welcome_greets_once(greeting: str, name: str, shown: str) -> None:
    assert welcome(greeting, name) == shown


@given(st.text(max_size=60), st.from_regex(r"[A-Z][a-z]{1,10}( [A-Z][a-z]{1,10})?", fullmatch=True))
def test_the_welcome_never_adds_a_second_greeting(greeting: str, name: str) -> None:
    shown = welcome(greeting, name)
    assert shown.lower().count("hello") <= max(1, greeting.lower().count("hello"))
    assert shown.endswith(greeting.strip()[15:])  # past the longest salutation, the recruiter's words stay


def page(name: str, **context: object) -> str:
    return Jinja2Templates(directory=str(WEB / "templates")).get_template(name).render(**context)


def test_every_page_of_an_interview_shows_its_logo_role_and_title() -> None:
    candidate = SimpleNamespace(name="Robin Reader")
    config = {"offerUrl": "/x"}
    pages = {
        "candidate.html": page("candidate.html", script=SCRIPT, candidate=candidate, config=config),
        "candidate_share.html": page("candidate_share.html", script=SCRIPT, values={}, errors=[]),
        "candidate_thanks.html": page("candidate_thanks.html", script=SCRIPT, already=False),
        "candidate_message.html": page(
            "candidate_message.html", script=SCRIPT, title="This interview is closed", message="It expired."
        ),
    }
    for name, html in pages.items():
        assert f'<img class="logo" src="{LOGO}" alt="">' in html, name
        assert '<p class="role">Archivist</p>' in html and "Archivist – Spring intake" in html, name
        assert 'href="/static/candidate.css"' in html, name
    interview = pages["candidate.html"]
    assert interview.count(GREETED) == 1 and "Hello Robin Reader. Hello" not in interview
    assert DEFAULT in pages["candidate_share.html"]
    assert DEFAULT not in pages["candidate_message.html"], "a closed or ended page does not greet"
    assert "<h1>Thank you</h1>" in pages["candidate_thanks.html"]
    assert DEFAULT not in pages["candidate_thanks.html"], "no greeting after the interview"


def test_pages_without_an_interview_keep_the_layout_and_show_no_brand() -> None:
    not_found = page("candidate_message.html", title="Link not found", message="No.")
    for html in (page("candidate_notice.html"), not_found):
        assert 'href="/static/candidate.css"' in html and 'class="brand"' not in html
    assert "<h1>Link not found</h1>" in not_found


def test_a_branded_script_is_the_stored_script_plus_its_logo(store: SessionStore) -> None:
    interviews = Interviews(store.engine)
    row = interviews.create(InterviewForm(title="Archivist", questions=(QuestionForm("Why?"),), logo=LOGO))
    assert row.id is not None
    branded = branded_script(interviews, row.id)
    assert isinstance(branded, InterviewScript) and branded.logo == LOGO
    assert BrandedInterviews(store.engine).script(row.id) == branded
    plain = interviews.script(row.id)
    assert (branded.title, branded.questions, branded.greeting, branded.key) == (
        plain.title, plain.questions, plain.greeting, plain.key)


def test_the_served_pages_show_the_logo_and_greet_the_candidate_once(
    settings: Settings, store: SessionStore
) -> None:
    """Needs `web/candidate.py` to read interviews through `BrandedInterviews` (see web/branding.py)."""
    interviews = Interviews(store.engine)
    row = interviews.create(InterviewForm(title="Archivist", role="Archivist",
                                          questions=(QuestionForm("Why archives?"),), logo=LOGO))
    interviews.publish(row.slug)
    assert row.id is not None
    candidate = Candidates(store.engine).enrol(interview_id=row.id, name="Robin Reader")
    client = TestClient(create_app(settings, store.engine))
    interview = client.get(f"/i/{candidate.token}").text
    assert f'src="{LOGO}"' in interview and interview.count(GREETED) == 1
    assert "Hello Robin Reader. Hello" not in interview
    for path in (f"/s/{row.slug}", f"/i/{candidate.token}/thanks"):
        assert f'src="{LOGO}"' in client.get(path).text, path
