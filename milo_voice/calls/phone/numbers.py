"""Queries and units of work for the phone channel: numbers, keypad access codes, calls and their tickets.

Blocking, one short transaction per method (callers on the event loop use a thread). The one
writer of `phone_number`, `phone_access_code` and `phone_call`; no schema here (see
`milo_voice/store/tables/phone.py`, migration 0002).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from milo_voice.calls.phone.e164 import to_e164
from milo_voice.store.repo import Invalid, NotFound, Repo
from milo_voice.store.tables import (
    Candidate,
    CandidateStatus,
    Interview,
    PhoneAccessCode,
    PhoneCall,
    PhoneNumber,
)

ACCESS_CODE_DIGITS = 8
"""Digits in a keypad access code: 10^8 codes, against at most `KEYPAD_ATTEMPTS` guesses per call."""
TICKET_BYTES = 32
"""Random bytes in a stream ticket (256 bits, like candidate tokens)."""
TICKET_TTL = timedelta(minutes=10)
"""A ticket not claimed by a media stream within this long is dead (an outbound call rings first)."""
MIN_LOCAL_DIGITS = 9
"""A stored number without a country code matches a caller only on at least this many trailing digits."""
FINAL_STATUSES = ("completed", "busy", "no-answer", "canceled", "failed")
"""Twilio CallStatus values after which nothing more happens on the call."""
STATUS_ORDER = {"": 0, "queued": 1, "initiated": 2, "ringing": 3, "in-progress": 4}
"""How far a call has got; a status report never moves a call back (callbacks may arrive out of order)."""


def normalise_number(number: str) -> str:
    """"+1 (415) 555-0100" -> "+14155550100"; "0044 20..." -> "+4420..."; no country code: digits only."""
    text = number.strip()
    digits = re.sub(r"\D", "", text)
    if text.startswith("+"):
        return f"+{digits}" if digits else ""
    if digits.startswith("00") and len(digits) > 4:
        return f"+{digits[2:]}"
    return digits


def same_number(caller: str, stored: str) -> bool:
    """Does the caller's E.164 number match a number a recruiter typed (maybe without country code)?"""
    a, b = normalise_number(caller), normalise_number(stored)
    if not a or not b:
        return False
    if a.startswith("+") and b.startswith("+"):
        return a == b
    bare_a, bare_b = a.lstrip("+"), b.lstrip("+")
    shorter, longer = sorted((bare_a, bare_b), key=len)
    return len(shorter) >= MIN_LOCAL_DIGITS and longer.endswith(shorter)


