"""The floor rules on synthetic timelines: media time in, decisions out, no audio and no real time.

Each test plays a short story frame by frame (20 ms) through `Floor`, the way the session does:
`hear()` every frame, `duck()` while not stopping, `watch()` while a reply is busy, and
`hold_end_of_turn()` when the turn policy says the answer is over. Together with the turn policy's
own tests they cover every floor decision the real-time e2e tests exercise.
"""

from __future__ import annotations

import dataclasses
import time

import pytest

from milo_voice.dialogue import floor
from milo_voice.dialogue.floor import Duck, Floor, FloorFrame, StopReply
from milo_voice.media.types import DUCK_GAIN, FRAME_SECONDS

F = FRAME_SECONDS


def frames(start: float, end: float) -> list[float]:
    """Ends of the 20 ms frames from `start` to `end` (media time)."""
    n = round((end - start) / F)
    return [round(start + (i + 1) * F, 6) for i in range(n)]


REPLY = FloorFrame(now=0.0, busy=True, audible=True, playout_left=3.0)
"""The interviewer is two seconds into a reply with three to go; nothing is held."""


def over_reply(now: float, **changes: object) -> FloorFrame:
    return dataclasses.replace(REPLY, now=now, **changes)  # type: ignore[arg-type]


Timed = tuple[list[tuple[float, Duck]], list[tuple[float, StopReply]]]


def first_frame_at(t: float, start: float) -> float:
    """End of the first frame of the grid from `start` that ends at or after `t`."""
    return next(end for end in frames(start, t + 1.0) if end >= t - 1e-9)


def play(rules: Floor, story: list[FloorFrame]) -> Timed:
    """Run frames through the rules as the session does; return the ducks and the stops, timed."""
    ducks, stops = [], []
    for frame in story:
        rules.hear(frame.now, frame.loud)
        duck = rules.duck(frame)
        if duck is not None:
            ducks.append((frame.now, duck))
        if frame.busy:
            stop = rules.watch(frame)
            if stop is not None:
                stops.append((frame.now, stop))
                break
    return ducks, stops


# -- barge-in ---------------------------------------------------------------------------------


def test_speech_over_a_reply_ducks_at_once_and_stops_it_after_half_a_second() -> None:
    onset = 10.0
    story = [over_reply(t, speech_since=onset, loud=True) for t in frames(onset, onset + 1.0)]
    ducks, stops = play(Floor(), story)
    assert ducks == [(onset + F, Duck(DUCK_GAIN, onset, True))], "12 dB down, not silent: a new turn"
    assert stops == [(pytest.approx(onset + floor.BARGE_IN_SPEECH), StopReply(onset, false_end=False))]


def test_a_backchannel_shorter_than_the_barge_in_run_ducks_and_then_lets_the_reply_go_on() -> None:
    onset = 10.0
    mm = [over_reply(t, speech_since=onset, loud=True) for t in frames(onset, onset + 0.3)]
    quiet = [over_reply(t) for t in frames(onset + 0.3, onset + 0.6)]
    ducks, stops = play(Floor(), mm + quiet)
    assert stops == []
    assert [d for _, d in ducks] == [Duck(DUCK_GAIN, onset, True), Duck(1.0)]
    assert ducks[1][0] == pytest.approx(onset + 0.3 + F), "back up on the first frame without speech"


@pytest.mark.parametrize(
    "changes",
    [
        {"playout_left": floor.BARGE_IN_TAIL - 0.01},  # the reply is as good as said
        {"closing_in_reply": True},  # the closing is said to the end
        {"repeats": floor.MAX_REPEATS},  # speech was twice only noise: go on
        {"audible": False},  # the reply is being prepared, nothing plays
    ],
)
def test_no_barge_in_where_it_could_not_help(changes: dict[str, object]) -> None:
    onset = 10.0
    story = [over_reply(t, speech_since=onset, loud=True, **changes) for t in frames(onset, onset + 1.0)]
    _, stops = play(Floor(), story)
    assert stops == []


# -- false ends ---------------------------------------------------------------------------------


