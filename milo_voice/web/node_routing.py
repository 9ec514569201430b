"""Sending a call's requests to the node that holds it (or should take it), when several nodes serve.

A browser call's media goes straight from the browser to the node that answered its offer, so the offer
must be answered by a node with room, and every later offer (a reconnect) or end of that call by the same
node. The proxy in front may hand a request to any node: that node looks the call up (`calls/cluster.py`)
and, when another node should answer, forwards the request to it over the nodes' own network (MILO_NODE_URL)
and relays the answer. The browser never knows. A forwarded request carries the client's address and an
HMAC over it with a secret every node reads from the database, so the receiving node counts the real client
in its per-address limits and never forwards it again. Without a cluster (tests, `create_app` alone) every
decision is this node's own.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time

import httpx
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from milo_voice.calls.cluster import Cluster
from milo_voice.calls.node_choice import NodeLoad
from milo_voice.web.repos import repo
from milo_voice.workspace.accounts import Accounts

log = logging.getLogger(__name__)

HOP = "x-milo-node-hop"
"""`<sending node>:<unix seconds>:<hex HMAC-SHA256 of node, time, client and path>`."""
CLIENT = "x-milo-client"
"""The client address the sending node saw (its own proxy's X-Forwarded-For already applied)."""
SECRET_NAME = "node_hop"
"""The `app_secret` every node signs forwarded requests with."""
HOP_MAX_AGE_S = 60
FORWARD_TIMEOUT_S = 20.0
"""Seconds a forwarded request may take (an offer's answer waits for the node's ICE gathering)."""
RELAYED_HEADERS = ("content-type", "retry-after")


def cluster(app: Starlette) -> Cluster | None:
    """The app's cluster view, when `serve` runs it as one node of several (else None)."""
    return getattr(app.state, "cluster", None)


async def _secret(request: Request) -> str:
    cached: str | None = getattr(request.app.state, "node_hop_secret", None)
    if cached is None:
        cached = await run_in_threadpool(repo(request, Accounts).secret, SECRET_NAME)
        request.app.state.node_hop_secret = cached
    return cached


def _mac(secret: str, node: str, at: int, client: str, path: str) -> str:
    message = f"{node}\n{at}\n{client}\n{path}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


async def vouched_client(request: Request) -> str | None:
    """The client address a forwarding node vouches for, or None when the request was not forwarded (or the
    hop does not verify: then it is treated as any request from its sender)."""
    hop, client = request.headers.get(HOP), request.headers.get(CLIENT, "")
    if hop is None or cluster(request.app) is None:
        return None
    node, _, rest = hop.partition(":")
    at, _, mac = rest.partition(":")
    if not at.isdigit() or abs(time.time() - int(at)) > HOP_MAX_AGE_S:
        log.warning("routing.hop_refused", extra={"reason": "stale or malformed", "from_node": node[:100]})
        return None
    expected = _mac(await _secret(request), node, int(at), client, request.url.path)
    if not hmac.compare_digest(mac, expected):
        log.warning("routing.hop_refused", extra={"reason": "bad signature", "from_node": node[:100]})
        return None
    return client


async def forward(request: Request, node: NodeLoad, body: bytes, client: str) -> Response | None:
    """POST `body` to the same path on `node` and relay its answer; None when the node cannot be reached
    (refused, timed out: the caller decides what to do instead)."""
    me = cluster(request.app)
    sender = me.me if me is not None else ""
    at = int(time.time())
    headers = {
        "content-type": request.headers.get("content-type", "application/json"),
        HOP: f"{sender}:{at}:{_mac(await _secret(request), sender, at, client, request.url.path)}",
        CLIENT: client,
    }
    url = node.url.rstrip("/") + request.url.path
    started = time.monotonic()
    try:
        async with httpx.AsyncClient(timeout=FORWARD_TIMEOUT_S) as http:
            answer = await http.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        log.warning("routing.forward_failed", extra={"node": node.name, "path": request.url.path,
                                                      "error": type(exc).__name__})
        return None
    log.info("routing.forwarded", extra={"node": node.name, "path": request.url.path,
                                         "status": answer.status_code,
                                         "ms": round(1000 * (time.monotonic() - started))})
    relayed = {k: v for k, v in answer.headers.items() if k.lower() in RELAYED_HEADERS}
    return Response(answer.content, status_code=answer.status_code, headers=relayed)
