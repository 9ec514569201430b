"""The interview-grade evidence in TurnPolicy: transcript cues, the candidate's rhythm, the
question's patience. Synthetic timelines, no audio, no clock (see test_turn_policy.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from milo_voice.dialogue.text_cues import Cue, Request, is_backchannel, request_kind, trailing_cue
from milo_voice.dialogue.turn_policy import Decision, Rhythm, TurnParams, TurnPolicy
from milo_voice.errors import ConfigError
from milo_voice.media.vad import SpeechEdge

PARAMS = TurnParams(closing_silence=0.9, rhythm_cap=2.4)
"""Every mechanism switched on. The defaults turn the closing shortcut and the rhythm off (chosen
by leave-one-speaker-out cross-validation, bench/turns_cv.py): see the test right below."""


def test_by_default_no_evidence_replies_sooner_than_min_silence_or_waits_on_rhythm() -> None:
    defaults = TurnParams()
    turn = TurnPolicy(defaults, listening_since=0.0, rhythm=Rhythm([2.0, 2.2, 2.4, 2.1]))
    turn.on_edge(SpeechEdge(True, 1.0))
    turn.on_edge(SpeechEdge(False, 5.0))
    turn.on_text("I led the migration. That's it.")
    assert turn.silence_limit() == defaults.min_silence >= 1.5  # an explicit closing: no sooner
    turn.on_text("We moved the team over to the new system in March")
    assert turn.silence_limit() == defaults.unsure_silence  # a pausing candidate: no longer


def answered(text: str, *, p: float | None = 0.9, expected_words: int = 0, patience: float = 1.0,
             rhythm: Rhythm | None = None) -> TurnPolicy:
    """A policy that heard 1-5 s of speech, paused at 5 s, with this verdict and live text."""
    turn = TurnPolicy(PARAMS, listening_since=0.0, expected_words=expected_words, patience=patience,
                      rhythm=rhythm)
    turn.on_edge(SpeechEdge(True, 1.0))
    turn.on_edge(SpeechEdge(False, 5.0))
    if p is not None:
        turn.on_turn_probability(p, pause_started=5.0)
    turn.on_text(text)
    return turn


# -- transcript cues -------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["I worked there for three years and", "so we decided to, um",
                                  "The main thing was the", "because,"])
def test_an_unfinished_clause_waits_max_silence_even_when_smart_turn_hears_an_ending(text: str) -> None:
    assert trailing_cue(text) is Cue.HESITATION
    turn = answered(text, p=0.95)
    assert turn.silence_limit() == PARAMS.max_silence
    assert turn.decide(5.0 + PARAMS.min_silence + 0.1) is Decision.WAIT


@pytest.mark.parametrize("text", ["We shipped it on time. So yeah, that's how I did it.",
                                  "I led the migration. That's it.", "And that's all I have."])
def test_an_explicit_closing_replies_sooner_than_min_silence(text: str) -> None:
    assert trailing_cue(text) is Cue.CLOSING
    turn = answered(text, p=0.2)  # even when Smart Turn is unsure
    assert turn.silence_limit() == PARAMS.closing_silence < PARAMS.min_silence
    assert turn.decide(5.0 + PARAMS.closing_silence + 0.01) is Decision.END_OF_TURN


def test_a_question_back_to_the_interviewer_is_answered_promptly() -> None:
    assert trailing_cue("Do you mean in my last job or overall?") is Cue.QUESTION
    assert answered("Do you mean in my last job or overall?", p=0.3).silence_limit() == PARAMS.closing_silence
    # A statement that merely ends with a question mark from Whisper is not a question back.
    assert trailing_cue("It was great, right?") is not Cue.QUESTION


def test_a_plain_finished_sentence_is_weak_evidence_and_leaves_it_to_smart_turn() -> None:
    assert trailing_cue("I managed a team of five people.") is Cue.NONE
    assert answered("I managed a team of five people.", p=0.9).silence_limit() == PARAMS.min_silence
    assert answered("I managed a team of five people.", p=0.3).silence_limit() == PARAMS.unsure_silence
    assert answered("I managed a team of five people.", p=None).silence_limit() == PARAMS.unsure_silence
    assert PARAMS.min_silence <= PARAMS.unsure_silence <= PARAMS.max_silence


@pytest.mark.parametrize(("text", "kind"), [
    ("Let me think.", Request.TIME), ("Hmm, give me a second.", Request.TIME),
    ("That's a good question, let me see.", Request.TIME),
    ("Sorry, can you repeat the question?", Request.REPEAT), ("What was the question?", Request.REPEAT),
    ("I think it was the best decision I made, let me think about why I did it that way", Request.NONE),
    ("I worked in retail for five years.", Request.NONE),
])
def test_requests_for_time_or_the_question_are_recognised_only_in_short_utterances(
    text: str, kind: Request
) -> None:
    assert request_kind(text) is kind


@pytest.mark.parametrize(("text", "expected"), [
    ("Mm-hm.", True), ("Okay.", True), ("Yeah, right.", True), ("Uh-huh, okay.", True),
    ("Okay, so in my last job I", False), ("No.", False), ("", False),
])
def test_backchannels_are_told_apart_from_taking_the_turn(text: str, expected: bool) -> None:
    assert is_backchannel(text) is expected


# -- the candidate's rhythm ---------------------------------------------------------------------
def test_a_candidate_who_pauses_long_and_goes_on_gets_a_longer_wait() -> None:
    rhythm = Rhythm()
    turn = TurnPolicy(PARAMS, listening_since=0.0, rhythm=rhythm)
    t = 1.0
    for gap in (1.7, 1.9, 1.8, 0.3):  # a deliberate speaker: ~1.8 s pauses mid-answer
        turn.on_edge(SpeechEdge(True, t))
        turn.on_edge(SpeechEdge(False, t + 3.0))
        t += 3.0 + gap
    assert rhythm.pauses == pytest.approx([1.7, 1.9, 1.8])  # the 0.3 s gap is just a gap
    turn.on_turn_probability(0.3, pause_started=turn.pause_started or 0.0)  # Smart Turn is unsure
    turn.on_text("and I learned a lot from it.")
    assert PARAMS.unsure_silence < turn.silence_limit() <= PARAMS.rhythm_cap
    assert turn.silence_limit() == pytest.approx(rhythm.floor(PARAMS))
    # ...and the next answer starts from what was learnt.
    assert answered("It went well.", p=0.3, rhythm=rhythm).silence_limit() == pytest.approx(
        rhythm.floor(PARAMS))
    # A pause that clearly sounds finished is not held up by the rhythm (dead air stays short).
    assert answered("It went well.", p=0.95, rhythm=rhythm).silence_limit() == PARAMS.min_silence


def test_the_rhythm_counts_only_once_there_are_enough_pauses_and_never_exceeds_its_cap() -> None:
    rhythm = Rhythm([5.0, 6.0])
    assert rhythm.floor(PARAMS) == 0.0
    rhythm.observe(7.0)
    assert rhythm.floor(PARAMS) > PARAMS.max_silence
    assert answered("Done.", p=0.3, rhythm=rhythm).silence_limit() == PARAMS.rhythm_cap


# -- question context -------------------------------------------------------------------------
def test_patience_scales_every_limit_but_never_below_min_silence() -> None:
    # A short-fact question (0.8) replies no sooner than a finished-sounding pause allows: a 1.16 s
    # natural pause was talked into at 0.8 x 1.55 s on the phone.
    assert answered("Ten years.", patience=0.8).silence_limit() == PARAMS.min_silence
    assert answered("Ten years.", p=0.2, patience=0.8).silence_limit() == PARAMS.min_silence
    assert answered("and", patience=0.8).silence_limit() == pytest.approx(0.8 * PARAMS.max_silence)
    assert answered("and", patience=1.2).silence_limit() == pytest.approx(1.2 * PARAMS.max_silence)
    with pytest.raises(ConfigError):
        TurnPolicy(PARAMS, listening_since=0.0, patience=0.0)


def test_a_closing_never_waits_longer_than_a_finished_pause_and_the_rhythm_never_past_max() -> None:
    """Limits set lower than the closing/rhythm defaults (quick test settings) stay consistent."""
    params = TurnParams(min_silence=0.5, unsure_silence=0.8, max_silence=1.0, rhythm_cap=2.4)
    turn = TurnPolicy(params, listening_since=0.0, rhythm=Rhythm([4.0, 4.0, 4.0]))
    turn.on_edge(SpeechEdge(True, 1.0))
    turn.on_edge(SpeechEdge(False, 5.0))
    turn.on_text("That's it.")
    assert turn.silence_limit() == 0.5
    turn.on_text("I did it.")
    assert turn.silence_limit() == 1.0  # unsure, raised by the rhythm, capped at max_silence
    with pytest.raises(ConfigError):
        TurnParams(closing_silence=0.0)


# -- properties ---------------------------------------------------------------------------------
HESITANT_ENDINGS = ["and", "so", "because", "um", "the", "to"]


@given(
    p=st.floats(0.0, 1.0), lower=st.floats(0.0, 1.0), words=st.integers(0, 60), fewer=st.integers(0, 60),
    hesitate=st.booleans(), pauses=st.lists(st.tuples(st.floats(0.5, 6.0), st.floats(0.0, 3.0)), max_size=8),
    ending=st.sampled_from(HESITANT_ENDINGS),
)
def test_more_hesitation_evidence_never_shortens_the_wait(
    p: float, lower: float, words: int, fewer: int, hesitate: bool, pauses: list[tuple[float, float]],
    ending: str,
) -> None:
    """Adding hesitation evidence (a lower Smart Turn verdict, fewer words, an unfinished ending,
    the same resumed pauses but longer in the candidate's rhythm) never makes the interviewer reply
sooner."""
    base_words = ["word"] * max(words, fewer)
    fewer_words = ["word"] * min(words, fewer)
    confident = answered(" ".join(base_words) + ".", p=max(p, lower), expected_words=20,
                         rhythm=Rhythm([pause for pause, _ in pauses]))
    hesitant_text = " ".join(fewer_words + ([ending] if hesitate else [])) + ("" if hesitate else ".")
    hesitant = answered(hesitant_text, p=min(p, lower), expected_words=20,
                        rhythm=Rhythm([pause + longer for pause, longer in pauses]))
    assert confident.silence_limit() <= hesitant.silence_limit() + 1e-9


@given(runs=st.integers(1, 30), length=st.floats(0.3, 20.0), text=st.sampled_from(
    ["", "and", "That's it.", "I did it.", "Do you mean that?"]), p=st.none() | st.floats(0.0, 1.0))
def test_continuous_speech_never_ends_a_turn(runs: int, length: float, text: str, p: float | None) -> None:
    turn = TurnPolicy(PARAMS, listening_since=0.0)
    turn.on_edge(SpeechEdge(True, 0.5))
    turn.on_text(text)
    if p is not None:
        turn.on_turn_probability(p, pause_started=0.5)
    for i in range(runs):
        assert turn.decide(0.5 + length * (i + 1) / runs) is not Decision.END_OF_TURN


def test_an_interviews_patience_replaces_the_servers_and_no_wait_exceeds_the_longest() -> None:
    assert PARAMS.with_patience() == PARAMS
    slow = PARAMS.with_patience(max_silence=8.0, thinking_silence=30.0)
    assert (slow.max_silence, slow.thinking_silence) == (8.0, 30.0)
    assert slow.unsure_silence == PARAMS.unsure_silence
    brisk = PARAMS.with_patience(max_silence=1.6)
    assert (brisk.min_silence, brisk.unsure_silence, brisk.max_silence, brisk.rhythm_cap) == (
        PARAMS.min_silence, 1.6, 1.6, 1.6)
    turn = TurnPolicy(brisk, listening_since=0.0, expected_words=50)  # unfinished: the longest wait
    turn.on_edge(SpeechEdge(True, 1.0))
    turn.on_edge(SpeechEdge(False, 2.0))
    assert turn.decide(2.0 + 1.6 + 1e-6) is Decision.END_OF_TURN