def test_resuming_the_held_answer_silences_the_reply_at_once_and_stops_it_after_a_quarter_second() -> None:
    eot, onset = 20.0, 21.0
    story = [over_reply(t, speech_since=onset, loud=True, held_eot_at=eot)
             for t in frames(onset, onset + 1.0)]
    ducks, stops = play(Floor(), story)
    assert ducks[0] == (onset + F, Duck(0.0, onset, True)), "silent, not ducked: it is their answer"
    assert stops == [(first_frame_at(onset + floor.FALSE_END_RUN, onset), StopReply(onset, false_end=True))]


@pytest.mark.parametrize(
    ("offset", "resumes"),
    [
        (-floor.ONSET_LAG - 0.02, False),  # began well before the decision: not a continuation
        (-floor.ONSET_LAG + 0.02, True),  # began just before it, not yet confirmed by the VAD
        (floor.RECOVERY_WINDOW - 0.02, True),
        (floor.RECOVERY_WINDOW + 0.02, False),  # too late: a new answer, by barge-in rules
    ],
    ids=["before-the-lag", "inside-the-lag", "end-of-window", "after-the-window"],
)
def test_the_recovery_window_runs_from_just_before_the_decision_to_three_seconds_after(
    offset: float, resumes: bool
) -> None:
    eot = 20.0
    onset = round(eot + offset, 3)
    frame = over_reply(onset + 0.6, speech_since=onset, loud=True, held_eot_at=eot)
    assert floor.may_resume(frame, onset) is resumes
    stop = Floor().watch(frame)
    assert stop is not None and stop.false_end is resumes


def test_a_held_answer_that_hit_the_length_cap_is_never_resumed() -> None:
    frame = over_reply(21.3, speech_since=21.0, loud=True, held_eot_at=20.0, held_final=True)
    assert not floor.may_resume(frame, 21.0)
    assert Floor().watch(frame) is None, "0.3 s is a false end's run, not a barge-in's"


def test_a_click_after_the_decision_is_not_a_false_end() -> None:
    onset = 21.0
    story = [over_reply(t, speech_since=onset, held_eot_at=20.0) for t in frames(onset, onset + 0.2)]
    story += [over_reply(t, held_eot_at=20.0) for t in frames(onset + 0.2, onset + 0.6)]
    ducks, stops = play(Floor(), story)
    assert stops == []
    assert [d.gain for _, d in ducks] == [0.0, 1.0]


# -- early mute -----------------------------------------------------------------------------------


def test_unconfirmed_speech_after_the_decision_mutes_the_reply_after_60_ms() -> None:
    eot = 20.0
    story = [over_reply(t, onset_pending=20.5, loud=True, held_eot_at=eot)
             for t in frames(20.5, 20.6)]
    ducks, _ = play(Floor(), story)
    assert ducks == [(pytest.approx(20.5 + floor.EARLY_MUTE), Duck(0.0, 20.5, False))]


def test_two_frames_with_one_far_above_the_noise_floor_mute_the_reply_after_40_ms() -> None:
    """A resumption that starts at full voice is muted a frame sooner; a click-like pair of frames just
    over the gate still needs the third frame (bench/onsets.py: the same noise fires as three frames)."""
    eot, onset = 20.0, 20.5
    story = [over_reply(t, onset_pending=onset, loud=True, held_eot_at=eot)
             for t in frames(onset, onset + 0.1)]
    strong = Floor()
    ducks = []
    for i, frame in enumerate(story):
        strong.hear(frame.now, frame.loud, floor.STRONG_DB + (1.0 if i == 1 else -5.0))
        duck = strong.duck(frame)
        if duck is not None:
            ducks.append((frame.now, duck))
    assert ducks == [(pytest.approx(onset + 2 * F), Duck(0.0, onset, False))]  # two frames
    weak = Floor()
    ducks = []
    for frame in story:
        weak.hear(frame.now, frame.loud, floor.STRONG_DB - 1.0)
        duck = weak.duck(frame)
        if duck is not None:
            ducks.append((frame.now, duck))
    assert ducks == [(pytest.approx(onset + 3 * F), Duck(0.0, onset, False))]  # three frames
    # a strong frame that is not itself at the gate's level (it never is in practice) counts for nothing
    quiet = Floor()
    quiet.hear(onset + F, False, floor.STRONG_DB + 5.0)
    quiet.hear(onset + 2 * F, True, 0.0)
    assert quiet.duck(over_reply(onset + 2 * F, onset_pending=onset, loud=True, held_eot_at=eot)) is None


