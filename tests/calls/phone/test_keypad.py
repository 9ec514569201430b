"""The keypad step: prompt, digits, `#`; `*` starts over; three tries; a hang-up ends it."""

from __future__ import annotations

import asyncio

import numpy as np

from milo_voice.calls.phone import keypad as phone_keypad
from milo_voice.media.types import AudioChunk


class Line:
    """A call seen from the keypad step: keys the test presses, lines it hears."""

    def __init__(self, keys: str, hang_up_after: int | None = None) -> None:
        self.digits: asyncio.Queue[str] = asyncio.Queue()
        self.ended = asyncio.Event()
        self.said: list[float] = []
        self.cleared = 0
        self._keys = list(keys)
        self._hang_up_after = hang_up_after

    async def play(self, chunk: AudioChunk) -> None:
        self.said.append(chunk.duration)
        if self._hang_up_after is not None and len(self.said) > self._hang_up_after:
            self.ended.set()
            return
        while self._keys and (key := self._keys.pop(0)) != "|":  # "|" waits for the next prompt
            self.digits.put_nowait(key)

    async def clear(self) -> float:
        self.cleared += 1
        return 0.0

    async def drained(self) -> None:
        return None


async def speak(text: str) -> np.ndarray:
    return np.zeros(int(16_000 * phone_keypad.LINES.index(text) + 1600), np.int16)  # tells lines apart


def identify(line: Line, codes: dict[str, int]) -> int | None:
    tried: list[str] = []

    async def lookup(code: str) -> int | None:
        tried.append(code)
        return codes.get(code)

    async def go() -> int | None:
        async with asyncio.timeout(10):
            return await phone_keypad.identify(line, speak, lookup, time_limit=1.0)

    result = asyncio.run(go())
    line.tried = tried  # type: ignore[attr-defined]
    return result


def test_the_right_code_then_pound_finds_the_candidate() -> None:
    line = Line("12*1234#")
    assert identify(line, {"1234": 7}) == 7
    assert line.tried == ["1234"]  # type: ignore[attr-defined]
    assert line.cleared == 1  # the first key stopped the prompt
    assert len(line.said) == 1


def test_a_wrong_code_is_asked_again_and_three_wrong_codes_end_the_call() -> None:
    line = Line("1#|2#|3#")
    assert identify(line, {"9": 1}) is None
    assert line.tried == ["1", "2", "3"]  # type: ignore[attr-defined]
    prompt, retry, give_up = (1600 / 16000 + i for i in range(3))
    assert line.said == [prompt, retry, retry, give_up]


def test_a_second_try_can_succeed_and_silence_counts_as_a_try() -> None:
    line = Line("|55#")  # says nothing after the prompt (times out), then keys 55
    assert identify(line, {"55": 3}) == 3


def test_hanging_up_ends_the_keypad_step() -> None:
    line = Line("", hang_up_after=0)
    assert identify(line, {}) is None
    assert line.tried == []  # type: ignore[attr-defined]
