"""Reports behind the recruiter login: the web report, PDF, ZIP, score JSON and candidate export
under /app (audited), public share links that a recruiter can revoke, and the API's report PDF and
score card (real app, real SQLite, a session scored by the offline scorer)."""

from __future__ import annotations

import csv
import io
import json
import zipfile

from scorer.scoring_builders import KNOCKOUT_ANSWERS, build_session, scored_session
from starlette.testclient import TestClient

from milo_voice.calls.session_store import SessionStore
from milo_voice.scoring.store import ScoringStore
from milo_voice.settings import Settings
from milo_voice.store.tables import AuditEvent
from milo_voice.workspace.accounts import Accounts
from milo_voice.workspace.audit import Audit
from milo_voice.workspace.report_links import ReportLinks
from workspace.support import csrf_of

EVIL = "=cmd|' /C calc'!A0"


def scored(settings: Settings, store: SessionStore, name: str = "<b>Ada</b>") -> tuple[int, int]:
    """A completed session of interview `support`, scored offline; (candidate id, session id)."""
    built = scored_session(settings, store, name=name)
    return built.candidate_id, built.session_id


def events(store: SessionStore, action: str) -> list[AuditEvent]:
    return [e for e in Audit(store.engine).recent() if e.action == action]


def test_anonymous_visitors_are_sent_to_the_login_page(
    client: TestClient, settings: Settings, store: SessionStore
) -> None:
    cid, sid = scored(settings, store)
    base = f"/app/candidates/{cid}/sessions/{sid}"
    for path in (
        f"{base}/report",
        f"{base}/report.pdf",
        f"{base}/report.zip",
        f"{base}/report.json",
        "/app/interviews/support/candidates.csv",
        "/app/interviews/support/candidates.json",
    ):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/app/login?next="), path
    assert client.post(f"{base}/share", follow_redirects=False).status_code == 403
    assert ReportLinks(store.engine).current(sid) is None


def test_a_viewer_reads_and_downloads_the_report_and_each_download_is_audited(
    viewer: TestClient, settings: Settings, store: SessionStore, users: dict[str, int]
) -> None:
    cid, sid = scored(settings, store)
    base = f"/app/candidates/{cid}/sessions/{sid}"
    page = viewer.get(f"{base}/report")
    assert page.status_code == 200
    assert "&lt;b&gt;Ada&lt;/b&gt;" in page.text and "<b>Ada</b>" not in page.text
    assert "Knocked out" in page.text and "No, I would need a visa sponsor" in page.text
    assert (
        f'href="{base}/report.pdf"' in page.text
        and f'href="/app/candidates/{cid}?session={sid}"' in page.text
    )
    profile = viewer.get(f"/app/candidates/{cid}?session={sid}")
    assert all(f'href="{base}/report{ext}"' in profile.text for ext in ("", ".pdf", ".zip"))

    pdf = viewer.get(f"{base}/report.pdf?sections=scores,transcript")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert pdf.headers["content-type"] == "application/pdf"
    assert viewer.get(f"{base}/report.pdf?sections=bogus").status_code == 400
    package = zipfile.ZipFile(io.BytesIO(viewer.get(f"{base}/report.zip").content))
    assert package.testzip() is None and "report.pdf" in package.namelist()
    assert viewer.get(f"{base}/report.json").json()["scorer"] == "offline"

    downloads = events(store, "download")
    assert [(e.detail["format"], e.target_id, e.user_id) for e in reversed(downloads)] == [
        ("pdf", str(sid), users["viewer"]),
        ("zip", str(sid), users["viewer"]),
        ("json", str(sid), users["viewer"]),
    ]
    assert downloads[-1].detail["sections"] == "scores,transcript" and downloads[-1].target_type == "report"
    (view,) = events(store, "view report")
    assert view.detail["candidate"] == cid
    assert ReportLinks(store.engine).current(sid) is None, "reading in the workspace mints no public link"


def test_a_session_is_only_reachable_under_its_own_candidate(
    viewer: TestClient, settings: Settings, store: SessionStore
) -> None:
    cid, sid = scored(settings, store)
    other = build_session(store, KNOCKOUT_ANSWERS, name="Other", interview_id=None, slug="other")
    assert viewer.get(f"/app/candidates/{other.candidate_id}/sessions/{sid}/report.pdf").status_code == 404
    assert viewer.get(f"/app/candidates/{cid}/sessions/999/report").status_code == 404
    assert events(store, "download") == []


