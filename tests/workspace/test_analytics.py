"""Analytics and timing diagnostics: pure computations over rows and events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from milo_voice.dialogue.events import TimedEvent
from milo_voice.store.tables import Candidate, InterviewSession
from milo_voice.workspace.analytics import chart_points, compute
from milo_voice.workspace.diagnostics import diagnose

TODAY = datetime(2026, 3, 10, 12, tzinfo=UTC)


def candidate(i: int, days_ago: int) -> Candidate:
    return Candidate(
        id=i, interview_id=1, name=f"c{i}", token=f"t{i}", created_at=TODAY - timedelta(days=days_ago)
    )


def session(cid: int, status: str, duration: float | None, days_ago: int = 0) -> InterviewSession:
    at = TODAY - timedelta(days=days_ago)
    return InterviewSession(
        candidate_id=cid,
        interview_id=1,
        channel="webrtc",
        status=status,
        started_at=at,
        ended_at=at,
        duration_s=duration,
        recording_dir="x",
    )


def test_no_candidates_is_no_data() -> None:
    stats = compute([], [], today=TODAY)
    assert stats.empty and stats.completion_rate is None and stats.median_duration_s is None
    assert len(stats.activity) == 30 and all(d.added == d.completed == 0 for d in stats.activity)


def test_funnel_rate_median_and_activity() -> None:
    people = [candidate(1, 0), candidate(2, 1), candidate(3, 1), candidate(4, 40)]
    sessions = [
        session(1, "completed", 100.0),
        session(2, "interrupted", 20.0, 1),
        session(2, "completed", 300.0),
        session(3, "completed", 200.0, 1),
    ]
    stats = compute(people, sessions, today=TODAY)
    assert (stats.candidates, stats.started, stats.completed) == (4, 3, 3)
    assert stats.completion_rate == 1.0 and stats.median_duration_s == 200.0
    assert (stats.activity[-1].added, stats.activity[-1].completed) == (1, 2)
    assert (stats.activity[-2].added, stats.activity[-2].completed) == (2, 1)
    assert [c.id for c in stats.recent] == [1, 3, 2, 4]


@given(st.lists(st.tuples(st.integers(0, 20), st.integers(0, 20)), min_size=1, max_size=40))
def test_chart_bars_stay_inside_the_chart(counts: list[tuple[int, int]]) -> None:
    from milo_voice.workspace.analytics import Day

    days = [Day(TODAY.date() - timedelta(days=i), a, c) for i, (a, c) in enumerate(counts)]
    chart = chart_points(days, width=600, height=120)
    bars = chart["bars"]
    assert isinstance(bars, list) and len(bars) == 2 * len(days)
    for bar in bars:
        assert 0 <= bar["y"] <= 120 and bar["h"] >= 0 and bar["y"] + bar["h"] <= 120.01
        assert 0 <= bar["x"] < 600
    tallest = max(max(a, c) for a, c in counts)
    if tallest:
        assert max(bar["h"] for bar in bars) == 100.0


def test_diagnostics_pair_answers_with_replies() -> None:
    events = [
        TimedEvent("speech_end", 5.0, 0, 1),
        TimedEvent("eot_decided", 6.5, 0, 1),
        TimedEvent("audio_out_first_frame", 6.6, 0, 2, {"at": 6.6}),
        TimedEvent("barge_in", 8.0, 0, 2),
        TimedEvent("barge_in_ignored", 8.5, 0, 2),
        TimedEvent("speech_end", 20.0, 0, 3),
        TimedEvent("eot_decided", 21.0, 0, 3),
        TimedEvent("false_end", 21.3, 0, 3),
        TimedEvent("speech_end", 25.0, 0, 3),
        TimedEvent("eot_decided", 27.0, 0, 3),
        TimedEvent("audio_out_first_frame", 27.8, 0, 4, {"at": 27.8}),
    ]
    d = diagnose(events)
    assert [(w.speech_end, w.dead_air) for w in d.waits] == [(5.0, 1.6), (25.0, 2.8)]
    assert (d.barge_ins, d.noise_barge_ins, d.false_ends) == (1, 1, 1)
    assert d.longest_dead_air is not None and d.longest_dead_air.speech_end == 25.0
    assert diagnose([]).empty
