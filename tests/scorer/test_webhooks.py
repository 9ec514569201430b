"""Webhooks to a real receiver on loopback: HMAC signatures, retries after a 500, the delivery log."""

from __future__ import annotations

import json

from scoring_builders import build_session
from webhook_receiver import WebhookReceiver

from milo_voice.calls.session_store import SessionStore
from milo_voice.scoring.service import build
from milo_voice.scoring.store import ScoringStore
from milo_voice.scoring.webhooks import new_secret, sign, verify_signature
from milo_voice.settings import Settings
from milo_voice.workspace.candidates import Candidates

WAIT = 30.0


def test_a_signature_fails_for_another_secret_body_or_an_old_timestamp() -> None:
    body = b'{"event":"x"}'
    good = sign("s1", 1000, body)
    assert verify_signature("s1", body, signature=good, timestamp="1000", now=lambda: 1010)
    assert not verify_signature("s2", body, signature=good, timestamp="1000", now=lambda: 1010)
    assert not verify_signature("s1", body + b" ", signature=good, timestamp="1000", now=lambda: 1010)
    assert not verify_signature("s1", body, signature=good, timestamp="1000", now=lambda: 5000)
    assert not verify_signature(
        "s1", body, signature=sign("s1", 999, body), timestamp="1000", now=lambda: 1000
    )


def test_scoring_sends_signed_events_and_retries_a_500(settings: Settings, store: SessionStore) -> None:
    settings = settings.with_overrides(job_backoff=0.05)
    built = build_session(store, {0: "Yes.", 1: "I listen and apologise."})
    runtime = build(settings, store.engine, Candidates(store.engine))
    secret = new_secret()
    with WebhookReceiver(secret, [500, 200]) as receiver:
        scoring = ScoringStore(store.engine)
        scoring.add_endpoint(receiver.url, secret, ["interview.completed", "report.available"])
        scoring.add_endpoint(receiver.url, "another-endpoint-secret", ["interview.started"])
        runtime.start()
        try:
            job_id = runtime.service.enqueue_scoring(built.session_id)
            assert runtime.worker.wait_settled(job_id, WAIT) == "done"
            deliveries = scoring.deliveries()
            assert len(deliveries) == 2, "only the subscribed endpoint gets these two events"
            for delivery in deliveries:
                assert delivery.id is not None
                jobs = [
                    j for j in runtime.worker.table.all("webhook") if j.payload["delivery_id"] == delivery.id
                ]
                assert runtime.worker.wait_settled(jobs[0].id or 0, WAIT) == "done"
        finally:
            runtime.stop()
        received = receiver.received
    log = {d.event: d for d in ScoringStore(store.engine).deliveries()}
    assert set(log) == {"interview.completed", "report.available"}
    assert all(d.status == "delivered" and d.response_status == 200 for d in log.values())
    assert sum(d.attempts for d in log.values()) == 3, "one of the two was answered 500 first and retried"
    assert [r.answered for r in received].count(500) == 1 and len(received) == 3
    assert all(r.signature_ok for r in received)
    first = next(r for r in received if r.answered == 500)
    retried = [r for r in received if r.body == first.body and r.answered == 200]
    assert len(retried) == 1 and retried[0].headers["x-milo-delivery"] == first.headers["x-milo-delivery"]
    report = json.loads(next(r.body for r in received if r.headers["x-milo-event"] == "report.available"))
    assert report["data"]["session_id"] == built.session_id
    assert report["data"]["report_url"].startswith(settings.base_url + "/reports/")
    assert report["data"]["band"] in ("great", "good", "bad")


def test_a_receiver_that_keeps_failing_is_given_up_on_and_logged(
    settings: Settings, store: SessionStore
) -> None:
    settings = settings.with_overrides(job_backoff=0.02, job_max_attempts=3)
    built = build_session(store, {0: "Yes."})
    runtime = build(settings, store.engine, Candidates(store.engine))
    with WebhookReceiver("s", [503]) as receiver:
        ScoringStore(store.engine).add_endpoint(receiver.url, "s", ["interview.started"])
        runtime.start()
        try:
            runtime.service.notify_started(built.session_id)
            job = runtime.worker.table.all("webhook")[0]
            assert runtime.worker.wait_settled(job.id or 0, WAIT) == "failed"
        finally:
            runtime.stop()
    (delivery,) = ScoringStore(store.engine).deliveries()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("failed", 3, 503)
    assert delivery.error == "HTTP 503" and len(receiver.received) == 3
