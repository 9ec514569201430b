"""Candidates as recruiters see them: add, list (filter, search, sort), bulk decisions, notes, ratings.

Decisions (shortlist, dismiss) only change `candidate.status`; who made them and when is in the
audit trail, which the profile shows. Ratings are one row per teammate and candidate.

This module is the one writer of `candidate`, `candidate_note` and `candidate_rating` (see
tests/store/test_writers.py). A session moving its candidate along (in progress, completed) calls
`set_status` inside its own transaction; scoring gets `Candidates` injected, as its
`CandidateStatuses`, for evaluating / completed / knocked out.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import mean

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from milo_voice.outreach.phones import DEFAULT_REGION, phone_problem
from milo_voice.outreach.planner import deadline
from milo_voice.outreach.settings_store import MAX_DEADLINE_DAYS, interview_settings
from milo_voice.store.repo import Invalid, NotFound, Repo, get_row, insert_row
from milo_voice.store.tables import (
    Candidate,
    CandidateRating,
    CandidateSource,
    CandidateStatus,
    Interview,
    InterviewSession,
    InterviewStage,
    InterviewStatus,
)
from milo_voice.workspace import attempts
from milo_voice.workspace.triage import BANDS, latest_scores, triage

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
"""An address with a local part, an @ and a dotted domain (what can be checked without sending)."""
TOKEN_BYTES = 32
"""Random bytes in a candidate token (256 bits; 43 URL-safe characters). The token is the only secret
in a candidate's link, so it must be unguessable; 128 bits is the floor."""

STATUSES: tuple[str, ...] = tuple(s.value for s in CandidateStatus)
"""Board columns and filter choices, in pipeline order."""
DECISIONS = (CandidateStatus.SHORTLISTED.value, CandidateStatus.DISMISSED.value)
SORTS = {
    "name": col(Candidate.name),
    "status": col(Candidate.status),
    "created": col(Candidate.created_at),
    "interview": col(Interview.title),
    "id": col(Candidate.id),
}
"""Sortable columns of the list: query parameter -> column (and "score", sorted after loading)."""


@dataclass(frozen=True, slots=True)
class CandidateQuery:
    slug: str = ""
    status: str = ""
    search: str = ""
    sort: str = "created"
    descending: bool = True
    limit: int = 500
    band: str = ""
    """"great", "good", "bad", "unscored" or "" (any): the band of the session that counts."""
    external_id: str = ""
    source: str = ""
    beyond_id: int | None = None
    """Keyset cursor for `sort="id"`: only candidates past this id in the sort direction."""
    ids: tuple[int, ...] = ()
    """Only these candidates (empty: any)."""

    def __post_init__(self) -> None:
        if self.band and self.band not in BANDS:
            raise Invalid(f"band {self.band!r}: expected one of {', '.join(BANDS)}")


@dataclass(slots=True)
class CandidateRow:
    candidate: Candidate
    interview: Interview
    last_session: InterviewSession | None = None
    """The session that counts (`attempts.counted`): marked by a recruiter, else the newest completed."""
    sessions: int = 0
    score: float | None = None
    band: str = ""
    stars: float | None = None
    thumbs_up: int = 0
    thumbs_down: int = 0


