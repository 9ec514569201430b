"""Webhook endpoints that point at internal addresses are refused (issue 20, finding 8).

With `MILO_WEBHOOK_ALLOW_PRIVATE_TARGETS` off: an admin cannot save a URL whose host is, or resolves
to, loopback, private, link-local (the cloud metadata service) or another non-public address (a clear
message on the page); and an endpoint that reaches one anyway (saved before, or DNS changed) gets no
delivery: a real receiver on 127.0.0.1 hears nothing, the delivery fails once with the reason, and
it is not retried. The setting on, the same receiver gets the signed event.
"""

from __future__ import annotations

import logging
import re
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from helpers import run
from scorer.webhook_receiver import WebhookReceiver
from starlette.testclient import TestClient
from workspace.support import ADMIN, PASSWORD, form_token, login

from milo_voice.calls.session_store import SessionStore
from milo_voice.scoring import webhook_targets
from milo_voice.scoring.service import build, send_test_event
from milo_voice.scoring.store import ScoringStore
from milo_voice.scoring.webhook_targets import check_target
from milo_voice.settings import Settings
from milo_voice.store.tables import WebhookDelivery
from milo_voice.web.app import create_app
from milo_voice.workspace.accounts import Accounts
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.webhook_admin import WebhookAdmin

PAGE = "/app/settings/webhooks"
INTERNAL = {
    "loopback": ("http://127.0.0.1:{port}/hook", "loopback"),
    "private": ("http://10.0.0.5/hook", "private"),
    "metadata": ("http://169.254.169.254/latest/meta-data/", "link-local"),
    "ipv6 loopback": ("http://[::1]:{port}/hook", "loopback"),
    "localhost": ("http://localhost:{port}/hook", "loopback"),
}


@pytest.fixture(autouse=True)
def milo_logs_reach_caplog(monkeypatch: pytest.MonkeyPatch) -> None:
    """`log.configure` (run by any CLI test earlier in the session) stops propagation: undo it here."""
    monkeypatch.setattr(logging.getLogger("milo_voice"), "propagate", True)


@pytest.fixture
def strict(settings: Settings) -> Settings:
    """The default: private targets refused (the suite's own settings allow them for its receivers)."""
    return settings.with_overrides(webhook_allow_private_targets=False, webhook_timeout=2.0)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver("whsec_test", [200]) as hook:
        yield hook


@pytest.fixture
def admin(strict: Settings, store: SessionStore) -> Iterator[TestClient]:
    Accounts(store.engine).create_user(email=ADMIN, password=PASSWORD, role="admin", name="Ada")
    with TestClient(create_app(strict, store.engine), base_url="http://testserver") as client:
        login(client, ADMIN)
        yield client


def url_of(name: str, receiver: WebhookReceiver) -> str:
    port = receiver.url.split(":")[2].split("/")[0]
    return INTERNAL[name][0].format(port=port)


@pytest.mark.parametrize("name", list(INTERNAL))
def test_an_internal_url_is_refused_when_an_admin_saves_it(
    admin: TestClient, store: SessionStore, receiver: WebhookReceiver, name: str
) -> None:
    url = url_of(name, receiver)
    response = admin.post(
        PAGE, data={"csrf_token": form_token(admin, PAGE), "url": url, "events": ["interview.started"]}
    )
    assert response.status_code == 400 and 'role="alert"' in response.text
    message = re.search(r'role="alert"[^>]*>(.*?)<', response.text, re.S)
    assert message and "is not a public address" in message.group(1), response.text
    assert f"({INTERNAL[name][1]})" in message.group(1)
    assert "MILO_WEBHOOK_ALLOW_PRIVATE_TARGETS" in message.group(1)
    assert "new-secret" not in response.text and WebhookAdmin(store.engine).endpoints() == []
    assert receiver.received == []


@pytest.mark.parametrize("name", list(INTERNAL))
def test_an_internal_target_gets_no_delivery_and_is_not_retried(
    strict: Settings,
    store: SessionStore,
    receiver: WebhookReceiver,
    caplog: pytest.LogCaptureFixture,
    name: str,
) -> None:
    caplog.set_level(logging.INFO, logger="milo_voice")
    scoring = ScoringStore(store.engine)  # saved before the check existed, or DNS changed since
    endpoint = scoring.add_endpoint(url_of(name, receiver), "whsec_test", ["interview.started"])
    runtime = build(strict, store.engine, Candidates(store.engine))
    delivery_id = send_test_event(strict, store.engine, endpoint.id or 0)
    assert run(runtime.worker.run_until_idle, timeout=30) == 1
    assert receiver.received == []
    delivery = scoring.delivery(delivery_id)
    assert isinstance(delivery, WebhookDelivery)
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("failed", 1, None)
    assert (delivery.error or "").startswith("refused: ") and f"({INTERNAL[name][1]})" in (
        delivery.error or ""
    )
    assert [job.status for job in runtime.worker.table.all("webhook")] == ["done"], "no retry queued"
    (refusal,) = [r for r in caplog.records if r.getMessage() == "webhook.target_refused"]
    assert refusal.levelno == logging.WARNING and "not a public address" in refusal.__dict__["reason"]


def test_with_the_setting_on_the_loopback_receiver_gets_the_event(
    settings: Settings, store: SessionStore, receiver: WebhookReceiver
) -> None:
    allowed = settings.with_overrides(webhook_allow_private_targets=True)
    endpoint, _ = WebhookAdmin(store.engine).create(receiver.url, ["interview.started"], allow_private=True)
    runtime = build(allowed, store.engine, Candidates(store.engine))
    send_test_event(allowed, store.engine, endpoint.id or 0)
    assert run(runtime.worker.run_until_idle, timeout=30) == 1
    assert [r.headers["x-milo-event"] for r in receiver.received] == ["webhook.test"]


