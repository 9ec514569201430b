"""What the candidate's profile shows about the phone: their keypad access code, the number(s) that
reach their interview version, whether "Call now" can ring them (and if not, why), recent calls.

`CandidatePhone.context(candidate_id)` is the template context of `recruiter/_phone_access.html`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from milo_voice.calls.phone.e164 import display
from milo_voice.calls.phone.numbers import PhoneStore
from milo_voice.calls.phone.outbound import plan_call, status_callback_url
from milo_voice.settings import Settings
from milo_voice.store.repo import Clock, NotFound
from milo_voice.store.tables import PhoneCall, utc_now

RECENT_CALLS = 5


@dataclass(frozen=True, slots=True)
class DialNumber:
    e164: str
    display: str


@dataclass(frozen=True, slots=True)
class PhoneAccess:
    """The partial's data for one candidate."""

    candidate_id: int
    code: str
    """The 8-digit keypad access code (made on first view)."""
    numbers: tuple[DialNumber, ...]
    """Numbers that reach the candidate's interview version; empty when none is mapped."""
    call_blocker: str
    """Why "Call now" would be refused right now; empty when it can ring the candidate."""
    calls: tuple[PhoneCall, ...]
    """The candidate's newest calls, newest first."""
    status_callback: str
    """The StatusCallback URL to set on the Twilio numbers (inbound calls' status)."""

    @property
    def can_call(self) -> bool:
        return not self.call_blocker

    @property
    def last_failed(self) -> PhoneCall | None:
        """The newest call, when it failed (shown as an alert next to the button)."""
        last = self.calls[0] if self.calls else None
        return last if last is not None and last.status == "failed" else None


class CandidatePhone:
    """Builds `PhoneAccess` (blocking: call it through a thread from the event loop)."""

    def __init__(self, settings: Settings, engine: Engine, *, now: Clock = utc_now) -> None:
        self.settings = settings
        self.phones = PhoneStore(engine, now=now)

    def access(self, candidate_id: int) -> PhoneAccess:
        candidate = self.phones.candidate(candidate_id)
        if candidate is None:
            raise NotFound(f"candidate {candidate_id} does not exist")
        numbers = self.phones.numbers_for_interview(candidate.interview_id)
        return PhoneAccess(
            candidate_id=candidate_id,
            code=self.phones.access_code(candidate_id),
            numbers=tuple(DialNumber(n, display(n)) for n in numbers),
            call_blocker=plan_call(self.settings, self.phones, candidate).refusal,
            calls=tuple(self.phones.calls_for_candidate(candidate_id, RECENT_CALLS)),
            status_callback=status_callback_url(self.settings),
        )

    def context(self, candidate_id: int) -> dict[str, object]:
        """The context `recruiter/_phone_access.html` reads: `{"phone_access": PhoneAccess}`."""
        return {"phone_access": self.access(candidate_id)}
