"""Analytics and timing diagnostics: pure computations over rows and events."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta, timezone
from statistics import median

import pytest
from hypothesis import given
from hypothesis import strategies as st

from milo_voice.dialogue.events import TimedEvent
from milo_voice.store.repo import Invalid
from milo_voice.store.tables import Candidate, InterviewSession
from milo_voice.workspace.analytics import Day, Window, compute, daily, parse_days, period, utc_day
from milo_voice.workspace.analytics_chart import LABEL_SPACING, SERIES, chart, count_step
from milo_voice.workspace.diagnostics import diagnose
from milo_voice.workspace.spend import hours_saved, spend_of

TODAY = datetime(2026, 3, 10, 12, tzinfo=UTC)
MIDNIGHT = datetime(2026, 3, 10, tzinfo=UTC)


def candidate(i: int, at: datetime) -> Candidate:
    return Candidate(id=i, interview_id=1, name=f"c{i}", token=f"t{i}", created_at=at)


def session(
    cid: int,
    status: str,
    duration: float | None,
    at: datetime,
    *,
    cpu: float | None = None,
    ended: datetime | None = None,
) -> InterviewSession:
    return InterviewSession(
        candidate_id=cid,
        interview_id=1,
        channel="webrtc",
        status=status,
        started_at=at,
        ended_at=None if status == "live" else (ended or at + timedelta(seconds=duration or 0)),
        duration_s=duration,
        cpu_s=cpu,
        recording_dir="x",
    )


# Seeded rows: what happened, with the UTC day each row must count on.
ADDED = [
    (1, MIDNIGHT),  # the first instant of today
    (2, MIDNIGHT - timedelta(microseconds=1)),  # the last instant of yesterday
    (3, datetime(2026, 3, 10, 1, 30, tzinfo=timezone(timedelta(hours=2)))),  # 23:30 UTC yesterday
    (4, TODAY - timedelta(days=3)),
    (5, TODAY - timedelta(days=29)),  # first day of a 30-day window
    (6, TODAY - timedelta(days=30)),  # just outside it
]
SESSIONS = [
    session(1, "completed", 600.0, MIDNIGHT + timedelta(minutes=1), cpu=30.0),
    session(2, "completed", 900.0, MIDNIGHT - timedelta(minutes=5), cpu=None),  # crosses midnight
    session(3, "interrupted", 60.0, MIDNIGHT - timedelta(minutes=20), cpu=2.5),
    session(3, "completed", 300.0, MIDNIGHT - timedelta(minutes=15), cpu=12.0),  # the retake
    session(4, "live", None, TODAY),  # still running: started, not ended
    session(5, "failed", 10.0, TODAY - timedelta(days=29), cpu=0.5),
    session(6, "completed", 500.0, TODAY - timedelta(days=30), cpu=20.0),  # outside the window
]


def expected_days(window: Window) -> dict[date, tuple[int, int, int, float | None]]:
    """Counts per day straight from the seed: (added, started, completed, median completed length)."""
    added = Counter(utc_day(at) for _, at in ADDED)
    started = Counter(utc_day(s.started_at) for s in SESSIONS)
    done: dict[date, list[float]] = {}
    for s in SESSIONS:
        if s.status == "completed" and s.duration_s is not None:
            done.setdefault(utc_day(s.started_at), []).append(s.duration_s)
    return {
        d: (added[d], started[d], len(done.get(d, [])), median(done[d]) if d in done else None)
        for d in window.dates()
    }


def test_each_day_counts_what_happened_on_it_in_utc_zeros_included() -> None:
    window = Window.ending(TODAY, 30)
    days = daily([candidate(i, at) for i, at in ADDED], SESSIONS, window)
    assert [d.day for d in days] == window.dates() and len(days) == 30
    assert days[0].day == date(2026, 2, 9) and days[-1].day == date(2026, 3, 10)
    expected = expected_days(window)
    assert {d.day: (d.added, d.started, d.completed, d.median_duration_s) for d in days} == expected
    today, yesterday = days[-1], days[-2]
    assert (today.added, yesterday.added) == (1, 2)  # midnight, a microsecond before it, +02:00
    assert yesterday.started == 3 and yesterday.completed == 2  # the midnight-crossing one counts here
    assert today.started == 2 and today.completion_rate == 0.5  # the live one counts as started
    assert sum(1 for d in days if (d.added, d.started) == (0, 0)) == 30 - 4
    assert all(d.completion_rate is None for d in days if d.started == 0)


def test_the_window_keeps_the_last_n_utc_days_today_included() -> None:
    window = Window.ending(datetime(2026, 3, 10, 0, 30, tzinfo=timezone(timedelta(hours=3))), 7)
    assert (window.first, window.last, window.days) == (date(2026, 3, 3), date(2026, 3, 9), 7)
    assert window.since == datetime(2026, 3, 3, tzinfo=UTC)
    assert window.holds(datetime(2026, 3, 3, tzinfo=UTC))
    assert not window.holds(datetime(2026, 3, 3, tzinfo=UTC) - timedelta(microseconds=1))


def test_the_period_totals_spend_and_savings_follow_their_formulas() -> None:
    people = [candidate(i, at) for i, at in ADDED]
    got = period(people, SESSIONS, today=TODAY, days=30, cpu_price_per_hour=0.9, minutes_per_screen=30)
    inside = [s for s in SESSIONS if got.window.holds(s.started_at)]
    ended = [s for s in inside if s.status != "live"]
    assert got.added == sum(1 for _, at in ADDED if got.window.holds(at))
    assert (got.started, got.completed) == (len(inside), sum(s.status == "completed" for s in inside))
    assert got.completion_rate == got.completed / got.started
    assert got.median_duration_s == median(s.duration_s or 0 for s in inside if s.status == "completed")
    spend = got.spend
    assert spend.sessions == len(ended)
    assert spend.interview_minutes == pytest.approx(sum(s.duration_s or 0 for s in ended) / 60)
    assert spend.cpu_s == pytest.approx(sum(s.cpu_s or 0 for s in ended))
    assert spend.cost_usd == pytest.approx(spend.cpu_s / 3600 * 0.9)
    assert spend.not_measured == sum(s.cpu_s is None for s in ended) == 1
    measured_minutes = sum(s.duration_s or 0 for s in ended if s.cpu_s is not None) / 60
    assert spend.cpu_s_per_interview_minute == pytest.approx(spend.cpu_s / measured_minutes)
    assert got.saved.completed == got.completed
    assert got.saved.hours == pytest.approx(got.completed * 30 / 60)


def test_nothing_measured_costs_nothing_and_says_so() -> None:
    rows = [session(1, "completed", 120.0, TODAY), session(2, "live", None, TODAY)]
    spend = spend_of(rows, cpu_price_per_hour=0.05)
    assert (spend.sessions, spend.cpu_s, spend.cost_usd, spend.not_measured) == (1, 0.0, 0.0, 1)
    assert spend.interview_minutes == 2.0 and spend.cpu_s_per_interview_minute is None
    assert hours_saved(0, minutes_per_screen=20).hours == 0


@pytest.mark.parametrize(("raw", "days"), [(None, 30), ("", 30), ("7", 7), ("365", 365), (" 90 ", 90)])
def test_days_accepts_whole_numbers_from_7_to_365(raw: str | None, days: int) -> None:
    assert parse_days(raw) == days


@pytest.mark.parametrize("raw", ["abc", "6", "366", "-7", "7.5", "0", "1e2"])
def test_days_refuses_anything_else_by_name(raw: str) -> None:
    with pytest.raises(Invalid, match=r"days=.*7 to 365"):
        parse_days(raw)


def test_no_candidates_is_no_data() -> None:
    stats = compute([], [])
    assert stats.empty and stats.completion_rate is None and stats.median_duration_s is None
    assert period([], [], today=TODAY, cpu_price_per_hour=0.05, minutes_per_screen=20).empty


def test_the_funnel_counts_candidates_over_all_time() -> None:
    people = [candidate(i, at) for i, at in ADDED]
    stats = compute(people, SESSIONS)
    assert stats.candidates == len(ADDED)
    assert stats.started == len({s.candidate_id for s in SESSIONS})
    assert stats.completed == len({s.candidate_id for s in SESSIONS if s.status == "completed"})
    assert stats.median_duration_s == median(s.duration_s or 0 for s in SESSIONS if s.status == "completed")
    assert [c.id for c in stats.recent] == [1, 2, 3, 4, 5, 6]  # newest first


ROWS = st.lists(st.tuples(st.integers(0, 60), st.integers(0, 86399), st.booleans()), max_size=40)


@given(rows=ROWS, days=st.integers(7, 365))
def test_the_series_sums_to_the_sessions_in_the_window(rows: list[tuple[int, int, bool]], days: int) -> None:
    sessions = [
        session(i, "completed" if done else "interrupted", 60.0, MIDNIGHT - timedelta(days=ago, seconds=-sec))
        for i, (ago, sec, done) in enumerate(rows)
    ]
    got = period([], sessions, today=TODAY, days=days, cpu_price_per_hour=0.05, minutes_per_screen=20)
    inside = [s for s in sessions if s.started_at.date() >= TODAY.date() - timedelta(days=days - 1)]
    assert len(got.days) == days
    assert got.started == len(inside) and got.completed == sum(s.status == "completed" for s in inside)
    assert all(0 <= d.completed <= d.started for d in got.days)


@given(
    st.lists(
        st.tuples(st.integers(0, 500), st.integers(0, 500), st.integers(0, 500)), min_size=7, max_size=365
    )
)
def test_the_chart_stays_inside_its_box_and_labels_today(counts: list[tuple[int, int, int]]) -> None:
    days = [
        Day(TODAY.date() - timedelta(days=len(counts) - 1 - i), a, s, c) for i, (a, s, c) in enumerate(counts)
    ]
    drawn = chart(days, width=720, height=220)
    assert len(drawn.bars) == sum(1 for day in counts for value in day if value)
    for bar in drawn.bars:
        assert bar.kind in SERIES and bar.h > 0 and bar.w > 0
        assert drawn.left <= bar.x and bar.x + bar.w <= drawn.right + 0.01
        assert bar.y >= 0 and bar.y + bar.h <= drawn.base + 0.01
    assert drawn.ticks[-1].label == f"{TODAY.day} {TODAY:%b}"
    gaps = [b.x - a.x for a, b in zip(drawn.ticks, drawn.ticks[1:], strict=False)]
    assert all(gap >= LABEL_SPACING - 0.01 for gap in gaps)
    assert all(0 <= t.x <= drawn.width for t in drawn.ticks)
    peak = max(max(day) for day in counts)
    assert drawn.top_count >= peak and len(drawn.levels) <= 5
    assert [int(level.label) for level in drawn.levels][-1] == drawn.top_count


@given(st.integers(0, 10**6))
def test_the_count_axis_step_is_round_and_gives_at_most_four_lines(peak: int) -> None:
    step = count_step(peak)
    assert str(step).strip("0") in ("1", "2", "5") and peak / step <= 4


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
