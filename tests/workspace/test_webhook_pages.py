"""Settings > Webhooks: admins add endpoints (secret shown once), real signed deliveries reach a
loopback receiver, the delivery log shows answers, retries and give-ups; viewers are refused."""

from __future__ import annotations

import json
import re

import pytest
from helpers import run
from scorer.scoring_builders import build_session
from scorer.webhook_receiver import WebhookReceiver
from starlette.testclient import TestClient

from milo_voice.calls.session_store import SessionStore
from milo_voice.scoring.service import ScoringRuntime, build
from milo_voice.scoring.store import ScoringStore
from milo_voice.settings import Settings
from milo_voice.workspace.audit import Audit
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.webhook_admin import WebhookAdmin
from workspace.support import form_token

PAGE = "/app/settings/webhooks"
WAIT = 30.0
ANSWERS = {0: "Yes.", 1: "I listen and apologise."}


def add_endpoint(admin: TestClient, url: str, events: list[str]) -> tuple[int, str]:
    """Create an endpoint through the page; returns its id and the secret shown once."""
    response = admin.post(PAGE, data={"csrf_token": form_token(admin, PAGE), "url": url, "events": events})
    assert response.status_code == 201, response.text
    secret = re.search(r'value="([^"]+)" id="new-secret"', response.text)
    endpoint = re.search(rf'href="{PAGE}/(\d+)"', response.text)
    assert secret and endpoint
    return int(endpoint.group(1)), secret.group(1)


def webhook_jobs(runtime: ScoringRuntime) -> list[int]:
    return [j.id or 0 for j in runtime.worker.table.all("webhook")]


def test_an_admin_adds_an_endpoint_and_a_completed_interview_reaches_it_signed(
    admin: TestClient, settings: Settings, store: SessionStore
) -> None:
    built = build_session(store, ANSWERS)
    runtime = build(settings, store.engine, Candidates(store.engine))
    with WebhookReceiver("not yet known", [200]) as receiver:
        eid, secret = add_endpoint(admin, receiver.url, ["interview.completed"])
        assert secret.startswith("whsec_") and len(secret) > 40
        receiver.secret = secret
        runtime.start()
        try:
            runtime.service.enqueue_scoring(built.session_id)
            (job,) = webhook_jobs(runtime)
            assert runtime.worker.wait_settled(job, WAIT) == "done"
        finally:
            runtime.stop()
    (got,) = receiver.received
    assert got.signature_ok and got.answered == 200
    assert got.headers["x-milo-event"] == "interview.completed"
    assert json.loads(got.body)["data"]["session_id"] == built.session_id

    log = admin.get(f"{PAGE}/{eid}")
    assert log.status_code == 200
    row = re.search(r'<tr class="delivery delivered">(.*?)</tr>', log.text, re.S)
    assert row and "interview.completed" in row.group(1) and "HTTP 200" in row.group(1)
    listing = admin.get(PAGE).text
    assert receiver.url in listing and secret not in listing, "the secret is shown once only"
    assert secret not in log.text
    (created,) = [e for e in Audit(store.engine).recent() if e.target_type == "webhook"]
    assert created.action == "create" and created.detail["events"] == ["interview.completed"]
    assert "secret" not in json.dumps(created.detail)


def test_a_receiver_answering_500_shows_the_retry_then_the_give_up(
    admin: TestClient, settings: Settings, store: SessionStore
) -> None:
    built = build_session(store, ANSWERS)
    slow = settings.with_overrides(job_backoff=60.0, job_max_attempts=2)
    worker = build(slow, store.engine, Candidates(store.engine))
    with WebhookReceiver("s", [500]) as receiver:
        eid, receiver.secret = add_endpoint(admin, receiver.url, ["interview.started"])
        worker.service.notify_started(built.session_id)
        (job,) = webhook_jobs(worker)
        run(worker.worker.run_once)  # the first attempt: 500, retry in 60 s
        log = admin.get(f"{PAGE}/{eid}").text
        row = re.search(r'<tr class="delivery pending">(.*?)</tr>', log, re.S)
        assert row, log
        assert "HTTP 500" in row.group(1) and "retrying at" in row.group(1)
        assert re.search(r"UTC</td><td>1</td>", row.group(1)), "one attempt so far"

        table = worker.worker.table
        table.retry(job, "due now for the test", delay=0)
        run(worker.worker.run_once)  # the second and last attempt (job_max_attempts=2)
    assert [r.answered for r in receiver.received] == [500, 500]
    assert all(r.signature_ok for r in receiver.received)
    log = admin.get(f"{PAGE}/{eid}").text
    row = re.search(r'<tr class="delivery failed">(.*?)</tr>', log, re.S)
    assert row and "HTTP 500" in row.group(1) and "failed (gave up)" in row.group(1)
    assert re.search(r"UTC</td><td>2</td>", row.group(1))
    assert "<td>0</td><td>1</td><td>0</td>" in admin.get(PAGE).text, "0 delivered, 1 failed, 0 pending"