def test_an_early_mute_the_vad_does_not_confirm_is_lifted_after_0_3_s() -> None:
    rules = Floor()
    loud = [over_reply(t, onset_pending=20.5, loud=True, held_eot_at=20.0)
            for t in frames(20.5, 20.58)]
    # the level stays up but the VAD never confirms an onset (a noise that passes the gate)
    hum = [over_reply(t, loud=True, held_eot_at=20.0) for t in frames(20.58, 21.2)]
    ducks, stops = play(rules, loud + hum)
    assert stops == []
    assert [d.gain for _, d in ducks[:2]] == [0.0, 1.0]
    assert ducks[1][0] - ducks[0][0] == pytest.approx(floor.EARLY_MUTE_MAX)
    # A level that stays at speech level mutes again on the next frame: the rule errs towards
    # silence while the held answer may be resuming.
    assert ducks[2] == (pytest.approx(ducks[1][0] + F), Duck(0.0, 20.5, False))


def test_an_early_mute_the_vad_confirms_stays_and_the_false_end_stops_the_reply() -> None:
    rules = Floor()
    pending = [over_reply(t, onset_pending=20.5, loud=True,
                          held_eot_at=20.0) for t in frames(20.5, 20.62)]
    confirmed = [over_reply(t, speech_since=20.5, loud=True, held_eot_at=20.0) for t in frames(20.62, 21.2)]
    ducks, stops = play(rules, pending + confirmed)
    assert [d.gain for _, d in ducks] == [0.0]
    assert rules.early_mute_at is None, "confirmed: the false-end watch takes over"
    assert stops == [(first_frame_at(20.5 + floor.FALSE_END_RUN, 20.5), StopReply(20.5, false_end=True))]


def test_an_early_mute_holds_through_a_quiet_frame_until_the_vad_confirms() -> None:
    """The resumed word dips below speech level for a frame before the VAD confirms it: the mute
    stays (lifting it there played 120 ms of the reply over the candidate)."""
    rules = Floor()
    loud = [over_reply(t, loud=True, held_eot_at=20.0) for t in frames(20.5, 20.58)]
    dip = [over_reply(t, held_eot_at=20.0) for t in frames(20.58, 20.6)]
    again = [over_reply(t, loud=True, held_eot_at=20.0) for t in frames(20.6, 20.7)]
    confirmed = [over_reply(t, speech_since=20.5, loud=True, held_eot_at=20.0) for t in frames(20.7, 20.8)]
    ducks, _ = play(rules, loud + dip + again + confirmed)
    assert [d.gain for _, d in ducks] == [0.0]
    # quiet for 0.1 s with nothing pending: a noise after all, the reply comes back
    rules = Floor()
    quiet = [over_reply(t, held_eot_at=20.0) for t in frames(20.58, 20.8)]
    ducks, _ = play(rules, loud + quiet)
    lifted = round(20.58 + floor.EARLY_LIFT_QUIET, 2)  # 0.1 s after the last loud frame
    assert [(round(t, 2), d.gain) for t, d in ducks] == [(20.56, 0.0), (lifted, 1.0)]


def test_a_40_ms_click_after_the_decision_leaves_the_reply_alone() -> None:
    """Two frames at speech level and then the room again: a click on the line, not a candidate
    resuming (they would stay loud); muting for it cut a 200-260 ms hole in the reply."""
    click = [over_reply(t, onset_pending=20.5, loud=True, held_eot_at=20.0) for t in frames(20.5, 20.54)]
    after = [over_reply(t, onset_pending=20.5, held_eot_at=20.0) for t in frames(20.54, 20.7)]
    ducks, stops = play(Floor(), click + after)
    assert ducks == [] and stops == []