class Candidates(Repo):
    def add(
        self, *, slug: str, name: str, email: str = "", phone: str = "",
        source: CandidateSource = CandidateSource.MANUAL, location: str = "", external_id: str = "",
        region: str = DEFAULT_REGION,
    ) -> Candidate:
        """A candidate on the newest published version of `slug`, with an unguessable link token."""
        return self.put(slug=slug, name=name, email=email, phone=phone, source=source, location=location,
                        external_id=external_id, region=region)[0]

    def put(
        self, *, slug: str, name: str, email: str = "", phone: str = "",
        source: CandidateSource = CandidateSource.MANUAL, location: str = "", external_id: str = "",
        region: str = DEFAULT_REGION,
    ) -> tuple[Candidate, bool]:
        """`add`, except that a known `external_id` updates that candidate (True: a new one was added).
        The same external id twice never makes a duplicate; an update keeps the link and the status,
        and the fields it leaves empty."""
        name, email, phone, location, external_id = (
            v.strip() for v in (name, email, phone, location, external_id))
        _check(name, email, phone, location, external_id, region)
        with self.unit() as session:
            version = _published(session, slug)
            if external_id and (known := _by_external_id(session, slug, external_id)) is not None:
                if email and email.lower() != known.email.lower():
                    _refuse_twice(session, slug, email)
                known.name = name  # a field left empty keeps what the candidate had
                known.email, known.phone = email or known.email, phone or known.phone
                known.location = location or known.location
                session.add(known)
                session.flush()
                return known, False
            _refuse_twice(session, slug, email)
            candidate = add_candidate(
                session, interview_id=version, name=name, email=email, phone=phone, now=self.now(),
                source=source,
            )
            candidate.location, candidate.external_id = location, external_id or None
            session.add(candidate)
            session.flush()
            return candidate, True

    def enrol(
        self, *, interview_id: int, name: str, email: str = "", phone: str = "", source: str = "",
    ) -> Candidate:
        """A candidate on one interview version as given (the share link, simulations, tests): no checks
        beyond the database's; `add` is the recruiter's path with its validation."""
        with self.unit() as session:
            return add_candidate(
                session, interview_id=interview_id, name=name, email=email, phone=phone, now=self.now(),
                source=source,
            )

    def by_token(self, token: str) -> Candidate | None:
        """The candidate whose personal link carries `token`, if any."""
        with self.unit() as session:
            return session.exec(select(Candidate).where(Candidate.token == token)).first()

    def set_status(self, candidate_id: int, status: CandidateStatus) -> None:
        """Move one candidate along the pipeline (scoring's evaluating, completed, knocked out)."""
        with self.unit() as session:
            set_status(session, candidate_id, status)

    def get(self, candidate_id: int) -> tuple[Candidate, Interview]:
        with self.unit() as session:
            candidate = session.get(Candidate, candidate_id)
            if candidate is None:
                raise NotFound(f"candidate {candidate_id} does not exist")
            interview = session.get(Interview, candidate.interview_id)
            assert interview is not None
            return candidate, interview

    def search(self, query: CandidateQuery) -> list[CandidateRow]:
        with self.unit() as session:
            q = select(Candidate, Interview).join(Interview, col(Candidate.interview_id) == col(Interview.id))
            if query.slug:
                q = q.where(Interview.slug == query.slug)
            if query.status:
                q = q.where(Candidate.status == query.status)
            if query.ids:
                q = q.where(col(Candidate.id).in_(query.ids))
            if query.external_id:
                q = q.where(Candidate.external_id == query.external_id)
            if query.source:
                q = q.where(Candidate.source == query.source)
            if query.beyond_id is not None:
                q = q.where(col(Candidate.id) < query.beyond_id if query.descending
                            else col(Candidate.id) > query.beyond_id)
            if query.search.strip():
                like = f"%{_escape_like(query.search.strip().lower())}%"
                q = q.where(
                    or_(
                        func.lower(col(Candidate.name)).like(like, escape="\\"),
                        func.lower(col(Candidate.email)).like(like, escape="\\"),
                    )
                )
            order = SORTS.get(query.sort, SORTS["created"])
            q = q.order_by(order.desc() if query.descending else order.asc(), col(Candidate.id).desc())
            after = bool(query.band) or query.sort == "score"  # filtered or sorted once scores are in
            rows = [CandidateRow(c, i) for c, i in session.exec(q if after else q.limit(query.limit))]
            _attach_sessions(session, rows)
            _attach_ratings(session, rows)
        if after:
            rows = triage(rows, band=query.band, by_score=query.sort == "score", descending=query.descending)
        return rows[: query.limit]

    def link(self, token: str) -> tuple[Candidate, attempts.LinkState] | None:
        """The candidate behind a link and whether it may start an interview now (attempt rules)."""
        with self.unit() as session:
            candidate = session.exec(select(Candidate).where(Candidate.token == token)).first()
            return None if candidate is None else (candidate, _link_state(session, candidate, self.now()))

    def link_state(self, candidate_id: int) -> attempts.LinkState:
        """Whether this candidate may start an interview now (the phone's check after the keypad)."""
        with self.unit() as session:
            return _link_state(session, get_row(session, Candidate, candidate_id), self.now())

    def deadline(self, candidate_id: int) -> datetime:
        """The candidate's deadline: their own, else the interview's `deadline_days` after they were added."""
        with self.unit() as session:
            return _deadline(session, get_row(session, Candidate, candidate_id))

    def extend_deadline(self, candidate_id: int, days: int) -> datetime:
        """Move the deadline `days` later, counted from now when it has passed (which reopens the link);
        returns the new deadline."""
        if not 1 <= days <= MAX_DEADLINE_DAYS:
            raise Invalid(f"extend by 1 to {MAX_DEADLINE_DAYS} days")
        with self.unit() as session:
            row = get_row(session, Candidate, candidate_id)
            row.deadline_at = max(_deadline(session, row), self.now()) + timedelta(days=days)
            return row.deadline_at

    def mark_opened(self, candidate_id: int) -> bool:
        """The candidate opened their link: the first time is kept (the funnel's "opened"); True then."""
        with self.unit() as session:
            row = get_row(session, Candidate, candidate_id)
            if row.opened_at is not None:
                return False
            row.opened_at = self.now()
            return True

    def grant_retake(self, candidate_id: int) -> Candidate:
        """One more attempt for this candidate; their earlier sessions stay. Reopens the link (the
        status goes back to invited, which undoes a decision: the recruiter chose to)."""
        with self.unit() as session:
            row = get_row(session, Candidate, candidate_id)
            row.retakes_granted += 1
            row.status = CandidateStatus.INVITED.value
            return row

    def count_session(self, candidate_id: int, session_id: int) -> None:
        """Mark which of the candidate's sessions counts (its score is the candidate's score)."""
        with self.unit() as session:
            row = get_row(session, Candidate, candidate_id)
            chosen = session.get(InterviewSession, session_id)
            if chosen is None or chosen.candidate_id != candidate_id:
                raise NotFound(f"session {session_id} is not one of this candidate's")
            row.counted_session_id = session_id

    def decide(self, candidate_ids: Sequence[int], decision: str) -> list[int]:
        """Shortlist or dismiss candidates; returns the ids changed (unknown ids are skipped)."""
        if decision not in DECISIONS:
            raise Invalid(f"decision {decision!r}: expected one of {', '.join(DECISIONS)}")
        with self.unit() as session:
            rows = list(session.exec(select(Candidate).where(col(Candidate.id).in_(list(candidate_ids)))))
            for row in rows:
                row.status = decision
            return [r.id for r in rows if r.id is not None]


