"""The workspace repositories of one app, built once over the app's engine and clock, kept on `app.state`."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import HTTPConnection

from milo_voice.calls.phone.access import CandidatePhone
from milo_voice.calls.phone.admin import PhoneNumbers
from milo_voice.settings import Settings
from milo_voice.workspace.accounts import Accounts
from milo_voice.workspace.audit import Audit
from milo_voice.workspace.candidate_feedback import CandidateFeedback
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.interviews import Interviews
from milo_voice.workspace.review import Review


@dataclass(frozen=True, slots=True)
class Workspace:
    settings: Settings
    accounts: Accounts
    audit: Audit
    interviews: Interviews
    candidates: Candidates
    feedback: CandidateFeedback
    review: Review
    phone: CandidatePhone
    """The profile's phone partial: `ws.phone.context(candidate_id)`."""
    phone_numbers: PhoneNumbers


def workspace(conn: HTTPConnection) -> Workspace:
    state = conn.app.state
    found: Workspace | None = getattr(state, "workspace", None)
    if found is None:
        engine, now = state.engine, state.now
        found = Workspace(
            state.settings,
            Accounts(engine, now=now),
            Audit(engine, now=now),
            Interviews(engine, now=now),
            Candidates(engine, now=now),
            CandidateFeedback(engine, now=now),
            Review(engine, now=now),
            CandidatePhone(state.settings, engine, now=now),
            PhoneNumbers(engine, now=now),
        )
        state.workspace = found
    return found