@pytest.mark.parametrize(
    ("host", "kind"),
    [
        ("0.0.0.0", "unspecified"),
        ("[::]", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("192.168.1.10", "private"),
        ("172.16.0.1", "private"),
        ("[fd00::1]", "private"),
        ("[fe80::1]", "link-local"),
        ("[::ffff:127.0.0.1]", "loopback"),
        ("100.64.0.1", "not global"),
    ],
)
def test_every_kind_of_non_public_address_is_named(host: str, kind: str) -> None:
    check = check_target(f"https://{host}/hook", allow_private=False)
    assert not check.ok and f"({kind})" in check.refused
    assert check_target(f"https://{host}/hook", allow_private=True).ok


def fake_dns(answers: dict[str, list[str]]) -> Any:
    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in answers[host]]

    return getaddrinfo


def test_a_name_is_judged_by_every_address_it_resolves_to(monkeypatch: pytest.MonkeyPatch) -> None:
    dns = {"hooks.example.com": ["93.184.216.34"], "mixed.example.com": ["93.184.216.34", "10.1.2.3"]}
    monkeypatch.setattr(webhook_targets.socket, "getaddrinfo", fake_dns(dns))
    assert check_target("https://hooks.example.com/in", allow_private=False).ok
    mixed = check_target("https://mixed.example.com/in", allow_private=False)
    assert "mixed.example.com (10.1.2.3) is not a public address (private)" in mixed.refused
    gone = check_target("https://gone.example.com/in", allow_private=False)
    assert not gone.refused and "could not be resolved" in gone.unresolved


def test_an_unresolvable_host_is_refused_on_save_and_retried_at_delivery(
    strict: Settings, store: SessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webhook_targets.socket, "getaddrinfo", fake_dns({}))
    with pytest.raises(Exception, match="could not be resolved"):
        WebhookAdmin(store.engine).create("https://gone.example.com/in", ["interview.started"])
    scoring = ScoringStore(store.engine)
    endpoint = scoring.add_endpoint("https://gone.example.com/in", "whsec_test", ["interview.started"])
    runtime = build(strict.with_overrides(job_backoff=60.0), store.engine, Candidates(store.engine))
    delivery_id = send_test_event(strict, store.engine, endpoint.id or 0)
    assert run(runtime.worker.run_until_idle, timeout=30) == 1
    delivery = scoring.delivery(delivery_id)
    assert delivery is not None and delivery.status == "pending", "DNS may be back later: retried"
    assert "could not be resolved" in (delivery.error or "")


def rebinding_dns(first: str, then: str) -> Any:
    """A name that answers `first` to the first lookup and `then` to every later one (DNS rebinding)."""
    answers: list[str] = []

    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        answers.append(first if not answers else then)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[-1], port))]

    return getaddrinfo


def test_a_name_that_rebinds_to_loopback_after_the_check_gets_no_delivery(
    strict: Settings, store: SessionStore, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check sees a public address; a second lookup (the HTTP client's own) would say 127.0.0.1.
    The delivery connects to the checked address (unreachable here), so the loopback receiver hears
    nothing; without the pin it got the signed event."""
    port = receiver.url.split(":")[2].split("/")[0]
    monkeypatch.setattr(webhook_targets.socket, "getaddrinfo", rebinding_dns("93.184.216.34", "127.0.0.1"))
    scoring = ScoringStore(store.engine)
    url = f"http://rebind.example.com:{port}/hook"
    endpoint = scoring.add_endpoint(url, "whsec_test", ["interview.started"])
    runtime = build(strict.with_overrides(webhook_timeout=0.5, job_max_attempts=1), store.engine,
                    Candidates(store.engine))
    delivery_id = send_test_event(strict, store.engine, endpoint.id or 0)
    assert run(runtime.worker.run_until_idle, timeout=30) == 1
    assert receiver.received == []
    delivery = scoring.delivery(delivery_id)
    assert delivery is not None and delivery.status == "failed" and delivery.response_status is None


@pytest.mark.parametrize(
    ("url", "address", "expected_url", "host", "sni"),
    [
        ("http://hooks.example.com:8080/in?a=1", "93.184.216.34", "http://93.184.216.34:8080/in?a=1",
         "hooks.example.com:8080", None),
        ("https://hooks.example.com/in", "2606:2800:220:1::1", "https://[2606:2800:220:1::1]/in",
         "hooks.example.com", "hooks.example.com"),
        ("https://u:p@hooks.example.com/in", "93.184.216.34", "https://u:p@93.184.216.34/in",
         "hooks.example.com", "hooks.example.com"),
    ],
)
def test_a_pinned_request_names_the_checked_address_and_keeps_the_host(
    url: str, address: str, expected_url: str, host: str, sni: str | None
) -> None:
    request = webhook_targets.pinned(url, address)
    assert request.url == expected_url and request.headers == {"Host": host}
    assert request.extensions.get("sni_hostname") == sni
    assert webhook_targets.pinned(url, "") == webhook_targets.PinnedRequest(url, {}, {})


def test_a_pinned_request_reaches_the_address_with_the_host_header(receiver: WebhookReceiver) -> None:
    port = receiver.url.split(":")[2].split("/")[0]
    request = webhook_targets.pinned(f"http://hooks.example.com:{port}/hook", "127.0.0.1")
    with httpx.Client() as client:
        response = client.post(
            request.url, content=b"{}", headers=request.headers, extensions=request.extensions
        )
    assert response.status_code == 401  # unsigned: the receiver answered, so the pin reached it
    assert receiver.received[0].headers["host"] == f"hooks.example.com:{port}"