def _attach_sessions(session: Session, rows: Sequence[CandidateRow]) -> None:
    """Each row's session that counts, its score and band, and how many sessions it has."""
    mine: dict[int, list[InterviewSession]] = {}
    ids = [r.candidate.id for r in rows]
    for s in session.exec(select(InterviewSession).where(col(InterviewSession.candidate_id).in_(ids))):
        mine.setdefault(s.candidate_id, []).append(s)
    for row in rows:
        own = mine.get(row.candidate.id or 0, [])
        row.last_session = attempts.counted(own, row.candidate.counted_session_id)
        row.sessions = len(own)
    scores = latest_scores(session, [r.last_session.id for r in rows if r.last_session and r.last_session.id])
    for row in rows:
        found = scores.get(row.last_session.id or 0) if row.last_session else None
        row.score, row.band = (found.overall, found.band) if found else (None, "")


def _attach_ratings(session: Session, rows: Sequence[CandidateRow]) -> None:
    ratings: dict[int, list[CandidateRating]] = {}
    ids = [r.candidate.id for r in rows]
    for r in session.exec(select(CandidateRating).where(col(CandidateRating.candidate_id).in_(ids))):
        ratings.setdefault(r.candidate_id, []).append(r)
    for row in rows:
        given = ratings.get(row.candidate.id or 0, [])
        stars = [r.stars for r in given if r.stars]
        row.stars = round(mean(stars), 1) if stars else None
        row.thumbs_up = sum(1 for r in given if r.thumb == 1)
        row.thumbs_down = sum(1 for r in given if r.thumb == -1)


