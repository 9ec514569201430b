"""What a browser sends to start a WebRTC call, checked: the SDP offer and the ICE server list."""

from __future__ import annotations

from typing import Any

from aiortc import RTCConfiguration, RTCIceServer, RTCSessionDescription

from milo_voice.errors import ProtocolViolation

CONTROL_LABEL = "control"
"""Label of the data channel the browser opens for state, captions and the end button."""
MAX_SDP_BYTES = 64_000
"""An offer larger than this is refused: a browser's offer with audio, video and data is ~5 kB."""


def ice_configuration(servers: list[dict[str, Any]]) -> RTCConfiguration:
    """`[{"urls": ..., "username": ..., "credential": ...}]` (the browser's form) as aiortc config."""
    return RTCConfiguration(iceServers=[
        RTCIceServer(urls=s["urls"], username=s.get("username"), credential=s.get("credential"))
        for s in servers
    ])


def parse_offer(body: Any) -> RTCSessionDescription:
    """Check an offer as received from a client; raise `ProtocolViolation` saying what is wrong."""
    if not isinstance(body, dict):
        raise ProtocolViolation("expected a JSON object with 'sdp' and 'type'")
    sdp, kind = body.get("sdp"), body.get("type")
    if kind != "offer":
        raise ProtocolViolation(f"'type' is {kind!r}; expected 'offer'")
    if not isinstance(sdp, str) or not sdp.startswith("v=0"):
        raise ProtocolViolation("'sdp' is not a session description (it must start with 'v=0')")
    if len(sdp.encode()) > MAX_SDP_BYTES:
        raise ProtocolViolation(f"'sdp' is over {MAX_SDP_BYTES} bytes")
    if "m=audio" not in sdp:
        raise ProtocolViolation("the offer has no audio section: the microphone is required")
    return RTCSessionDescription(sdp=sdp, type="offer")