def test_a_viewer_gets_403_and_no_menu_entry(
    viewer: TestClient, admin: TestClient, store: SessionStore
) -> None:
    eid, _ = add_endpoint(admin, "https://ats.example.com/hook", ["report.available"])
    token = form_token(viewer, "/app/interviews")
    assert viewer.get(PAGE).status_code == 403
    assert viewer.get(f"{PAGE}/{eid}").status_code == 403
    refused = viewer.post(
        PAGE, data={"csrf_token": token, "url": "https://x.example", "events": ["report.available"]}
    )
    assert refused.status_code == 403
    for action in ("active", "delete", "test"):
        assert viewer.post(f"{PAGE}/{eid}/{action}", data={"csrf_token": token}).status_code == 403
    (only,) = WebhookAdmin(store.engine).endpoints()
    assert only.endpoint.active and only.delivered + only.failed + only.pending == 0, "nothing changed"
    assert 'href="/app/settings/webhooks"' not in viewer.get("/app/interviews").text
    assert 'href="/app/settings/webhooks"' in admin.get("/app/interviews").text


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("javascript:alert(1)", "must start with http:// or https://"),
        ("ftp://files.example.com/drop", "must start with http:// or https://"),
        ("/relative/path", "must start with http:// or https://"),
        ("https:///no-host", "has no host"),
        ("https://a.example/x y", "must not contain spaces"),
        ("", "Enter the URL"),
    ],
)
def test_a_url_that_is_not_http_is_refused_with_a_clear_message(
    admin: TestClient, store: SessionStore, url: str, message: str
) -> None:
    response = admin.post(
        PAGE, data={"csrf_token": form_token(admin, PAGE), "url": url, "events": ["report.available"]}
    )
    assert response.status_code == 400
    assert message in response.text and 'role="alert"' in response.text
    assert "new-secret" not in response.text
    assert "No endpoints yet." in response.text


def test_events_must_be_chosen_from_the_known_ones(admin: TestClient) -> None:
    token = form_token(admin, PAGE)
    none = admin.post(PAGE, data={"csrf_token": token, "url": "https://a.example/h"})
    assert none.status_code == 400 and "Choose at least one event." in none.text
    odd = admin.post(
        PAGE, data={"csrf_token": token, "url": "https://a.example/h", "events": ["user.deleted"]}
    )
    assert odd.status_code == 400 and "Unknown event(s): user.deleted" in odd.text


def test_disable_enable_test_event_and_delete(
    admin: TestClient, settings: Settings, store: SessionStore
) -> None:
    scoring = ScoringStore(store.engine)
    runtime = build(settings, store.engine, Candidates(store.engine))
    with WebhookReceiver("s", [200]) as receiver:
        eid, receiver.secret = add_endpoint(admin, receiver.url + "?<script>", ["interview.started"])
        assert "?&lt;script&gt;" in admin.get(f"{PAGE}/{eid}").text
        token = form_token(admin, PAGE)
        admin.post(f"{PAGE}/{eid}/active", data={"csrf_token": token, "active": "0"})
        assert scoring.endpoints_for("interview.started") == []
        assert "Disabled" in admin.get(f"{PAGE}/{eid}").text
        admin.post(f"{PAGE}/{eid}/active", data={"csrf_token": token, "active": "1"})
        assert [e.id for e in scoring.endpoints_for("interview.started")] == [eid]

        sent = admin.post(f"{PAGE}/{eid}/test", data={"csrf_token": token}, follow_redirects=False)
        assert sent.status_code == 303 and sent.headers["location"] == f"{PAGE}/{eid}"
        assert run(runtime.worker.run_until_idle) == 1
    (got,) = receiver.received
    assert got.signature_ok and got.headers["x-milo-event"] == "webhook.test"
    assert "webhook.test" in admin.get(f"{PAGE}/{eid}").text

    assert admin.post(f"{PAGE}/{eid}/delete", data={"csrf_token": token}).status_code == 200
    assert scoring.endpoint(eid) is None and scoring.deliveries() == []
    assert admin.get(f"{PAGE}/{eid}").status_code == 404
    actions = [e.action for e in Audit(store.engine).recent() if e.target_type == "webhook"]
    assert actions == ["delete", "test", "enable", "disable", "create"]
