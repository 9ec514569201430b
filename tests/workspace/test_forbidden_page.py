"""The 403 page: the recruiter message page with a title, the reason and a way back, not bare text."""

from __future__ import annotations

from starlette.testclient import TestClient

from workspace.support import VIEWER


def test_a_viewer_on_an_admin_page_gets_a_titled_page_with_a_way_back(viewer: TestClient) -> None:
    refused = viewer.get("/app/team", headers={"referer": "http://testserver/app/candidates?interview=demo"})
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("text/html")
    assert "<title>Admins only · milo-voice</title>" in refused.text
    assert "<h1>Admins only</h1>" in refused.text and "Only admins can do this." in refused.text
    assert 'href="/app/candidates?interview=demo">Back to the page you came from</a>' in refused.text
    assert VIEWER in refused.text  # signed in: the workspace's own header and menu


def test_the_way_back_never_leads_to_another_site(viewer: TestClient) -> None:
    refused = viewer.get("/app/team", headers={"referer": "https://evil.example/app/interviews"})
    assert "evil.example" not in refused.text
    assert 'href="/app/interviews">Back to the workspace</a>' in refused.text


def test_an_expired_form_and_a_signed_out_post_say_what_to_do(admin: TestClient, client: TestClient) -> None:
    expired = admin.post("/app/interviews/demo/publish", data={"csrf_token": "forged"})
    assert expired.status_code == 403 and "<h1>This form has expired</h1>" in expired.text
    assert "nothing was changed" in expired.text
    signed_out = TestClient(client.app).post("/app/interviews/demo/publish", data={})
    assert signed_out.status_code == 403 and "<h1>Sign in first</h1>" in signed_out.text
    assert 'href="/app/login">Sign in</a>' in signed_out.text