def test_speech_level_frames_with_no_held_answer_do_not_mute() -> None:
    story = [over_reply(t, onset_pending=20.5, loud=True)
             for t in frames(20.5, 20.62)]
    ducks, _ = play(Floor(), story)
    assert ducks == []


def test_a_cleared_playout_needs_no_unduck_and_the_next_reply_ducks_afresh() -> None:
    rules = Floor()
    play(rules, [over_reply(t, speech_since=10.0, loud=True) for t in frames(10.0, 10.1)])
    assert rules.ducked
    rules.cleared()
    rules.hear(10.12, loud=False)
    assert rules.duck(over_reply(10.12)) is None, "clear() already reset the gain"
    ducks, _ = play(rules, [over_reply(t, speech_since=12.0, loud=True) for t in frames(12.0, 12.1)])
    assert ducks == [(12.0 + F, Duck(DUCK_GAIN, 12.0, True))]


# -- onset grace ----------------------------------------------------------------------------------


def test_an_end_of_turn_waits_for_a_possible_onset_at_most_0_3_s() -> None:
    rules = Floor()
    rules.hear(30.0, loud=False)
    held = []
    for t in frames(30.0, 31.0):
        if not rules.hold_end_of_turn(t, onset_pending=29.99):
            break  # the session ends the turn here
        held.append(t)
    assert held == frames(30.0, 30.0 + floor.ONSET_GRACE), "held for the grace, then let go"
    assert rules.hold_end_of_turn(35.0, onset_pending=34.98), "the next end of turn gets its own grace"


def test_a_loud_frame_just_now_also_holds_the_end_of_turn() -> None:
    rules = Floor()
    rules.hear(30.0, loud=True)
    assert rules.hold_end_of_turn(30.0, onset_pending=None)
    assert rules.hold_end_of_turn(30.0 + floor.LOUD_RECENT, onset_pending=None)
    assert not rules.hold_end_of_turn(30.0 + floor.LOUD_RECENT + F, onset_pending=None)


def test_no_sign_of_speech_ends_the_turn_at_once_and_the_grace_restarts_with_each_decision() -> None:
    rules = Floor()
    rules.hear(30.0, loud=False)
    assert not rules.hold_end_of_turn(30.02, onset_pending=None)
    assert rules.hold_end_of_turn(31.0, onset_pending=30.98)
    rules.no_end_due()  # the policy changed its mind (speech resumed)
    assert rules.eot_due is None
    assert rules.hold_end_of_turn(40.0, onset_pending=39.98), "a later end of turn gets its own grace"
    assert not rules.hold_end_of_turn(40.02, onset_pending=None), "the sign of speech is gone"
    assert rules.hold_end_of_turn(50.0, onset_pending=49.98), "so the grace starts afresh"


# -- noise that cut a question --------------------------------------------------------------------


class Heard:
    def __init__(self, speech: bool, speaking: bool) -> None:
        self.heard_speech = speech
        self.speaking = speaking


def test_a_question_cut_by_noise_is_asked_again_after_two_quiet_seconds() -> None:
    nothing = Heard(speech=False, speaking=False)
    assert not floor.noise_only(nothing, 11.9, since=10.0)  # type: ignore[arg-type]
    assert floor.noise_only(nothing, 10.0 + floor.UNASKED_AFTER, since=10.0)  # type: ignore[arg-type]
    assert not floor.noise_only(Heard(True, False), 13.0, since=10.0)  # type: ignore[arg-type]
    assert not floor.noise_only(Heard(False, True), 13.0, since=10.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(("text", "noise"), [("you", True), ("mm-hm", True), ("Okay, right.", True),
                                              ("Sorry, I meant the second one", False)])
def test_a_barge_in_that_was_one_word_or_a_backchannel_does_not_take_the_turn(text: str, noise: bool) -> None:
    assert floor.is_noise(text) is noise


def test_the_rules_run_in_test_time() -> None:
    started = time.process_time()
    for _ in range(20):
        story = [over_reply(t, speech_since=10.0, loud=True, held_eot_at=9.5) for t in frames(10.0, 11.0)]
        play(Floor(), story)
    assert time.process_time() - started < 0.5
