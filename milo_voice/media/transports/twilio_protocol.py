"""Twilio Media Streams messages as typed values: parse what Twilio sends, produce what it accepts.

Pure functions over JSON text; no sockets, no audio processing, no dialogue. Every malformed
message raises `ProtocolViolation` with a message that names the field, so the transport can log
it and skip it. Field names and shapes follow Twilio's "Media Streams - WebSocket Messages"
reference: Twilio sends `connected`, `start`, `media`, `dtmf`, `mark` and `stop`; it accepts
`media`, `mark` and `clear` (each carrying the `streamSid` from `start`).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

from milo_voice.errors import ProtocolViolation

ENCODING = "audio/x-mulaw"
"""The only media encoding of a bidirectional Twilio stream: G.711 mu-law..."""
SAMPLE_RATE = 8_000
"""...at 8 kHz (Hz)..."""
CHANNELS = 1
"""...mono."""
MAX_MESSAGE_CHARS = 65_536
"""Longest message we parse (characters). Twilio's largest, `start`, is well under 4 KB."""
MAX_PAYLOAD_BYTES = 1_600
"""Largest inbound media payload accepted (bytes = samples): 200 ms. Twilio sends 160 (20 ms)."""
MAX_MARK_NAME = 200
"""Longest mark name accepted (characters)."""
DTMF_DIGITS = frozenset("0123456789*#ABCD")


@dataclass(frozen=True, slots=True)
class Connected:
    """First message of a stream: Twilio says which protocol it speaks."""

    protocol: str = "Call"
    version: str = "1.0.0"


@dataclass(frozen=True, slots=True)
class Start:
    """The stream's metadata: ids, tracks, format and the `<Parameter>`s of the TwiML `<Stream>`."""

    stream_sid: str
    call_sid: str
    account_sid: str = ""
    tracks: tuple[str, ...] = ("inbound",)
    custom_parameters: dict[str, str] = field(default_factory=dict)
    encoding: str = ENCODING
    sample_rate: int = SAMPLE_RATE
    """Hz."""
    channels: int = CHANNELS
    sequence_number: int = 1


@dataclass(frozen=True, slots=True)
class Media:
    """One piece of audio: mu-law bytes (one byte per sample at 8 kHz)."""

    payload: bytes
    track: str = "inbound"
    chunk: int = 1
    """Twilio's chunk counter, from 1."""
    timestamp: int = 0
    """Milliseconds since the stream started."""
    stream_sid: str = ""
    sequence_number: int = 0


@dataclass(frozen=True, slots=True)
class Dtmf:
    """A key the caller pressed."""

    digit: str
    track: str = "inbound_track"
    stream_sid: str = ""
    sequence_number: int = 0


@dataclass(frozen=True, slots=True)
class Mark:
    """A named point in the outbound audio; Twilio echoes it once the audio before it has played
    (or at once, for marks whose audio a `clear` discarded)."""

    name: str
    stream_sid: str = ""
    sequence_number: int = 0


@dataclass(frozen=True, slots=True)
class Stop:
    """The stream is over (the call hung up, or the TwiML moved on)."""

    call_sid: str = ""
    account_sid: str = ""
    stream_sid: str = ""
    sequence_number: int = 0


@dataclass(frozen=True, slots=True)
class Clear:
    """To Twilio: drop all buffered outbound audio now (barge-in)."""

    stream_sid: str = ""


TwilioEvent = Connected | Start | Media | Dtmf | Mark | Stop
"""What Twilio sends us."""
ServerEvent = Media | Mark | Clear
"""What we send Twilio."""


# -- parsing ---------------------------------------------------------------------------------


def _load(text: str | bytes) -> dict[str, Any]:
    if isinstance(text, bytes):
        raise ProtocolViolation("binary websocket message; Media Streams messages are JSON text")
    if len(text) > MAX_MESSAGE_CHARS:
        raise ProtocolViolation(f"message of {len(text)} characters; the limit is {MAX_MESSAGE_CHARS}")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ProtocolViolation(f"malformed JSON ({str(exc)[:80]})") from None
    if not isinstance(data, dict):
        raise ProtocolViolation(f"a JSON {type(data).__name__}; expected an object with an 'event' field")
    if not isinstance(data.get("event"), str):
        raise ProtocolViolation("message without an 'event' string")
    return data