def _link_state(session: Session, candidate: Candidate, now: datetime) -> attempts.LinkState:
    """The retake setting follows the interview's newest version (a policy, unlike the questions,
    which stay those of the version the candidate was invited to); so does the deadline."""
    taken = get_row(session, Interview, candidate.interview_id)
    interview = session.exec(
        select(Interview).where(Interview.slug == taken.slug).order_by(col(Interview.version).desc())
    ).first() or taken
    own = session.exec(select(InterviewSession).where(InterviewSession.candidate_id == candidate.id))
    allowed = attempts.attempts_allowed(interview.retakes_allowed, candidate.retakes_granted)
    past = now >= deadline(candidate, interview_settings(session, taken.slug))
    used = attempts.attempts_used(list(own))
    return attempts.link_state(candidate.status, used, allowed, past_deadline=past)


def _deadline(session: Session, candidate: Candidate) -> datetime:
    slug = get_row(session, Interview, candidate.interview_id).slug
    return deadline(candidate, interview_settings(session, slug))


def _check(name: str, email: str, phone: str, location: str, external_id: str, region: str) -> None:
    if not name:
        raise Invalid("a candidate needs a name")
    if max(len(name), len(location), len(external_id)) > 200 or len(email) > 320 or len(phone) > 40:
        raise Invalid("name, email, phone, location or external id is too long")
    if email and not EMAIL.match(email):
        raise Invalid(f"{email!r} is not an email address; write it like name@example.com")
    if problem := phone_problem(phone, region):
        raise Invalid(problem)


def _published(session: Session, slug: str) -> int:
    """The id of the newest published version of `slug`, which new candidates join."""
    version = session.exec(
        select(Interview).where(Interview.slug == slug)
        .where(Interview.status == InterviewStatus.PUBLISHED.value).order_by(col(Interview.version).desc())
    ).first()
    if version is None or version.id is None:
        raise Invalid(f"interview {slug!r} has no published version; publish it first")
    if version.archived:
        raise Invalid("this interview is archived; unarchive it to add candidates")
    return version.id


def _by_external_id(session: Session, slug: str, external_id: str) -> Candidate | None:
    return session.exec(
        select(Candidate).join(Interview, col(Candidate.interview_id) == col(Interview.id))
        .where(Interview.slug == slug).where(Candidate.external_id == external_id)
    ).first()


def _refuse_twice(session: Session, slug: str, email: str) -> None:
    """One candidate per email per interview: adding the same person again is refused, not doubled."""
    if not email:
        return
    found = session.exec(
        select(Candidate).join(Interview, col(Candidate.interview_id) == col(Interview.id))
        .where(Interview.slug == slug).where(func.lower(col(Candidate.email)) == email.lower())
    ).first()
    if found is not None:
        raise Invalid(f"{email} is already a candidate for this interview ({found.name}, candidate "
                      f"{found.id}); open their profile instead")


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def add_candidate(
    session: Session, *, interview_id: int, name: str, email: str, phone: str, now: datetime,
    source: str = "",
) -> Candidate:
    """Insert a new candidate with a fresh unguessable token inside the caller's transaction, at the
    first stage of the interview's pipeline."""
    first = session.exec(select(InterviewStage.kind).where(
        InterviewStage.interview_id == interview_id, InterviewStage.position == 0)).first()
    candidate = Candidate(
        interview_id=interview_id, name=name, email=email, phone=phone, token=new_token(),
        status=CandidateStatus.NEW.value, created_at=now, source=source, stage_kind=first or "",
    )
    insert_row(session, candidate)
    return candidate


def enter_stage(session: Session, candidate_id: int, position: int, kind: str, status: CandidateStatus,
                now: datetime | None = None) -> Candidate:
    """Put a candidate at the stage at `position` with `status` (the pipeline's rules decide); `now`: they
    just reached it, and its invitation and deadline count from then."""
    row = get_row(session, Candidate, candidate_id)
    row.stage_position, row.stage_kind, row.status = position, kind, CandidateStatus(status).value
    row.stage_entered_at = now or row.stage_entered_at
    return row


def set_status(session: Session, candidate_id: int, status: CandidateStatus) -> None:
    """Move one candidate along inside the caller's transaction (unknown id: `NotFound`). An
    automatic move never undoes a recruiter's decision (`attempts.next_status`)."""
    row = get_row(session, Candidate, candidate_id)
    row.status = attempts.next_status(row.status, CandidateStatus(status)).value


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