def ticket_hash(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


class PhoneStore(Repo):
    """Phone numbers, access codes and calls."""

    # Numbers and codes

    def add_number(self, number: str, interview_id: int) -> int:
        """Map a called number (checked and stored as E.164) to an interview version; `Invalid` when the
        number is malformed or already mapped."""
        e164 = to_e164(number)
        taken = self.interview_for_number(e164)
        if taken is not None:
            raise Invalid(f"{e164} is already mapped to an interview (id {taken}); remove it first")
        try:
            with self.unit() as session:
                row = PhoneNumber(number=e164, interview_id=interview_id, created_at=self.now())
                session.add(row)
                session.flush()
                assert row.id is not None
                return row.id
        except IntegrityError:
            if self.interview_for_number(e164) is None:
                raise  # not the number (an interview id that does not exist)
            raise Invalid(f"{e164} is already mapped to an interview; remove it first") from None

    def remove_number(self, number: str) -> int:
        """Unmap a number (any form of it); returns the interview id it reached. `NotFound` if not mapped."""
        e164 = normalise_number(number)
        with self.unit() as session:
            row = session.exec(select(PhoneNumber).where(PhoneNumber.number == e164)).first()
            if row is None:
                raise NotFound(f"{number.strip() or '(empty)'} is not mapped to any interview")
            interview_id = row.interview_id
            session.execute(delete(PhoneNumber).where(col(PhoneNumber.id) == row.id))
            return interview_id

    def numbers(self) -> list[tuple[PhoneNumber, Interview]]:
        """Every mapped number with the interview version it reaches, in number order."""
        with self.unit() as session:
            return [
                (number, interview)
                for number, interview in session.exec(
                    select(PhoneNumber, Interview)
                    .join(Interview, col(Interview.id) == col(PhoneNumber.interview_id))
                    .order_by(col(PhoneNumber.number))
                )
            ]

    def numbers_for_interview(self, interview_id: int) -> list[str]:
        """The numbers that reach this interview version, oldest mapping first."""
        with self.unit() as session:
            return list(session.exec(
                select(PhoneNumber.number)
                .where(PhoneNumber.interview_id == interview_id)
                .order_by(col(PhoneNumber.id))
            ))

    def interview_for_number(self, number: str) -> int | None:
        with self.unit() as session:
            return session.exec(
                select(PhoneNumber.interview_id).where(PhoneNumber.number == normalise_number(number))
            ).first()

    def access_code(self, candidate_id: int) -> str:
        """The candidate's keypad code, created on first use (unique across all candidates)."""
        for _ in range(10):
            with self.unit() as session:
                row = session.get(PhoneAccessCode, candidate_id)
                if row is not None:
                    return row.code
            code = "".join(secrets.choice("0123456789") for _ in range(ACCESS_CODE_DIGITS))
            try:
                with self.unit() as session:
                    now = self.now()
                    session.add(PhoneAccessCode(candidate_id=candidate_id, code=code, created_at=now))
                return code
            except IntegrityError:  # the code is taken (or another process just made this one): retry
                continue
        raise RuntimeError(f"no free access code for candidate {candidate_id} after 10 attempts")

    def candidate_by_code(self, interview_id: int, code: str) -> Candidate | None:
        """The candidate of `interview_id` with this keypad code, if any."""
        if not code.isdigit():
            return None
        with self.unit() as session:
            return session.exec(
                select(Candidate)
                .join(PhoneAccessCode, col(PhoneAccessCode.candidate_id) == col(Candidate.id))
                .where(PhoneAccessCode.code == code, Candidate.interview_id == interview_id)
            ).first()

    def candidate_by_phone(self, interview_id: int, caller: str) -> Candidate | None:
        """The candidate of `interview_id` whose phone is the caller's; unfinished ones first, then newest.
        Two unfinished candidates on one number is ambiguous: None (the keypad decides)."""
        with self.unit() as session:
            rows = session.exec(
                select(Candidate).where(Candidate.interview_id == interview_id, Candidate.phone != "")
            ).all()
        matches = [c for c in rows if same_number(caller, c.phone)]
        open_ = [c for c in matches if c.status not in (CandidateStatus.COMPLETED, CandidateStatus.DISMISSED)]
        if len(open_) > 1:
            return None
        if open_:
            return open_[0]
        return max(matches, key=lambda c: c.id or 0) if matches else None

    # Calls

    def open_call(
        self,
        *,
        direction: str,
        interview_id: int,
        candidate_id: int | None,
        call_sid: str = "",
        from_number: str = "",
        to_number: str = "",
        status: str = "",
        status_detail: str = "",
    ) -> tuple[int, str]:
        """A new call row; returns (call id, the stream ticket). Only the ticket's hash is stored."""
        if direction not in ("inbound", "outbound"):
            raise ValueError(f"direction {direction!r}: expected inbound or outbound")
        ticket = secrets.token_urlsafe(TICKET_BYTES)
        with self.unit() as session:
            now = self.now()
            row = PhoneCall(
                call_sid=call_sid, direction=direction,
                from_number=from_number[:40], to_number=to_number[:40],
                interview_id=interview_id, candidate_id=candidate_id, ticket_hash=ticket_hash(ticket),
                created_at=now, status=status[:20], status_detail=status_detail[:300],
                status_at=now if status else None,
            )
            session.add(row)
            session.flush()
            assert row.id is not None
            return row.id, ticket

    def open_call_once(
        self, *, call_sid: str, interview_id: int, candidate_id: int | None, from_number: str = "",
        to_number: str = "", status: str = "",
    ) -> tuple[int, str] | None:
        """An inbound call row and its ticket, or None when a call with this CallSid already exists (a
        replayed webhook must not mint a second ticket). The unique index on `phone_call.call_sid`
        (migration 0013) settles two requests racing with the same CallSid: the second insert fails."""
        if not call_sid or self.call_by_sid(call_sid) is not None:
            return None
        try:
            return self.open_call(
                direction="inbound", interview_id=interview_id, candidate_id=candidate_id,
                call_sid=call_sid[:64], from_number=from_number, to_number=to_number, status=status,
            )
        except IntegrityError:
            return None

    def call_by_sid(self, call_sid: str) -> PhoneCall | None:
        """The oldest call with Twilio's CallSid, if any."""
        with self.unit() as session:
            return session.exec(
                select(PhoneCall).where(PhoneCall.call_sid == call_sid[:64]).order_by(col(PhoneCall.id))
            ).first()

    def call_by_ticket(self, ticket: str) -> PhoneCall | None:
        """The call a ticket belongs to, claimed or not (the outbound webhook looks it up)."""
        with self.unit() as session:
            return session.exec(select(PhoneCall).where(PhoneCall.ticket_hash == ticket_hash(ticket))).first()

    def claim_ticket(self, ticket: str) -> PhoneCall | None:
        """Mark the ticket used by a media stream and return its call; None if unknown, used or expired."""
        now = self.now()
        with self.unit() as session:
            result = session.execute(
                update(PhoneCall)
                .where(
                    col(PhoneCall.ticket_hash) == ticket_hash(ticket),
                    col(PhoneCall.stream_started_at).is_(None),
                    col(PhoneCall.created_at) > now - TICKET_TTL,
                )
                .values(stream_started_at=now)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return None
            return session.exec(select(PhoneCall).where(PhoneCall.ticket_hash == ticket_hash(ticket))).first()

    def update_call(self, call_id: int, *, candidate_id: int | None = None, session_id: int | None = None,
                    call_sid: str | None = None) -> None:
        with self.unit() as session:
            row = session.get(PhoneCall, call_id)
            if row is None:
                raise LookupError(f"phone_call {call_id} does not exist")
            if candidate_id is not None:
                row.candidate_id = candidate_id
            if session_id is not None:
                row.session_id = session_id
            if call_sid is not None:
                row.call_sid = call_sid

    def record_status(self, *, call_sid: str, status: str, call_id: int | None = None, detail: str = "",
                      duration_s: int | None = None) -> PhoneCall | None:
        """Apply a status report to a call: ours by `call_id` (the callback URL names it; its CallSid must
        agree once known) or else by Twilio's `call_sid`. A report that would move the call back (an
        out-of-order callback) changes nothing. Returns the call as it now is; None for an unknown call."""
        with self.unit() as session:
            if call_id is not None:
                row = session.get(PhoneCall, call_id)
                if row is not None and row.call_sid and call_sid and row.call_sid != call_sid:
                    row = None
            else:
                row = session.exec(
                    select(PhoneCall).where(PhoneCall.call_sid == call_sid).order_by(col(PhoneCall.id).desc())
                ).first() if call_sid else None
            if row is None:
                return None
            if call_sid and not row.call_sid:
                row.call_sid = call_sid[:64]
            if _stage(status) >= _stage(row.status) and row.status not in FINAL_STATUSES:
                row.status, row.status_detail, row.status_at = status[:20], detail[:300], self.now()
            if duration_s is not None and status in FINAL_STATUSES:
                row.duration_s = duration_s
            session.flush()
            session.refresh(row)
            return row

    def fail_call(self, call_id: int, reason: str) -> None:
        """We could not place (or keep) the call: status failed, and why."""
        with self.unit() as session:
            row = session.get(PhoneCall, call_id)
            if row is None:
                raise LookupError(f"phone_call {call_id} does not exist")
            row.status, row.status_detail, row.status_at = "failed", reason[:300], self.now()

    def calls_for_candidate(self, candidate_id: int, limit: int = 5) -> list[PhoneCall]:
        """The candidate's newest calls, newest first."""
        with self.unit() as session:
            return list(session.exec(
                select(PhoneCall).where(PhoneCall.candidate_id == candidate_id)
                .order_by(col(PhoneCall.id).desc()).limit(limit)
            ))

    def get_call(self, call_id: int) -> PhoneCall | None:
        with self.unit() as session:
            return session.get(PhoneCall, call_id)

    def candidate(self, candidate_id: int) -> Candidate | None:
        with self.unit() as session:
            return session.get(Candidate, candidate_id)


def _stage(status: str) -> int:
    """How far a status says the call got (unknown statuses count as the furthest, like final ones)."""
    return STATUS_ORDER.get(status, len(STATUS_ORDER))
