"""TurnPolicy on synthetic timelines: each evidence source moves the end-of-turn decision the right way.

No audio and no clock: edges and probabilities carry media times, and `decide(now)` is asked at
chosen instants. Here `unsure_silence` is set to `max_silence`, so a pause either sounds finished
(min) or not (max); test_turn_evidence.py covers the three-level wait and the other evidence.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from milo_voice.dialogue.turn_policy import Decision, TurnParams, TurnPolicy
from milo_voice.errors import ConfigError
from milo_voice.media.vad import SpeechEdge

PARAMS = TurnParams(unsure_silence=TurnParams().max_silence)
MIN, MAX, THINK = PARAMS.min_silence, PARAMS.max_silence, PARAMS.thinking_silence
EPS = 1e-6
"""`decide` compares float differences without a tolerance: "at" a deadline means just past it."""


def policy(runs: Sequence[tuple[float, float]], *, expected_words: int = 0) -> TurnPolicy:
    """A policy listening from 0 s that has heard speech runs `[(start, end), ...]`."""
    turn = TurnPolicy(PARAMS, listening_since=0.0, expected_words=expected_words)
    for start, end in runs:
        turn.on_edge(SpeechEdge(True, start))
        turn.on_edge(SpeechEdge(False, end))
    return turn


def first_end_of_turn(turn: TurnPolicy, start: float, stop: float, step: float = 0.01) -> float | None:
    """Earliest instant on a 10 ms grid in [start, stop] at which `decide` says END_OF_TURN."""
    for i in range(round((stop - start) / step) + 1):
        now = start + i * step
        if turn.decide(now) is Decision.END_OF_TURN:
            return now
    return None


# -- examples: Smart Turn probability ----------------------------------------------------


def test_a_pause_that_sounds_finished_ends_after_min_silence() -> None:
    turn = policy([(1.0, 5.0)])
    turn.on_turn_probability(0.9, pause_started=5.0)
    assert turn.decide(5.0 + MIN - 0.01) is Decision.WAIT
    assert turn.decide(5.0 + MIN + EPS) is Decision.END_OF_TURN


def test_a_probability_exactly_at_the_threshold_counts_as_finished() -> None:
    turn = policy([(1.0, 5.0)])
    turn.on_turn_probability(PARAMS.turn_threshold, pause_started=5.0)
    assert turn.silence_limit() == MIN


@pytest.mark.parametrize("probability", [None, 0.0, 0.5, 0.69])
def test_an_unfinished_or_unjudged_pause_waits_max_silence(probability: float | None) -> None:
    turn = policy([(1.0, 5.0)])
    if probability is not None:
        turn.on_turn_probability(probability, pause_started=5.0)
    assert turn.decide(5.0 + MIN) is Decision.WAIT
    assert turn.decide(5.0 + MAX - 0.01) is Decision.WAIT
    assert turn.decide(5.0 + MAX + EPS) is Decision.END_OF_TURN


def test_a_probability_for_an_earlier_pause_is_ignored() -> None:
    turn = policy([(1.0, 5.0), (6.0, 8.0)])
    turn.on_turn_probability(0.95, pause_started=5.0)  # Smart Turn answering late about 5.0
    assert turn.pause_started == 8.0
    assert turn.silence_limit() == MAX
    assert turn.decide(8.0 + MIN) is Decision.WAIT
    turn.on_turn_probability(0.95, pause_started=8.0)
    assert turn.decide(8.0 + MIN + EPS) is Decision.END_OF_TURN


def test_a_probability_arriving_while_the_candidate_speaks_again_is_ignored() -> None:
    turn = policy([(1.0, 5.0)])
    turn.on_edge(SpeechEdge(True, 5.5))
    turn.on_turn_probability(0.95, pause_started=5.0)
    turn.on_edge(SpeechEdge(False, 7.0))
    assert turn.silence_limit() == MAX


# -- examples: answer length --------------------------------------------------------------


def test_a_short_answer_gets_max_silence_even_when_it_sounds_finished() -> None:
    turn = policy([(1.0, 3.0)], expected_words=20)
    turn.on_words(6)
    turn.on_turn_probability(0.99, pause_started=3.0)
    assert turn.decide(3.0 + MIN) is Decision.WAIT
    assert turn.decide(3.0 + MAX + EPS) is Decision.END_OF_TURN


def test_reaching_the_expected_length_restores_the_short_wait() -> None:
    turn = policy([(1.0, 9.0)], expected_words=20)
    turn.on_turn_probability(0.99, pause_started=9.0)
    turn.on_words(19)
    assert turn.decide(9.0 + MIN) is Decision.WAIT
    turn.on_words(20)
    assert turn.decide(9.0 + MIN + EPS) is Decision.END_OF_TURN


# -- examples: blips and real speech after a pause ----------------------------------------


def test_a_blip_after_a_pause_does_not_restart_the_silence_clock() -> None:
    turn = policy([(1.0, 5.0)])
    turn.on_edge(SpeechEdge(True, 6.0))
    assert turn.decide(6.1) is Decision.WAIT  # speaking during the blip
    turn.on_edge(SpeechEdge(False, 6.0 + PARAMS.min_run - 0.05))  # a breath
    assert turn.pause_started == 5.0
    assert turn.decide(5.0 + MAX - 0.01) is Decision.WAIT
    assert turn.decide(5.0 + MAX + EPS) is Decision.END_OF_TURN


def test_a_blip_keeps_the_probability_of_the_pause_it_interrupted() -> None:
    turn = policy([(1.0, 5.0)])
    turn.on_turn_probability(0.9, pause_started=5.0)
    turn.on_edge(SpeechEdge(True, 5.5))
    turn.on_edge(SpeechEdge(False, 5.5 + PARAMS.min_run - 0.05))
    assert turn.decide(5.0 + MIN + EPS) is Decision.END_OF_TURN


def test_a_real_speech_run_after_a_pause_restarts_the_silence_clock() -> None:
    turn = policy([(1.0, 5.0)])
    turn.on_turn_probability(0.9, pause_started=5.0)
    turn.on_edge(SpeechEdge(True, 6.0))
    turn.on_edge(SpeechEdge(False, 6.0 + PARAMS.min_run))
    assert turn.pause_started == 6.0 + PARAMS.min_run
    assert turn.decide(5.0 + MAX) is Decision.WAIT  # the old pause's deadline no longer applies
    assert turn.silence_limit() == MAX  # and neither does its probability
    assert turn.decide(6.0 + PARAMS.min_run + MAX + EPS) is Decision.END_OF_TURN


def test_a_blip_before_any_speech_is_not_an_answer() -> None:
    turn = policy([(2.0, 2.0 + PARAMS.min_run - 0.05)])
    assert turn.pause_started is None
    assert turn.decide(2.0 + MAX) is Decision.WAIT
    assert turn.decide(THINK + EPS) is Decision.CHECK_IN


# -- examples: thinking, speaking ----------------------------------------------------------


def test_before_any_speech_check_in_after_thinking_silence_and_again_after_another() -> None:
    turn = TurnPolicy(PARAMS, listening_since=3.0)
    first = 3.0 + THINK + EPS
    assert turn.decide(first - 0.01) is Decision.WAIT
    assert turn.decide(first) is Decision.CHECK_IN
    assert turn.decide(first + 0.02) is Decision.WAIT
    second = first + THINK + EPS
    assert turn.decide(second - 0.01) is Decision.WAIT
    assert turn.decide(second) is Decision.CHECK_IN
    assert turn.decide(second + 1.0) is Decision.WAIT


def test_a_candidate_who_has_answered_gets_no_check_in() -> None:
    turn = policy([(1.0, 5.0)])
    assert turn.decide(THINK + 10.0) is Decision.END_OF_TURN


@pytest.mark.parametrize("now", [2.0, 12.0, 60.0, 239.0])
def test_never_end_of_turn_while_speaking(now: float) -> None:
    """...within `max_answer` (240 s), the safety cap for a room whose noise never stops."""
    turn = policy([(1.0, 1.5)])
    turn.on_turn_probability(1.0, pause_started=1.5)
    turn.on_edge(SpeechEdge(True, 1.8))
    assert turn.decide(now) is Decision.WAIT


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"min_silence": 3.0, "max_silence": 2.0}, "min_silence=3.0"),
        ({"min_silence": 0.0}, "min_silence=0.0"),
        ({"turn_threshold": 1.5}, "turn_threshold=1.5"),
    ],
)
def test_invalid_params_are_refused_by_name(kwargs: dict[str, float], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        TurnParams(**kwargs)


# -- properties -------------------------------------------------------------------------

durations = st.floats(0.02, 8.0, allow_nan=False)
timelines = st.lists(st.tuples(durations, durations), min_size=1, max_size=6)
"""(speech run, following gap) pairs; the first run starts at 0.5 s."""
probabilities = st.floats(0.0, 1.0, allow_nan=False)


def build(pairs: list[tuple[float, float]], expected_words: int = 0) -> tuple[TurnPolicy, float]:
    """Feed the runs; return the policy and the media time of the last speech end."""
    runs, t = [], 0.5
    for run, gap in pairs:
        runs.append((t, t + run))
        t += run + gap
    return policy(runs, expected_words=expected_words), runs[-1][1]


@given(pairs=timelines, later=st.floats(0.0, 120.0), p=st.none() | probabilities, words=st.integers(0, 50))
def test_continuous_speech_never_ends_a_turn(
    pairs: list[tuple[float, float]], later: float, p: float | None, words: int
) -> None:
    turn, last_end = build(pairs, expected_words=10)
    pause = turn.pause_started
    if p is not None and pause is not None:
        turn.on_turn_probability(p, pause_started=pause)
    turn.on_words(words)
    resumed = last_end + 0.3
    turn.on_edge(SpeechEdge(True, resumed))  # still talking, however long
    assert turn.decide(resumed + later) is Decision.WAIT


@given(
    pairs=timelines,
    p_a=probabilities,
    p_b=st.none() | probabilities,
    words_a=st.integers(0, 40),
    words_b=st.integers(0, 40),
    after=st.floats(0.0, 5.0),
)
def test_more_hesitation_evidence_never_shortens_the_wait(
    pairs: list[tuple[float, float]],
    p_a: float,
    p_b: float | None,
    words_a: int,
    words_b: int,
    after: float,
) -> None:
    """`hesitant` has a lower (or no) probability and no more words than `confident`."""
    p_low = None if p_b is None else min(p_a, p_b)
    p_high = p_a if p_b is None else max(p_a, p_b)
    confident, last_end = build(pairs, expected_words=20)
    hesitant, _ = build(pairs, expected_words=20)
    pause = confident.pause_started
    if pause is not None:
        confident.on_turn_probability(p_high, pause_started=pause)
        if p_low is not None:
            hesitant.on_turn_probability(p_low, pause_started=pause)
    confident.on_words(max(words_a, words_b))
    hesitant.on_words(min(words_a, words_b))
    now = last_end + after
    if hesitant.decide(now) is Decision.END_OF_TURN:
        assert confident.decide(now) is Decision.END_OF_TURN
    assert confident.silence_limit() <= hesitant.silence_limit()
    hesitant_end = first_end_of_turn(hesitant, last_end, last_end + MAX + 0.1)
    confident_end = first_end_of_turn(confident, last_end, last_end + MAX + 0.1)
    if hesitant_end is not None:
        assert confident_end is not None
        assert confident_end <= hesitant_end


@given(
    pairs=timelines,
    p=st.none() | probabilities,
    words=st.integers(0, 40),
    t=st.floats(0.0, 6.0),
    extra=st.floats(0.0, 60.0),
)
def test_once_the_turn_is_over_it_stays_over_without_new_edges(
    pairs: list[tuple[float, float]], p: float | None, words: int, t: float, extra: float
) -> None:
    turn, last_end = build(pairs, expected_words=20)
    pause = turn.pause_started
    if p is not None and pause is not None:
        turn.on_turn_probability(p, pause_started=pause)
    turn.on_words(words)
    if turn.decide(last_end + t) is Decision.END_OF_TURN:
        assert turn.decide(last_end + t + extra) is Decision.END_OF_TURN


@given(pairs=timelines, p=st.none() | probabilities, words=st.integers(0, 40))
def test_the_wait_after_real_speech_is_between_min_and_max_silence(
    pairs: list[tuple[float, float]], p: float | None, words: int
) -> None:
    turn, _ = build(pairs, expected_words=20)
    pause = turn.pause_started
    if pause is None:  # every run was a blip: the candidate has not answered yet
        return
    if p is not None:
        turn.on_turn_probability(p, pause_started=pause)
    turn.on_words(words)
    assert turn.decide(pause + MIN - 0.001) is Decision.WAIT
    assert turn.decide(pause + MAX + EPS) is Decision.END_OF_TURN


def test_a_run_that_transcribed_to_nothing_does_not_restart_the_silence_clock() -> None:
    params = TurnParams(min_silence=1.0, unsure_silence=1.8, max_silence=3.0)
    policy = TurnPolicy(params, listening_since=0.0)
    policy.on_edge(SpeechEdge(True, 1.0))
    policy.on_edge(SpeechEdge(False, 5.0))  # real speech, then a pause at 5.0
    policy.on_edge(SpeechEdge(True, 6.0))
    policy.on_edge(SpeechEdge(False, 6.7))  # a 0.7 s noise burst
    assert policy.decide(8.1) is Decision.WAIT  # 1.4 s after the burst: still waiting
    policy.on_noise(pause_started=6.7)  # its decode came back empty
    assert policy.pause_started == 5.0
    assert policy.decide(8.1) is Decision.END_OF_TURN  # 3.1 s after the real speech


def test_noise_bursts_whose_verdicts_come_late_are_all_wound_back() -> None:
    """Room-noise bursts a few tenths of a second apart: each decode comes back empty only after
    the next burst has begun. Once the last is known to be noise, the clock runs from the speech."""
    params = TurnParams(min_silence=1.0, unsure_silence=1.8, max_silence=3.0)
    policy = TurnPolicy(params, listening_since=0.0)
    policy.on_edge(SpeechEdge(True, 1.0))
    policy.on_edge(SpeechEdge(False, 5.0))  # real speech, then a pause at 5.0
    policy.on_edge(SpeechEdge(True, 6.0))
    policy.on_edge(SpeechEdge(False, 6.5))  # burst 1
    policy.on_edge(SpeechEdge(True, 6.8))  # burst 2 begins...
    policy.on_noise(pause_started=6.5)  # ...before burst 1's decode comes back empty
    assert policy.decide(7.0) is Decision.WAIT  # still "speaking"
    policy.on_edge(SpeechEdge(False, 7.3))
    assert policy.pause_started == 7.3  # burst 2's verdict is not in yet
    policy.on_noise(pause_started=7.3)
    assert policy.pause_started == 5.0
    assert policy.decide(8.1) is Decision.END_OF_TURN  # 3.1 s after the real speech


def test_a_late_noise_verdict_does_not_wind_back_real_speech_that_followed() -> None:
    params = TurnParams(min_silence=1.0, unsure_silence=1.8, max_silence=3.0)
    policy = TurnPolicy(params, listening_since=0.0)
    policy.on_edge(SpeechEdge(True, 1.0))
    policy.on_edge(SpeechEdge(False, 5.0))
    policy.on_edge(SpeechEdge(True, 6.0))
    policy.on_edge(SpeechEdge(False, 6.5))  # a burst
    policy.on_edge(SpeechEdge(True, 6.8))
    policy.on_noise(pause_started=6.5)
    policy.on_edge(SpeechEdge(False, 9.0))  # the candidate went on: words
    policy.on_noise(pause_started=6.5)  # a repeated verdict changes nothing
    assert policy.pause_started == 9.0
    assert policy.decide(10.7) is Decision.WAIT  # the unsure wait (1.8 s) runs from 9.0
    assert policy.decide(10.8) is Decision.END_OF_TURN


def test_noise_before_any_speech_leaves_the_candidate_thinking() -> None:
    policy = TurnPolicy(TurnParams(thinking_silence=10.0), listening_since=0.0)
    policy.on_edge(SpeechEdge(True, 2.0))
    policy.on_edge(SpeechEdge(False, 2.8))
    policy.on_noise(pause_started=2.8)
    assert not policy.heard_speech and policy.pause_started is None
    assert policy.decide(9.0) is Decision.WAIT
    assert policy.decide(10.0) is Decision.CHECK_IN


def test_an_answer_ends_after_max_answer_even_in_a_noisy_room() -> None:
    policy = TurnPolicy(TurnParams(max_answer=60.0), listening_since=0.0)
    policy.on_edge(SpeechEdge(True, 1.0))  # "speech" that never stops
    assert policy.decide(59.9) is Decision.WAIT
    assert policy.decide(60.0) is Decision.END_OF_TURN


def test_the_answer_length_cap_is_final_even_if_speech_goes_on() -> None:
    """The session must not resume a capped answer (it would end again at once, forever)."""
    policy = TurnPolicy(TurnParams(max_answer=60.0), listening_since=0.0)
    policy.on_edge(SpeechEdge(True, 1.0))
    assert not policy.capped(59.9)
    assert policy.capped(60.0)
    policy.on_edge(SpeechEdge(False, 61.0))
    policy.on_edge(SpeechEdge(True, 61.5))  # the candidate (or the room) goes on
    assert policy.capped(62.0) and policy.decide(62.0) is Decision.END_OF_TURN


# -- a channel's buffers ----------------------------------------------------------------


def test_a_channel_delay_ends_each_wait_that_much_sooner_in_media_time() -> None:
    delayed = TurnParams(unsure_silence=MAX).heard_after(0.1)
    for p, limit in ((0.9, MIN), (0.2, MAX)):
        plain, late = policy([(1.0, 5.0)]), TurnPolicy(delayed, listening_since=0.0)
        late.on_edge(SpeechEdge(True, 1.0))
        late.on_edge(SpeechEdge(False, 5.0))
        for turn in (plain, late):
            turn.on_turn_probability(p, pause_started=5.0)
        assert plain.silence_limit() == pytest.approx(limit)
        assert late.silence_limit() == pytest.approx(limit - 0.1)
        assert first_end_of_turn(late, 5.0, 10.0) == pytest.approx(5.0 + limit - 0.1, abs=0.011)
    silent = TurnPolicy(delayed, listening_since=0.0)  # the thinking time is not shortened
    assert silent.decide(THINK - 0.05) is Decision.WAIT
    assert silent.decide(THINK + EPS) is Decision.CHECK_IN


def test_a_channel_delay_is_capped_at_a_quarter_of_the_shortest_wait() -> None:
    assert TurnParams().heard_after(5.0).heard_delay == pytest.approx(TurnParams().min_silence / 4)
    assert TurnParams().heard_after(-1.0).heard_delay == 0.0
    with pytest.raises(ConfigError, match=r"heard_delay=1\.0"):
        TurnParams(heard_delay=1.0)