def _obj(data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name)
    if not isinstance(value, dict):
        raise ProtocolViolation(f"'{data['event']}' message without a '{name}' object")
    return value


def _str(data: dict[str, Any], name: str, *, required: bool = True, where: str = "") -> str:
    value = data.get(name, None if required else "")
    if not isinstance(value, str) or (required and not value):
        raise ProtocolViolation(f"{where or data.get('event', '?')}: '{name}' must be a non-empty string")
    return value


def _int(data: dict[str, Any], name: str, *, default: int | None = None, where: str = "") -> int:
    """Twilio sends counters as decimal strings ("3"); numbers are accepted too."""
    value = data.get(name, default)
    if isinstance(value, bool) or value is None:
        raise ProtocolViolation(f"{where or data.get('event', '?')}: '{name}' must be a whole number")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.isdigit() and len(value) <= 12:
        number = int(value)
    else:
        raise ProtocolViolation(f"{where or data.get('event', '?')}: '{name}'={str(value)[:20]!r} is not a "
                                "whole number")
    if number < 0:
        raise ProtocolViolation(f"{where}: '{name}' must not be negative")
    return number


def _payload(media: dict[str, Any]) -> bytes:
    raw = media.get("payload")
    if not isinstance(raw, str) or not raw:
        raise ProtocolViolation("media: 'payload' must be a non-empty base64 string")
    if len(raw) > 4 * MAX_PAYLOAD_BYTES // 3 + 4:
        raise ProtocolViolation(f"media: payload of {len(raw)} base64 characters; at most "
                                f"{MAX_PAYLOAD_BYTES} bytes (200 ms) per message")
    try:
        payload = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolViolation("media: 'payload' is not valid base64") from None
    if not payload:
        raise ProtocolViolation("media: empty payload")
    return payload


def parse_twilio(text: str | bytes) -> TwilioEvent:
    """A message from Twilio as a typed event; anything else raises `ProtocolViolation`."""
    data = _load(text)
    event = data["event"]
    stream_sid = data.get("streamSid", "")
    if not isinstance(stream_sid, str):
        raise ProtocolViolation(f"{event}: 'streamSid' must be a string")
    if event == "connected":
        protocol = _str(data, "protocol", required=False) or "Call"
        return Connected(protocol, _str(data, "version", required=False))
    seq = _int(data, "sequenceNumber", default=0, where=event)
    if event == "media":
        media = _obj(data, "media")
        return Media(
            _payload(media),
            track=_str(media, "track", required=False, where="media") or "inbound",
            chunk=_int(media, "chunk", default=0, where="media"),
            timestamp=_int(media, "timestamp", default=0, where="media"),
            stream_sid=stream_sid,
            sequence_number=seq,
        )
    if event == "mark":
        name = _str(_obj(data, "mark"), "name", where="mark")
        if len(name) > MAX_MARK_NAME:
            raise ProtocolViolation(f"mark: name of {len(name)} characters; at most {MAX_MARK_NAME}")
        return Mark(name, stream_sid, seq)
    if event == "dtmf":
        dtmf = _obj(data, "dtmf")
        digit = _str(dtmf, "digit", where="dtmf")
        if digit not in DTMF_DIGITS:
            raise ProtocolViolation(f"dtmf: digit {digit[:5]!r} is not one of 0-9 * # A-D")
        track = _str(dtmf, "track", required=False, where="dtmf") or "inbound_track"
        return Dtmf(digit, track, stream_sid, seq)
    if event == "start":
        return _parse_start(data, stream_sid, seq)
    if event == "stop":
        stop = data.get("stop", {})
        if not isinstance(stop, dict):
            raise ProtocolViolation("stop: 'stop' must be an object")
        return Stop(_str(stop, "callSid", required=False, where="stop"),
                    _str(stop, "accountSid", required=False, where="stop"), stream_sid, seq)
    raise ProtocolViolation(
        f"unknown event {event[:40]!r}; expected connected, start, media, dtmf, mark or stop"
    )


