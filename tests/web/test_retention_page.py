"""Settings > Retention (/app/settings/retention) over the real app (Starlette TestClient, real SQLite):
an admin saves the windows (audited, before and after), bad values are refused per field with nothing
saved, a viewer is kept out (page, form and nav link), the form needs its CSRF token, and the page
shows the last sweep's counts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from starlette.testclient import TestClient
from workspace.support import ADMIN, PASSWORD, VIEWER, form_token, login

from milo_voice.calls.session_store import SessionStore
from milo_voice.settings import Settings
from milo_voice.web.app import create_app
from milo_voice.workspace.accounts import Accounts
from milo_voice.workspace.audit import Audit
from milo_voice.workspace.retention import RetentionPolicy
from milo_voice.workspace.retention_store import RetentionSettings
from milo_voice.workspace.retention_sweep import RetentionSweep

PAGE = "/app/settings/retention"
GOOD = {"recordings_days": "30", "transcripts_days": "", "scores_days": "365", "messages_days": "7"}


@pytest.fixture
def users(store: SessionStore) -> dict[str, int]:
    accounts = Accounts(store.engine)
    admin = accounts.create_user(email=ADMIN, password=PASSWORD, role="admin", name="Ada Admin")
    viewer = accounts.create_user(email=VIEWER, password=PASSWORD, role="viewer", name="Vic Viewer")
    assert admin.id is not None and viewer.id is not None
    return {"admin": admin.id, "viewer": viewer.id}


def client_of(settings: Settings, store: SessionStore, email: str) -> Iterator[TestClient]:
    with TestClient(create_app(settings, store.engine), base_url="http://testserver") as c:
        login(c, email)
        yield c


@pytest.fixture
def admin(settings: Settings, store: SessionStore, users: dict[str, int]) -> Iterator[TestClient]:
    yield from client_of(settings, store, ADMIN)


@pytest.fixture
def viewer(settings: Settings, store: SessionStore, users: dict[str, int]) -> Iterator[TestClient]:
    yield from client_of(settings, store, VIEWER)


def post(client: TestClient, token: str, **fields: str) -> object:
    return client.post(PAGE, data={"csrf_token": token, **fields}, follow_redirects=False)


def test_an_admin_saves_the_windows_and_the_change_is_audited(
    admin: TestClient, store: SessionStore, users: dict[str, int]
) -> None:
    page = admin.get(PAGE)
    assert page.status_code == 200 and "Nothing saved yet: everything is kept" in page.text
    assert "A background sweep runs every\n  hour (MILO_RETENTION_INTERVAL_S)" in page.text
    assert f'href="{PAGE}"' in page.text  # linked in the nav
    saved = post(admin, form_token(admin, PAGE), **GOOD)
    assert saved.status_code == 303 and saved.headers["location"] == f"{PAGE}?saved=1"  # type: ignore[attr-defined]
    settings = RetentionSettings(store.engine)
    assert settings.policy() == RetentionPolicy(30, None, 365, 7)
    row = settings.saved()
    assert row is not None and row.updated_by == users["admin"]
    again = admin.get(f"{PAGE}?saved=1")
    assert "Saved. The next retention sweep applies these windows." in again.text
    assert (
        'name="recordings_days" value="30"' in again.text and 'name="transcripts_days" value=""' in again.text
    )
    event = Audit(store.engine).recent(target_type="compliance_settings")[0]
    assert (event.action, event.actor, event.target_id) == ("update", ADMIN, "1")
    assert event.detail == {
        "before": {"recordings": None, "transcripts": None, "scores": None, "messages": None},
        "after": {"recordings": 30, "transcripts": None, "scores": 365, "messages": 7},
    }
    cleared = post(admin, form_token(admin, PAGE), **{**GOOD, "recordings_days": " "})
    assert cleared.status_code == 303  # type: ignore[attr-defined]
    assert settings.policy().recordings_days is None  # blank: keep again


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        ("recordings_days", "0", "Recordings (audio and video): a whole number of days from 1 to 3650"),
        ("transcripts_days", "3651", "Transcripts and stage answers: a whole number of days from 1 to 3650"),
        ("scores_days", "ten", "Scores and evidence: a whole number of days"),
        ("messages_days", "2.5", "Messages (email and SMS text): a whole number of days"),
        ("messages_days", "-7", "Messages (email and SMS text): a whole number of days"),
    ],
)
def test_bad_values_are_refused_per_field_and_nothing_is_saved(
    admin: TestClient, store: SessionStore, field: str, value: str, said: str
) -> None:
    response = post(admin, form_token(admin, PAGE), **{**GOOD, field: value})
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert said in response.text  # type: ignore[attr-defined]
    assert f'name="{field}" value="{value}"' in response.text  # type: ignore[attr-defined]  # typed value stays
    assert RetentionSettings(store.engine).saved() is None
    assert Audit(store.engine).recent(target_type="compliance_settings") == []


def test_a_viewer_can_neither_see_nor_change_the_windows(
    admin: TestClient, viewer: TestClient, store: SessionStore
) -> None:
    token = form_token(viewer, "/app/interviews")
    assert f'href="{PAGE}"' not in viewer.get("/app/interviews").text
    assert viewer.get(PAGE).status_code == 403
    assert post(viewer, token, **GOOD).status_code == 403  # type: ignore[attr-defined]
    assert RetentionSettings(store.engine).saved() is None


def test_a_post_without_its_csrf_token_is_refused(admin: TestClient, store: SessionStore) -> None:
    assert post(admin, "forged", **GOOD).status_code == 403  # type: ignore[attr-defined]
    assert RetentionSettings(store.engine).saved() is None


def test_the_page_shows_when_the_last_sweep_ran_and_what_it_removed(
    admin: TestClient, store: SessionStore
) -> None:
    assert "No sweep has run with a window set yet." in admin.get(PAGE).text
    RetentionSettings(store.engine).save(RetentionPolicy(recordings_days=30, messages_days=7), user_id=None)
    at = datetime(2027, 5, 4, 3, 2, tzinfo=UTC)
    RetentionSweep(store.engine, store, now=lambda: at).run()
    page = admin.get(PAGE).text
    assert "2027-05-04 03:02 UTC" in page
    assert "recordings: 30, transcripts: keep, scores: keep, messages: 7" in page
    assert "<strong>recordings</strong>" in page and "sessions 0, files 0, bytes 0" in page
    assert "<strong>messages</strong>" in page and "outreach 0, inbound 0" in page
