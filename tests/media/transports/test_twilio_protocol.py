"""Twilio Media Streams messages: Twilio's documented JSON parses, ours round-trip, garbage is named."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from milo_voice.errors import ProtocolViolation
from milo_voice.media.transports import twilio_protocol as tp

SID = "MZ18ad3ab5a668481ce02b83e7395059f0"

# Shaped like the examples in Twilio's "Media Streams - WebSocket Messages" reference.
START = {
    "event": "start",
    "sequenceNumber": "1",
    "start": {
        "accountSid": "AC00000000000000000000000000000000",
        "streamSid": SID,
        "callSid": "CA00000000000000000000000000000000",
        "tracks": ["inbound"],
        "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
        "customParameters": {"ticket": "abc", "FirstName": "Jane"},
    },
    "streamSid": SID,
}
MEDIA = {
    "event": "media",
    "sequenceNumber": "3",
    "media": {"track": "inbound", "chunk": "1", "timestamp": "5",
              "payload": base64.b64encode(b"\xff" * 160).decode()},
    "streamSid": SID,
}


def test_twilio_documented_messages_parse() -> None:
    connected = tp.parse_twilio('{"event": "connected", "protocol": "Call", "version": "1.0.0"}')
    assert connected == tp.Connected("Call", "1.0.0")
    start = tp.parse_twilio(json.dumps(START))
    assert isinstance(start, tp.Start)
    assert (start.stream_sid, start.call_sid, start.sequence_number) == (SID, START["start"]["callSid"], 1)
    assert start.custom_parameters == {"ticket": "abc", "FirstName": "Jane"}
    media = tp.parse_twilio(json.dumps(MEDIA))
    assert media == tp.Media(b"\xff" * 160, "inbound", 1, 5, SID, 3)
    mark = tp.parse_twilio(json.dumps({"event": "mark", "sequenceNumber": "4", "streamSid": SID,
                                       "mark": {"name": "m1"}}))
    assert mark == tp.Mark("m1", SID, 4)
    dtmf = tp.parse_twilio(json.dumps({"event": "dtmf", "streamSid": SID, "sequenceNumber": "5",
                                       "dtmf": {"track": "inbound_track", "digit": "#"}}))
    assert dtmf == tp.Dtmf("#", "inbound_track", SID, 5)
    stop = tp.parse_twilio(json.dumps({"event": "stop", "sequenceNumber": "6", "streamSid": SID,
                                       "stop": {"accountSid": "AC1", "callSid": "CA1"}}))
    assert stop == tp.Stop("CA1", "AC1", SID, 6)


def test_what_we_send_twilio_is_exactly_its_format() -> None:
    media = json.loads(tp.to_json(tp.Media(b"\x00\x7f", stream_sid=SID), outbound=True))
    assert media == {"event": "media", "streamSid": SID, "media": {"payload": "AH8="}}
    assert json.loads(tp.to_json(tp.Mark("m7", SID), outbound=True)) == {
        "event": "mark", "streamSid": SID, "mark": {"name": "m7"}}
    assert json.loads(tp.to_json(tp.Clear(SID))) == {"event": "clear", "streamSid": SID}
    assert tp.parse_server(tp.to_json(tp.Clear(SID))) == tp.Clear(SID)
    assert tp.parse_server(tp.to_json(tp.Mark("x", SID), outbound=True)) == tp.Mark("x", SID)


payloads = st.binary(min_size=1, max_size=tp.MAX_PAYLOAD_BYTES)
texts = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30)


@given(
    message=st.one_of(
        st.builds(tp.Media, payloads, st.sampled_from(["inbound", "outbound"]), st.integers(0, 10**6),
                  st.integers(0, 10**9), st.just(SID), st.integers(0, 10**6)),
        st.builds(tp.Mark, texts, st.just(SID), st.integers(0, 10**6)),
        st.builds(tp.Dtmf, st.sampled_from(sorted(tp.DTMF_DIGITS)), st.just("inbound_track"), st.just(SID),
                  st.integers(0, 10**6)),
        st.builds(tp.Stop, texts, texts, st.just(SID), st.integers(0, 10**6)),
        st.builds(tp.Start, st.just(SID), texts, texts, st.just(("inbound",)),
                  st.dictionaries(texts, texts, max_size=4)),
    )
)
def test_every_twilio_message_round_trips(message: tp.TwilioEvent) -> None:
    assert tp.parse_twilio(tp.to_json(message)) == message


@given(payload=payloads)
def test_outbound_media_round_trips(payload: bytes) -> None:
    sent = tp.Media(payload, track="outbound", stream_sid=SID)
    assert tp.parse_server(tp.to_json(sent, outbound=True)) == sent


def _with(base: dict[str, object], path: tuple[str, ...], value: object) -> str:
    data = json.loads(json.dumps(base))
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return json.dumps(data)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("{not json", "malformed JSON"),
        ("[1, 2]", "expected an object"),
        ('{"no": "event"}', "'event'"),
        ('{"event": "dance"}', "unknown event 'dance'"),
        (_with(MEDIA, ("media", "payload"), "%%%not base64%%%"), "not valid base64"),
        (_with(MEDIA, ("media", "payload"), ""), "non-empty base64"),
        (_with(MEDIA, ("media", "payload"), base64.b64encode(bytes(8000)).decode()), "at most 1600 bytes"),
        (_with(MEDIA, ("media", "timestamp"), "soon"), "'timestamp'"),
        (_with(MEDIA, ("media",), "x"), "'media' object"),
        (_with(START, ("start", "mediaFormat", "sampleRate"), 16000), "expected audio/x-mulaw 8000 Hz mono"),
        (_with(START, ("start", "customParameters"), {"a": 1}), "customParameters"),
        (_with(START, ("start", "callSid"), None), "'callSid'"),
        ('{"event": "dtmf", "dtmf": {"digit": "x"}}', "not one of"),
        ('{"event": "mark", "mark": {}}', "'name'"),
        ("x" * (tp.MAX_MESSAGE_CHARS + 1), "the limit is"),
    ],
)
def test_garbage_is_refused_with_a_reason(text: str, says: str) -> None:
    with pytest.raises(ProtocolViolation, match=None) as caught:
        tp.parse_twilio(text)
    assert says in str(caught.value)


def test_binary_frames_are_refused() -> None:
    with pytest.raises(ProtocolViolation, match="binary"):
        tp.parse_twilio(b"\x00\x01")