def _parse_start(data: dict[str, Any], stream_sid: str, seq: int) -> Start:
    start = _obj(data, "start")
    stream_sid = stream_sid or _str(start, "streamSid", where="start")
    fmt = start.get("mediaFormat")
    if not isinstance(fmt, dict):
        raise ProtocolViolation("start: missing 'mediaFormat'")
    encoding = _str(fmt, "encoding", where="start.mediaFormat")
    rate = _int(fmt, "sampleRate", where="start.mediaFormat")
    channels = _int(fmt, "channels", where="start.mediaFormat")
    if (encoding, rate, channels) != (ENCODING, SAMPLE_RATE, CHANNELS):
        raise ProtocolViolation(f"start: media format {encoding} {rate} Hz x{channels}; "
                                f"expected {ENCODING} {SAMPLE_RATE} Hz mono")
    params = start.get("customParameters", {})
    if not isinstance(params, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in params.items()
    ):
        raise ProtocolViolation("start: 'customParameters' must map strings to strings")
    tracks = start.get("tracks", ["inbound"])
    if not isinstance(tracks, list) or not all(isinstance(t, str) for t in tracks):
        raise ProtocolViolation("start: 'tracks' must be a list of strings")
    return Start(
        stream_sid=stream_sid,
        call_sid=_str(start, "callSid", where="start"),
        account_sid=_str(start, "accountSid", required=False, where="start"),
        tracks=tuple(tracks),
        custom_parameters=dict(params),
        encoding=encoding,
        sample_rate=rate,
        channels=channels,
        sequence_number=seq,
    )


def parse_server(text: str | bytes) -> ServerEvent:
    """A message we send Twilio, as Twilio would read it (for fakes, benchmarks and tests)."""
    data = _load(text)
    event = data["event"]
    stream_sid = _str(data, "streamSid", where=event)
    if event == "media":
        return Media(_payload(_obj(data, "media")), track="outbound", stream_sid=stream_sid)
    if event == "mark":
        return Mark(_str(_obj(data, "mark"), "name", where="mark"), stream_sid)
    if event == "clear":
        return Clear(stream_sid)
    raise ProtocolViolation(
        f"unknown event {event[:40]!r} to Twilio; expected media, mark or clear"
    )


# -- producing -------------------------------------------------------------------------------


def _b64(payload: bytes) -> str:
    return base64.b64encode(payload).decode("ascii")


def to_json(message: TwilioEvent | Clear, *, outbound: bool = False) -> str:
    """The exact JSON text of `message`. `outbound=True` writes media and marks as sent *to* Twilio
    (only `streamSid` and the payload or name); otherwise as Twilio sends them."""
    if isinstance(message, Clear):
        return json.dumps({"event": "clear", "streamSid": message.stream_sid})
    if isinstance(message, Media) and outbound:
        return json.dumps({"event": "media", "streamSid": message.stream_sid,
                           "media": {"payload": _b64(message.payload)}})
    if isinstance(message, Mark) and outbound:
        return json.dumps({"event": "mark", "streamSid": message.stream_sid, "mark": {"name": message.name}})
    return json.dumps(_twilio_dict(message))


def _twilio_dict(message: TwilioEvent) -> dict[str, Any]:
    if isinstance(message, Connected):
        return {"event": "connected", "protocol": message.protocol, "version": message.version}
    head: dict[str, Any] = {"event": "", "sequenceNumber": str(message.sequence_number),
                            "streamSid": message.stream_sid}
    if isinstance(message, Start):
        head["event"] = "start"
        head["start"] = {
            "accountSid": message.account_sid,
            "streamSid": message.stream_sid,
            "callSid": message.call_sid,
            "tracks": list(message.tracks),
            "customParameters": dict(message.custom_parameters),
            "mediaFormat": {"encoding": message.encoding, "sampleRate": message.sample_rate,
                            "channels": message.channels},
        }
    elif isinstance(message, Media):
        head["event"] = "media"
        head["media"] = {"track": message.track, "chunk": str(message.chunk),
                         "timestamp": str(message.timestamp), "payload": _b64(message.payload)}
    elif isinstance(message, Dtmf):
        head["event"] = "dtmf"
        head["dtmf"] = {"track": message.track, "digit": message.digit}
    elif isinstance(message, Mark):
        head["event"] = "mark"
        head["mark"] = {"name": message.name}
    else:
        head["event"] = "stop"
        head["stop"] = {"accountSid": message.account_sid, "callSid": message.call_sid}
    return head
