"""Who is calling? The keypad step of a phone call whose number did not identify the candidate.

A spoken prompt, then digits, then `#` (`*` starts over). Pressing a key stops the prompt. At most
`ATTEMPTS` codes per call, so guessing a code needs many calls. Works over any transport that
offers a `digits` queue (the Twilio stream); knows nothing of the database (it gets `lookup`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

import numpy as np

from milo_voice.media.types import SAMPLE_RATE, AudioChunk

log = logging.getLogger(__name__)

PROMPT = "Hello. Please enter your interview access code on your keypad, then press the pound key."
RETRY = "Sorry, that code was not found. Please enter it again, then press the pound key."
GIVE_UP = "Sorry, we could not find your interview. Please check your access code and call again. Goodbye."
LINES = (PROMPT, RETRY, GIVE_UP)
"""Fixed lines, rendered once into the TTS cache."""
ATTEMPTS = 3
"""Codes a caller may try per call."""
CODE_TIMEOUT = 30.0
"""Seconds a caller has to finish keying a code (from the start of the prompt)."""
MAX_DIGITS = 16
_T = TypeVar("_T")


class KeypadLine(Protocol):
    """What the keypad step needs from a call."""

    digits: asyncio.Queue[str]
    ended: asyncio.Event

    async def play(self, chunk: AudioChunk) -> None: ...
    async def clear(self) -> float: ...
    async def drained(self) -> None: ...


Speak = Callable[[str], Awaitable[np.ndarray]]
"""Text -> 16 kHz int16 speech (the TTS, off the event loop)."""
Lookup = Callable[[str], Awaitable[int | None]]
"""Access code -> candidate id, or None."""


async def identify(
    line: KeypadLine, speak: Speak, lookup: Lookup, *, time_limit: float = CODE_TIMEOUT
) -> int | None:
    """Ask for an access code until one is found (a candidate id) or attempts run out (None)."""
    for attempt in range(ATTEMPTS):
        await _say(line, speak, PROMPT if attempt == 0 else RETRY)
        code = await read_code(line, time_limit)
        if line.ended.is_set():
            return None
        if code:
            candidate_id = await lookup(code)
            log.info("keypad.code_entered", extra={"digits": len(code), "found": candidate_id is not None})
            if candidate_id is not None:
                return candidate_id
    await _say(line, speak, GIVE_UP)
    await _wait_or_end(line, line.drained())
    return None


async def say_goodbye(line: KeypadLine, speak: Speak, text: str) -> None:
    """Say `text` to its end (or until the caller hangs up): the last thing a call hears."""
    await say_to_end(line, speak, text)


async def say_to_end(line: KeypadLine, speak: Speak, text: str) -> bool:
    """Say `text` and wait until the caller has heard all of it: True, or False if the call ended first.
    Keys pressed meanwhile do not stop it and are dropped (they are not an access code)."""
    await _say(line, speak, text)
    await _wait_or_end(line, line.drained())
    while not line.digits.empty():
        line.digits.get_nowait()
    return not line.ended.is_set()


async def read_code(line: KeypadLine, time_limit: float) -> str:
    """Digits up to `#`; the first key stops the prompt. Empty on timeout or hang-up."""
    digits: list[str] = []
    first = True
    try:
        async with asyncio.timeout(time_limit):
            while True:
                key = await _wait_or_end(line, line.digits.get())
                if key is None:
                    return ""
                if first:
                    first = False
                    await line.clear()
                if key == "#":
                    return "".join(digits)
                if key == "*":
                    digits = []
                elif key.isdigit() and len(digits) < MAX_DIGITS:
                    digits.append(key)
    except TimeoutError:
        return ""


async def _wait_or_end(line: KeypadLine, aw: Awaitable[_T]) -> _T | None:
    """`aw`'s result, or None if the call ends first."""
    task = asyncio.ensure_future(aw)
    ended = asyncio.ensure_future(line.ended.wait())
    try:
        await asyncio.wait({task, ended}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        ended.cancel()
        if not task.done():
            task.cancel()
    return task.result() if task.done() and not task.cancelled() else None


async def _say(line: KeypadLine, speak: Speak, text: str) -> None:
    audio = await speak(text)
    await line.play(AudioChunk(audio.astype("<i2").tobytes(), SAMPLE_RATE, 0.0))