def test_the_export_behind_the_login_neutralises_formulas_and_links_to_workspace_reports(
    viewer: TestClient, settings: Settings, store: SessionStore
) -> None:
    cid, sid = scored(settings, store, name=EVIL)
    response = viewer.get("/app/interviews/support/candidates.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    (row,) = list(csv.DictReader(io.StringIO(response.text)))
    assert row["name"] == "'" + EVIL
    assert row["report_url"] == f"{settings.base_url}/app/candidates/{cid}/sessions/{sid}/report"
    exported = viewer.get("/app/interviews/support/candidates.json").json()["candidates"]
    assert exported[0]["name"] == EVIL and exported[0]["band"] in ("great", "good", "bad")
    assert viewer.get("/app/interviews/nope/candidates.csv").status_code == 404
    assert [e.target_id for e in events(store, "download")] == ["support", "support"]
    assert ReportLinks(store.engine).current(sid) is None
    listing = viewer.get("/app/candidates?interview=support")
    assert 'href="/app/interviews/support/candidates.csv"' in listing.text


def test_a_public_link_can_be_made_for_a_hiring_manager_and_revoked(
    viewer: TestClient, client: TestClient, settings: Settings, store: SessionStore
) -> None:
    cid, sid = scored(settings, store)
    base = f"/app/candidates/{cid}/sessions/{sid}"
    page = viewer.get(f"{base}/report")
    assert "Create public link" in page.text
    made = viewer.post(f"{base}/share", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert made.status_code == 303
    token = ReportLinks(store.engine).current(sid)
    assert token is not None and f"{settings.base_url}/reports/{token}" in viewer.get(f"{base}/report").text
    outsider = client  # never signed in
    assert outsider.get(f"/reports/{token}").status_code == 200
    assert outsider.get(f"/reports/{token}/report.pdf").content.startswith(b"%PDF-")

    page = viewer.get(f"{base}/report")
    revoked = viewer.post(
        f"{base}/share/revoke", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False
    )
    assert revoked.status_code == 303
    assert outsider.get(f"/reports/{token}").status_code == 404
    assert outsider.get(f"/reports/{token}/report.pdf").status_code == 404
    assert ReportLinks(store.engine).current(sid) is None
    again = ScoringStore(store.engine).report_token(session_id=sid)
    assert again != token, "sharing again makes a new address; the revoked one stays dead"
    assert [e.action for e in Audit(store.engine).recent() if e.target_type == "report"][:2] == [
        "revoke link",
        "view report",
    ]
    assert events(store, "share")[0].detail == {"candidate": cid}


def test_api_keys_download_the_report_pdf_and_the_score_card(
    client: TestClient, settings: Settings, store: SessionStore, users: dict[str, int], accounts: Accounts
) -> None:
    cid, sid = scored(settings, store)
    _, key = accounts.create_api_key(user_id=users["viewer"], name="ats")
    auth = {"Authorization": f"Bearer {key}"}
    assert client.get(f"/api/sessions/{sid}/report.pdf").status_code == 401
    pdf = client.get(f"/api/sessions/{sid}/report.pdf", headers=auth)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    bad = client.get(f"/api/sessions/{sid}/report.pdf?sections=nope", headers=auth)
    assert bad.status_code == 400 and "sections" in bad.json()["error"]
    card = client.get(f"/api/sessions/{sid}/score.json", headers=auth).json()
    assert card["scorer"] == "offline" and card["knockout"] is not None
    assert client.get("/api/sessions/999/score.json", headers=auth).status_code == 404
    formats = [(e.detail["format"], e.detail["candidate"]) for e in reversed(events(store, "download"))]
    assert formats == [("pdf", cid), ("json", cid)]


def test_the_api_says_404_for_a_session_not_scored_yet(
    client: TestClient, store: SessionStore, users: dict[str, int], accounts: Accounts
) -> None:
    built = build_session(store, KNOCKOUT_ANSWERS)
    _, key = accounts.create_api_key(user_id=users["admin"], name="ats")
    response = client.get(
        f"/api/sessions/{built.session_id}/score.json", headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 404 and "not been scored" in response.json()["error"]
    assert json.loads(client.get("/api/openapi.json").text)["paths"]["/sessions/{id}/report.pdf"]
