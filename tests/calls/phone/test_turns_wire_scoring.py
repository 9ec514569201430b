"""The scoring behind `bench/turns.py --channel` (bench/turns_score.py), on synthetic heard-frame
logs and pauses: talk-overs per pause bucket and kind, how long a talk-over stays audible after
the candidate resumes, dead air to the first audible reply frame, and the plain silence rule at
the same median dead air. Pure: no models, no server."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench" / "turns_score.py"


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("turns_score_under_test", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


ts = load()
THINKING = "between source utterances"
AND = "mid-sentence (after conjunction/filler)"
PAUSES = [ts.Pause(2.0, 3.5, THINKING), ts.Pause(5.0, 5.8), ts.Pause(8.0, 9.2, AND)]
"""A 1.5 s pause after a sentence, a 0.8 s natural one, a 1.2 s one after "and"; speech 0.8-10 s."""


def frames(start: float, end: float, level: float = -20.0) -> list[tuple[float, float]]:
    return [(round(start + 0.02 * i, 3), level) for i in range(round((end - start) / 0.02))]


def test_frames_below_the_audible_level_are_not_heard_and_short_gaps_join_one_run() -> None:
    heard = frames(1.0, 1.4) + frames(1.4, 1.6, -200.0) + frames(1.6, 2.0, -32.0) + frames(3.0, 3.2)
    assert ts.audible_runs(heard) == [(1.0, 2.0), (3.0, 3.2)]  # a -12 dB duck is heard, a mute is not
    assert ts.audible_runs(heard, bridge=0.1) == [(1.0, pytest.approx(1.4)), (1.6, 2.0), (3.0, 3.2)]
    assert ts.frame_dbfs(np.zeros(160, np.int16)) == -200.0
    assert ts.frame_dbfs(np.full(160, 32767, np.int16)) == pytest.approx(0.0, abs=0.01)


def test_talk_overs_belong_to_the_pause_they_start_in_and_count_audible_time_after_the_resume() -> None:
    heard_runs = [
        (0.1, 0.3),  # the lead-in, before the speech: not a talk-over
        (3.0, 3.7),  # inside the 1.5 s pause, audible 0.2 s after the candidate resumed
        (6.5, 6.7),  # started while the candidate spoke
        (9.3, 9.4),  # 0.1 s after the "and" pause ended: still that pause's decision
        (12.0, 13.5),  # the reply
    ]
    score = ts.score_answer("a", PAUSES, heard_runs, speech_start=0.8, speech_end=10.0, window_end=20.0)

    assert score.lead_in == 1
    assert [(t.pause, t.after_resume) for t in score.talk_overs] == [(0, 0.2), (None, 0.2), (2, 0.1)]
    assert score.talked == {0, 2}
    assert score.dead_air == 2.0
    rows = ts.count_pauses([(score.pauses, score.talked)])
    assert rows["<1.5 s"] == [1, 2] and rows["<1 s"] == [0, 1] and rows["1-2 s"] == [2, 2]
    assert rows[">=1.5 s"] == [1, 1]
    assert rows["after an unfinished clause, <4 s"] == [1, 1]
    assert rows[f"kind: {THINKING}"] == [1, 1] and rows["kind: natural"] == [0, 1]
    assert rows["all"] == [2, 3]


def test_a_talk_over_that_ends_inside_its_pause_is_heard_for_zero_seconds_after_the_resume() -> None:
    score = ts.score_answer("a", PAUSES, [(2.5, 3.0)], speech_start=0.8, speech_end=10.0, window_end=20.0)
    assert [(t.pause, t.after_resume) for t in score.talk_overs] == [(0, 0.0)]
    assert score.dead_air is None  # nothing after the end: no reply


def test_two_runs_in_one_pause_are_one_talk_over_timed_from_the_run_heard_at_the_resume() -> None:
    # "Thank you." inside the pause, then the next question from just before the resume
    score = ts.score_answer("a", PAUSES, [(2.2, 2.8), (3.4, 3.65)], speech_start=0.8, speech_end=10.0,
                            window_end=20.0)
    assert [(t.start, t.end, t.pause, t.after_resume) for t in score.talk_overs] == [(2.2, 3.65, 0, 0.15)]


@pytest.mark.parametrize(("heard_runs", "dead_air"), [
    ([(9.9, 10.1), (11.0, 12.0)], 1.0),  # a talk-over stopped just after the end is not the reply
    ([(9.9, 10.8)], 0.0),  # audible at the end and going on: the reply was heard at once
    ([(10.5, 11.0), (13.0, 14.0)], 0.5),  # the first audible frame counts, however short the run
    ([(21.0, 22.0)], None),  # after the next answer began: no reply to this one
])
def test_dead_air_runs_from_the_true_end_of_speech_to_the_first_audible_reply_frame(
        heard_runs: list[tuple[float, float]], dead_air: float | None) -> None:
    score = ts.score_answer("a", PAUSES, heard_runs, speech_start=0.8, speech_end=10.0, window_end=20.0)
    assert score.dead_air == dead_air


EDGES = ((True, 0.8), (False, 2.0), (True, 3.5), (False, 5.0), (True, 5.8), (False, 8.0), (True, 9.2),
         (False, 10.0))


def test_the_plain_silence_rule_replies_into_every_silence_longer_than_its_threshold() -> None:
    assert ts.silence_decisions(EDGES, 1.0, until=20.0) == [3.0, 9.0, 11.0]
    assert ts.silence_decisions(EDGES, 1.3, until=20.0) == [3.3, 11.3]
    assert ts.silence_decisions(EDGES, 1.3, until=11.0) == [3.3]  # the next answer began first
    assert ts.silence_decisions(((False, 0.5), (True, 0.8), (False, 2.0)), 5.0, until=20.0) == [7.0]

    rule = ts.score_rule(ts.RuleInput("a", tuple(PAUSES), EDGES, 10.0, 20.0), 1.0)
    assert rule.talked == {0, 2} and rule.dead_air == 1.0 and rule.elsewhere == 0


def test_the_silence_rule_is_compared_at_the_same_median_dead_air() -> None:
    # three answers whose VAD ends 0.2, 0.3 and 0.4 s after the true end: dead air = threshold + that
    items = [ts.RuleInput(f"a{k}", tuple(PAUSES), (*EDGES[:-1], (False, 10.0 + lag)), 10.0, 20.0)
             for k, lag in enumerate((0.2, 0.3, 0.4))]
    assert ts.matched_threshold(items, 1.8) == pytest.approx(1.5)
    assert ts.matched_threshold(items, 1.3) == pytest.approx(1.0)

    heard = [ts.score_answer(i.answer, PAUSES, [(3.0, 3.7), (11.8, 13.0)], speech_start=0.8,
                             speech_end=10.0, window_end=20.0) for i in items]
    summary = ts.summarise(heard, items)
    assert summary["dead_air_median"] == pytest.approx(1.8)
    assert summary["pauses"][">=1.5 s"] == [3, 3] and summary["pauses"]["<1.5 s"] == [0, 6]
    assert summary["audible_after_resume_p50"] == pytest.approx(0.2) and summary["stopped_late"] == 0
    assert summary["no_reply"] == 0
    rule = summary["silence_rule"]
    assert rule["threshold"] == pytest.approx(1.5) and rule["dead_air_median"] == pytest.approx(1.8)
    assert rule["pauses"][">=1.5 s"] == [0, 3]  # a 1.5 s pause is not longer than a 1.5 s threshold
    assert rule["pauses"]["<1.5 s"] == [0, 6]


def test_a_talk_over_heard_longer_than_the_goal_after_the_resume_counts_as_stopped_late() -> None:
    score = ts.score_answer("a", PAUSES, [(3.0, 3.9), (11.0, 12.0)], speech_start=0.8, speech_end=10.0,
                            window_end=20.0)
    summary = ts.summarise([score], [])
    assert summary["stopped_late"] == 1 and summary["audible_after_resume_max"] == pytest.approx(0.4)
    assert "silence_rule" not in summary


def test_pauses_join_holds_split_by_a_burst_in_an_inserted_silence_and_carry_its_kind() -> None:
    entry = {
        "holds": [[1.0, 1.4], [3.0, 3.9], [4.0, 5.2], [7.0, 7.5]],
        "inserted_pauses": [{"at_s": 3.05, "inserted_s": 2.1, "where": AND},
                            {"at_s": 7.1, "inserted_s": 0.3, "where": THINKING}],
    }
    assert ts.labelled_pauses(entry) == [ts.Pause(1.0, 1.4), ts.Pause(3.0, 5.2, AND),
                                         ts.Pause(7.0, 7.5, THINKING)]
    assert ts.Pause(3.0, 5.2, AND).groups() == ["2-3 s", ">=1.5 s", "after an unfinished clause, <4 s"]
    assert ts.Pause(3.0, 7.2, AND).groups() == [">=3 s", ">=1.5 s"]  # 4 s or more: not in that row
