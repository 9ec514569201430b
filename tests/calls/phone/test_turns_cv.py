"""bench/turns_cv.py: the phone channel model it measures evidence on, and the leave-one-speaker-out
choice of settings. The phone model must be exactly what the Twilio transport hands the pipeline
(else the 8 kHz evidence figures describe some other channel), and each fold must choose its
setting without seeing the speaker it is scored on."""

from __future__ import annotations

import asyncio
import base64
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.append(str(Path(__file__).resolve().parents[3] / "bench"))

import turns_cv
from turns_score import Pause

from milo_voice.dialogue.turn_policy import TurnParams
from milo_voice.media import mulaw
from milo_voice.media.pcm import resample
from milo_voice.media.transports.twilio import TwilioStreamTransport

RATE = 16_000


class Socket:
    def __init__(self, messages: list[str]) -> None:
        self.messages = messages

    async def receive(self) -> str | None:
        return self.messages.pop(0) if self.messages else None

    async def send(self, text: str) -> None:
        pass

    async def close(self, code: int = 1000, reason: str = "") -> None:
        pass


def through_the_transport(samples: np.ndarray) -> np.ndarray:
    """`samples` as a caller's 20 ms mu-law frames, through the real TwilioStreamTransport."""
    narrow = resample(samples, RATE, 8000)
    narrow = narrow[: len(narrow) - len(narrow) % 160]
    start = {"event": "start", "streamSid": "MZ1", "start": {
        "streamSid": "MZ1", "callSid": "CA1", "accountSid": "AC1", "tracks": ["inbound"],
        "customParameters": {},
        "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}}
    messages = [json.dumps(start)] + [
        json.dumps({"event": "media", "streamSid": "MZ1", "media": {
            "track": "inbound", "chunk": str(i), "timestamp": str(i * 20),
            "payload": base64.b64encode(mulaw.encode(narrow[i * 160:(i + 1) * 160])).decode()}})
        for i in range(len(narrow) // 160)]

    async def go() -> np.ndarray:
        transport = TwilioStreamTransport(Socket(messages))
        await transport.open()
        pieces = [np.frombuffer(chunk.pcm, dtype="<i2") async for chunk in transport.inbound()]
        await transport.close()
        return np.concatenate(pieces)

    return asyncio.run(go())


def tone(hz: float, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (8000 * np.sin(2 * np.pi * hz * t)).astype(np.int16)


def test_the_phone_model_is_what_the_twilio_transport_hands_the_pipeline() -> None:
    rng = np.random.default_rng(5)
    speech_like = (tone(180) + tone(900) // 2 + rng.normal(0, 300, RATE)).astype(np.int16)
    modelled = turns_cv.phone_audio(speech_like)
    real = through_the_transport(speech_like)
    assert len(modelled) == len(real)
    assert np.array_equal(modelled, real)


def test_the_phone_model_keeps_the_telephone_band_and_drops_what_8khz_cannot_carry() -> None:
    def level(x: np.ndarray) -> float:
        return float(np.sqrt(np.mean(x[1600:-1600].astype(np.float64) ** 2)))

    assert level(turns_cv.phone_audio(tone(1000))) == pytest.approx(level(tone(1000)), rel=0.12)
    assert level(turns_cv.phone_audio(tone(6000))) < 0.01 * level(tone(6000))


def run(id_: str, speaker: str, dead: float | None, talked: list[Pause], pauses: list[Pause]) -> Any:
    return turns_cv.AnswerRun(id_, speaker, talked, pauses, dead)


def test_figures_count_each_pause_in_every_row_it_belongs_to() -> None:
    short, near, long_, unfinished = (Pause(1.0, 2.2), Pause(5.0, 6.55), Pause(9.0, 12.0),
                                      Pause(14.0, 16.0, "mid-sentence (after function word)"))
    pauses = [short, near, long_, unfinished]
    f = turns_cv.figures([run("a", "s", 1.6, [short, near, unfinished], pauses),
                          run("b", "s", None, [], pauses)])
    assert f.short == (1, 2) and f.near == 2  # 1.2 s is short; 1.55 s is short only with the margin
    assert f.unfinished == (1, 2) and f.long == (2, 6)
    assert (f.dead_p50, f.no_reply, f.answers) == (1.6, 1, 2)


def test_each_fold_chooses_its_setting_without_the_speaker_it_is_scored_on() -> None:
    pause = Pause(1.0, 2.0)
    quick, patient = TurnParams(min_silence=1.5), TurnParams(min_silence=2.0, unsure_silence=2.0)

    def answers(speaker: str, talked: bool, dead: float) -> list[Any]:
        return [run(f"{speaker}{i}", speaker, dead, [pause] if talked else [], [pause]) for i in range(2)]

    # "quick" talks into a 1 s pause of speaker c only; "patient" costs everyone 0.5 s of dead air.
    runs = [
        {"a": answers("a", False, 1.5), "b": answers("b", False, 1.5), "c": answers("c", True, 1.5)},
        {"a": answers("a", False, 2.0), "b": answers("b", False, 2.0), "c": answers("c", False, 2.0)},
    ]
    cv = turns_cv.cross_validate([quick, patient], runs)
    assert cv["held_in_setting"] == turns_cv.label(patient)  # seeing c, c's cut decides it
    assert cv["chosen_per_fold"]["c"] == turns_cv.label(quick)  # without c, nothing says so
    assert cv["left_out"].short == (2, 6)  # so the left-out figures show c's cuts
    assert cv["held_in"].short == (0, 6)
