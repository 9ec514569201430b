"""Attempt rules: when a candidate's link opens an interview, and which session counts. Pure.

- A decision sticks: a shortlisted, dismissed or knocked-out candidate's link shows a closed page,
  whatever the retake settings say, and nothing automatic (a session starting or ending, scoring)
  moves a shortlisted or dismissed candidate out of that status. Only a recruiter does, by
  deciding again or granting a retake.
- One attempt by default. An interview may allow `retakes_allowed` more for every candidate, and a
  recruiter may grant one candidate more (`retakes_granted`). An attempt is a session that ended
  completed or that the candidate ended; a session that failed on our side, or that recovery
  closed after the process died, does not count against the candidate.
- Ending early stops for good (decided in issue 14): the candidate's "End the interview" button,
  or a call that stayed dropped past `MILO_RESUME_WINDOW`, ends the session as interrupted and
  the candidate's status becomes `ended_early`; the link then shows the closed page, unless a
  retake is left. A drop shorter than the resume window is not an end: the same call resumes.
- A deadline closes the link (issue 16): the candidate's own deadline, else the interview's
  `deadline_days` after they were added (`outreach.planner.deadline`). After it the link shows a
  friendly closed page that says whom to ask; a recruiter's extension reopens it. A finished or
  decided candidate sees the page for that instead (it says more).
- The session that counts is the one a recruiter marked, else the newest completed one, else
  the newest one (`store.session_rows.counted`: the exports in scoring use it too).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from milo_voice.store.session_rows import counted
from milo_voice.store.tables import CandidateStatus, InterviewSession, SessionStatus

__all__ = ["counted"]  # the session that counts is defined once, in the store (scoring reads it too)

HUMAN = frozenset({CandidateStatus.SHORTLISTED, CandidateStatus.DISMISSED})
"""Decisions a recruiter made: no automatic move leaves them (a re-score that finds a dealbreaker
does not undo a shortlist; the recruiter sees the knock-out on the profile and decides)."""
DECIDED = HUMAN | {CandidateStatus.KNOCKED_OUT}
"""Statuses that close the link whatever the retake settings say."""
AUTOMATIC = frozenset({
    CandidateStatus.IN_PROGRESS, CandidateStatus.COMPLETED, CandidateStatus.EVALUATING,
    CandidateStatus.ENDED_EARLY, CandidateStatus.KNOCKED_OUT,
})
"""Statuses a session or scoring sets on its own."""
FINISHED = frozenset({CandidateStatus.COMPLETED, CandidateStatus.EVALUATING, CandidateStatus.ENDED_EARLY})


@dataclass(frozen=True, slots=True)
class LinkState:
    open: bool
    reason: str = ""
    """Why it is closed: "decided", "completed" or "ended_early" (empty while open)."""
    retake: bool = False
    """Open for a retake: an earlier attempt exists."""

    @property
    def message(self) -> str:
        return CLOSED_MESSAGES.get(self.reason, "")


CLOSED_MESSAGES = {
    "decided": "Your interview is complete and the hiring team has it. Thank you for your time; "
               "they will be in touch about next steps.",
    "completed": "You have already completed this interview. Thank you! The hiring team has your "
                 "answers and will be in touch.",
    "deadline": "The deadline for this interview has passed, so the link is closed. If you would still "
                "like to take it, please contact the hiring team: they can extend it for you.",
    "ended_early": "This interview was ended before the last question, and it cannot be continued. "
                   "If that was a mistake, please contact the hiring team: they can allow a retake.",
}


def attempts_used(sessions: Sequence[InterviewSession]) -> int:
    """Sessions that count against the candidate: completed, or interrupted by them (a session
    recovery closed after our process died carries an error and does not count)."""
    return sum(1 for s in sessions if s.status == SessionStatus.COMPLETED
               or (s.status == SessionStatus.INTERRUPTED and not s.error))


def attempts_allowed(retakes_allowed: int, retakes_granted: int) -> int:
    return 1 + max(0, retakes_allowed) + max(0, retakes_granted)


def link_state(status: str, used: int, allowed: int, *, past_deadline: bool = False) -> LinkState:
    """Whether the candidate's link may start an interview now (a live call on the link resumes
    regardless: that is the same attempt)."""
    current = CandidateStatus(status)
    if current in DECIDED:
        return LinkState(False, "decided")
    if current in FINISHED or used > 0:
        if used < allowed and not past_deadline:
            return LinkState(True, retake=True)
        if used < allowed or current is CandidateStatus.IN_PROGRESS:
            return LinkState(False, "deadline")
        reason = "ended_early" if current is CandidateStatus.ENDED_EARLY else "completed"
        return LinkState(False, reason)
    return LinkState(False, "deadline") if past_deadline else LinkState(True)


def next_status(current: str, wanted: CandidateStatus) -> CandidateStatus:
    """What an automatic move (`wanted`: a session or scoring) leaves the status at: a decision
    sticks; anything else moves."""
    now = CandidateStatus(current)
    if wanted in AUTOMATIC and now in HUMAN:
        return now
    return wanted
