"""The web report's navigation: the workspace's menu and a way back to the candidate's profile for
signed-in users; a plain header, with no way into the workspace, for whoever holds a share link."""

from __future__ import annotations

from scorer.scoring_builders import scored_session
from starlette.testclient import TestClient

from milo_voice.calls.session_store import SessionStore
from milo_voice.scoring.store import ScoringStore
from milo_voice.settings import Settings


def test_signed_in_users_get_the_menu_and_a_link_back_to_the_profile(
    viewer: TestClient, settings: Settings, store: SessionStore
) -> None:
    built = scored_session(settings, store, name="Robin Reader")
    cid, sid = built.candidate_id, built.session_id
    page = viewer.get(f"/app/candidates/{cid}/sessions/{sid}/report").text
    assert '<nav class="top" aria-label="Workspace">' in page
    assert 'href="/app/interviews">Interviews</a>' in page and 'href="/app/candidates">Candidates</a>' in page
    back = f'href="/app/candidates/{cid}?session={sid}">&larr; Back to Robin Reader' + "'s profile</a>"
    assert back in page


def test_a_share_link_gets_a_plain_header_and_no_workspace_links(
    client: TestClient, settings: Settings, store: SessionStore
) -> None:
    built = scored_session(settings, store, name="Robin Reader")
    token = ScoringStore(store.engine).report_token(session_id=built.session_id)
    page = client.get(f"/reports/{token}").text
    assert '<div class="top" role="banner"><span class="brand">Interview report</span>' in page
    assert "Support engineer" in page and "Robin Reader" in page
    assert 'href="/app/' not in page and "aria-label=\"Workspace\"" not in page
