"""One phone call, from a claimed ticket to the end of its interview.

The stream's ticket names the call row (and the candidate, if the caller's number did). The first
thing every call hears is the spoken notice (`workspace.consent.spoken_notice`: that the call is
recorded and transcribed, that the interviewer is an AI, that a person reviews the automatic scores,
where the full notice is); staying on the line to its end is the caller's consent. An unknown caller
then keys an access code. Once the candidate is known and their link is open, the consent is stored
(channel phone, the candidate's number, the current notice version and its text's SHA-256) and the
interview runs on the Twilio transport like any other call, its recording starting with the greeting.
A caller who hangs up during the notice gets no interview and no consent. Knows nothing of HTTP:
`web/phone.py` accepts the websocket and hands over.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import numpy as np

from milo_voice.calls.engines import Runtime
from milo_voice.calls.phone import keypad
from milo_voice.calls.phone.numbers import PhoneStore
from milo_voice.calls.run import run_session
from milo_voice.calls.session_store import SessionStore
from milo_voice.media.transports.twilio import CLOSE_POLICY, TwilioStreamTransport
from milo_voice.settings import Settings
from milo_voice.store.tables import ConsentChannel, PhoneCall
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.consent import REASONS, Consents, Notice, Notices, spoken_notice
from milo_voice.workspace.interviews import Interviews

log = logging.getLogger(__name__)


async def run_phone_call(settings: Settings, runtime: Callable[[], Awaitable[Runtime]], store: SessionStore,
                         transport: TwilioStreamTransport, ticket: str) -> None:
    """Claim `ticket`, identify the caller (keypad if needed) and run the interview to its end."""
    phones = PhoneStore(store.engine, now=store.now)
    call = await asyncio.to_thread(phones.claim_ticket, ticket)
    if call is None or call.id is None:
        log.warning("phone.bad_ticket")
        await transport.close(CLOSE_POLICY, "unknown, used or expired ticket")
        return
    call_id = call.id
    await asyncio.to_thread(lambda: phones.update_call(call_id, call_sid=transport.call_id))
    engines = await runtime()
    transport.skip_inbound()  # the caller's audio counts from the greeting on (restart_clock below)
    notice = await _notice_heard(settings, store, engines, transport, call)
    if notice is None:
        return
    candidate_id = call.candidate_id
    if candidate_id is None:
        candidate_id = await _identify(transport, engines, phones, call.interview_id)
        if candidate_id is None:
            return
        await asyncio.to_thread(lambda: phones.update_call(call_id, candidate_id=candidate_id))
    state = await asyncio.to_thread(Candidates(store.engine, now=store.now).link_state, candidate_id)
    if not state.open:  # the same attempt rules as the browser link (workspace/attempts.py)
        log.info("phone.link_closed", extra={"candidate_id": candidate_id, "reason": state.reason})
        await asyncio.to_thread(lambda: phones.update_call(call_id, candidate_id=candidate_id))
        await keypad.say_goodbye(transport, _speaker(engines), state.message + " Goodbye.")
        await transport.close()
        return
    await asyncio.to_thread(_consented, store, call, candidate_id, notice)
    await transport.clear()
    transport.restart_clock()  # the recording starts with the greeting, not the notice or the keypad
    loop = asyncio.get_running_loop()

    def started(session_id: int) -> None:
        loop.run_in_executor(None, lambda: phones.update_call(call_id, session_id=session_id))

    outcome = await run_session(settings, engines, store, transport, candidate_id=candidate_id,
                                interview_id=call.interview_id, channel="phone", on_started=started)
    log.info("phone.call_ended", extra={"session_id": outcome.session_id, "status": outcome.status,
                                        "ended_by": transport.ended_by})


async def _notice_heard(settings: Settings, store: SessionStore, runtime: Runtime,
                        transport: TwilioStreamTransport, call: PhoneCall) -> Notice | None:
    """Play the spoken notice to its end; the notice it stands for, or None if the caller hung up first.
    The interview's fixed lines are rendered meanwhile, so the greeting follows the notice at once."""
    notice = await asyncio.to_thread(Notices(store.engine, now=store.now).current, settings.base_url)
    text = spoken_notice(settings.base_url)
    script = await asyncio.to_thread(Interviews(store.engine, now=store.now).script, call.interview_id)
    await asyncio.to_thread(runtime.tts.prerender, [text])  # rendered once per server into the TTS cache
    warm = asyncio.ensure_future(asyncio.to_thread(runtime.prepare, script))
    heard = await keypad.say_to_end(transport, _speaker(runtime), text)
    await warm
    if not heard:
        log.info("phone.notice_not_heard", extra={"phone_call_id": call.id, "notice_version": notice.version})
        return None
    return notice


def prerender_notice(settings: Settings, runtime: Runtime) -> None:
    """Render the spoken notice into the TTS cache (blocking; at start-up, so no caller waits for it)."""
    runtime.tts.prerender([spoken_notice(settings.base_url)])


def _consented(store: SessionStore, call: PhoneCall, candidate_id: int, notice: Notice) -> None:
    """The caller stayed on the line past the notice: store it with the candidate's number."""
    number = call.to_number if call.direction == "outbound" else call.from_number
    Consents(store.engine, now=store.now).record_consent(
        candidate_id, ConsentChannel.PHONE, number, "", notice, require_current=False,
        reason=f"{REASONS[ConsentChannel.PHONE]} (phone call {call.id})")


async def _identify(transport: TwilioStreamTransport, runtime: Runtime, phones: PhoneStore,
                    interview_id: int) -> int | None:
    """The keypad step: spoken prompts from the TTS cache, codes looked up off the event loop."""

    async def lookup(code: str) -> int | None:
        candidate = await asyncio.to_thread(phones.candidate_by_code, interview_id, code)
        return candidate.id if candidate is not None else None

    return await keypad.identify(transport, _speaker(runtime), lookup)


def _speaker(runtime: Runtime) -> keypad.Speak:
    """Text -> speech from the TTS cache (or rendered), off the event loop."""
    engines = runtime.engines

    def render(text: str) -> np.ndarray:
        cached = engines.tts.get(text)
        return cached if cached is not None else engines.tts.render(text)

    async def speak(text: str) -> np.ndarray:
        return await asyncio.get_running_loop().run_in_executor(engines.tts_executor, render, text)

    return speak
