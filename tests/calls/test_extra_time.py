"""Extra time reaches the turn-taking: `calls.run.turn_params_for_candidate`, which `run_session` calls for
every web and phone session, builds the policy of a candidate granted a multiplier of 2.0 so that every
wait is twice as long. Synchronous, on a fake media clock: speech edges and `decide(now)` at chosen times."""

from __future__ import annotations

from dataclasses import replace

import pytest

from milo_voice.calls.run import turn_params_for, turn_params_for_candidate
from milo_voice.calls.session_store import SessionStore
from milo_voice.dialogue.script import PATIENCE, AnswerShape
from milo_voice.dialogue.turn_policy import Decision, TurnParams, TurnPolicy
from milo_voice.errors import ConfigError
from milo_voice.media.types import SpeechEdge
from milo_voice.settings import Settings
from milo_voice.store.tables import UserRole
from milo_voice.workspace.accommodations import Accommodations
from milo_voice.workspace.accounts import Accounts, Principal
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.editor import InterviewForm, QuestionForm
from milo_voice.workspace.interviews import Interviews

STEP = 0.01


def first(policy: TurnPolicy, wanted: Decision, start: float, stop: float = 120.0) -> float | None:
    """The first instant on a 10 ms grid from `start` at which the policy decides `wanted`."""
    for i in range(round((stop - start) / STEP) + 1):
        now = round(start + i * STEP, 2)
        if policy.decide(now) is wanted:
            return now
    return None


def answered(params: TurnParams, *, patience: float = 1.0, expected_words: int = 0) -> TurnPolicy:
    """A policy that heard the candidate speak from 0.5 s to 4.0 s, then silence (no Smart Turn verdict)."""
    policy = TurnPolicy(params, listening_since=0.0, expected_words=expected_words, patience=patience)
    policy.on_edge(SpeechEdge(True, 0.5))
    policy.on_edge(SpeechEdge(False, 4.0))
    return policy


@pytest.fixture
def world(store: SessionStore) -> dict[str, int]:
    interviews = Interviews(store.engine)
    row = interviews.create(InterviewForm(title="Cook", questions=(QuestionForm("Tell me about a dish."),)))
    interviews.publish(row.slug)
    candidates = Candidates(store.engine)
    plain, helped = (candidates.add(slug=row.slug, name=name).id or 0 for name in ("Pat Plain", "Hal Helped"))
    user = Accounts(store.engine).create_user(email="ada@example.com", password="x" * 12, role="admin")
    admin = Principal(user.id or 0, user.email, UserRole.ADMIN)
    Accommodations(store.engine).grant(admin, helped, multiplier="2.0", text_only=False, note="Stammer.")
    return {"interview": row.id or 0, "plain": plain, "helped": helped}


def test_a_candidate_with_twice_the_time_waits_twice_as_long(
    store: SessionStore, world: dict[str, int]
) -> None:
    settings = Settings()
    script = Interviews(store.engine).script(world["interview"])
    plain = turn_params_for_candidate(settings, store, script, world["plain"])
    helped = turn_params_for_candidate(settings, store, script, world["helped"])
    assert plain == turn_params_for(settings, script)  # no accommodation: exactly the interview's settings
    assert helped != plain

    # an answer with no verdict either way: unsure_silence after the last speech (1.6 s, then 3.2 s)
    assert first(answered(plain), Decision.END_OF_TURN, 4.0) == pytest.approx(4.0 + 1.6)
    assert first(answered(helped), Decision.END_OF_TURN, 4.0) == pytest.approx(4.0 + 3.2)
    # an answer that is surely unfinished (shorter than the question expects): max_silence, 4 s then 8 s
    thin = {"expected_words": 20}
    assert first(answered(plain, **thin), Decision.END_OF_TURN, 4.0) == pytest.approx(4.0 + 4.0)
    assert first(answered(helped, **thin), Decision.END_OF_TURN, 4.0) == pytest.approx(4.0 + 8.0)
    # a technical question's own patience (x1.15) still applies on top of the extra time
    technical = {"patience": PATIENCE[AnswerShape.TECHNICAL], **thin}
    assert first(answered(helped, **technical), Decision.END_OF_TURN, 4.0) == pytest.approx(4.0 + 8.0 * 1.15)
    # before any speech: the check-in after thinking_silence, 12 s then 24 s
    silent_plain = TurnPolicy(plain, listening_since=0.0)
    silent_helped = TurnPolicy(helped, listening_since=0.0)
    assert first(silent_plain, Decision.CHECK_IN, 0.0) == pytest.approx(12.0)
    assert first(silent_helped, Decision.CHECK_IN, 0.0) == pytest.approx(24.0)
    # a never-ending answer in a noisy room is still cut, at twice the length
    assert (plain.max_answer, helped.max_answer) == (240.0, 480.0)


def test_the_extra_time_multiplies_the_interviews_own_patience(
    store: SessionStore, world: dict[str, int]
) -> None:
    script = replace(
        Interviews(store.engine).script(world["interview"]), max_silence=6.0, thinking_silence=20.0
    )
    helped = turn_params_for_candidate(Settings(), store, script, world["helped"])
    assert (helped.max_silence, helped.thinking_silence) == (12.0, 40.0)
    assert helped.turn_threshold == TurnParams().turn_threshold  # thresholds are not waits: unchanged


def test_a_multiplier_below_one_is_refused_by_the_policy() -> None:
    assert TurnParams().extended(1.0) == TurnParams()
    for bad in (0.5, 0.0, float("nan"), float("inf")):
        with pytest.raises(ConfigError, match="extra time"):
            TurnParams().extended(bad)
