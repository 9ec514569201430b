"""Bodies parsed whole are capped (web/body_limit.py): an over-long form or JSON body gets 413 before
any handler reads it, whether Content-Length declares it or the body streams without one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from milo_voice.calls.session_store import SessionStore
from milo_voice.settings import Settings
from milo_voice.web.app import create_app
from milo_voice.web.body_limit import FORM_LIMIT, JSON_LIMIT

FORM = {"content-type": "application/x-www-form-urlencoded"}


@pytest.fixture
def client(settings: Settings, store: SessionStore) -> TestClient:
    live = settings.with_overrides(twilio_auth_token="secret")
    return TestClient(create_app(live, store.engine))


@pytest.mark.parametrize("path", ["/sms/inbound", "/sms/status?m=1", "/u/some-token", "/app/login",
                                  "/phone/voice"])
def test_an_over_long_form_is_refused_with_413(client: TestClient, path: str) -> None:
    body = b"Body=" + b"x" * (FORM_LIMIT + 1)
    response = client.post(path, content=body, headers=FORM)
    assert response.status_code == 413
    assert "at most 256 KiB" in response.text


def test_an_over_long_json_body_is_refused_with_413(client: TestClient) -> None:
    body = b'{"sdp": "' + b"v" * JSON_LIMIT + b'"}'
    response = client.post("/api/rtc/some-token/offer", content=body,
                           headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_a_streamed_body_without_length_is_cut_off_at_the_cap(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"Body="
        for _ in range(FORM_LIMIT // 65536 + 2):
            yield b"x" * 65536

    response = client.post("/sms/inbound", content=chunks(), headers=FORM)
    assert response.status_code == 413


def test_a_normal_form_still_reaches_its_handler(client: TestClient) -> None:
    response = client.post("/sms/inbound", data={"Body": "hello", "From": "+14155550100"})
    assert response.status_code == 403  # unsigned: the handler ran and refused it
