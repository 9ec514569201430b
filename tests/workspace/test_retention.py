"""Retention windows decided on a fake clock (issue 20 item 3): what is past its window and what is
kept, at the edges of the window; the SQL cutoff agrees with the decision; the settings form's parsing.
The sweep that removes: test_retention_sweep.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from milo_voice.workspace.retention import (
    MARK,
    RECORDING,
    TRANSCRIPT,
    Category,
    Dated,
    RetentionPolicy,
    SweepReport,
    due,
    expired,
    has_mark,
    parse_days,
    parse_policy,
    with_mark,
)

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
POLICY = RetentionPolicy(recordings_days=30, transcripts_days=90, scores_days=None, messages_days=7)


def ago(**delta: float) -> datetime:
    return NOW - timedelta(**delta)


def test_a_session_ended_29_days_ago_is_kept_and_30_days_and_a_second_ago_is_removed() -> None:
    sessions = [
        Dated("29 days", Category.RECORDINGS, ago(days=29)),
        Dated("30 days exactly", Category.RECORDINGS, ago(days=30)),
        Dated("30 days + 1 s", Category.RECORDINGS, ago(days=30, seconds=1)),
        Dated("a year", Category.RECORDINGS, ago(days=365)),
        Dated("live: never ended", Category.RECORDINGS, None),
    ]
    assert [d.key for d in due(NOW, POLICY, sessions)] == ["30 days + 1 s", "a year"]


def test_each_category_has_its_own_window_and_none_keeps_everything() -> None:
    old = ago(days=100)
    items = [Dated(c.value, c, old) for c in Category]
    assert [d.key for d in due(NOW, POLICY, items)] == ["recordings", "transcripts", "messages"]
    assert due(NOW, RetentionPolicy(), items) == []
    assert RetentionPolicy().keeps_everything and not POLICY.keeps_everything


def test_the_clock_moving_on_makes_kept_data_due() -> None:
    ended = Dated(1, Category.MESSAGES, ago(days=6))
    assert due(NOW, POLICY, [ended]) == []
    assert due(NOW + timedelta(days=1), POLICY, [ended]) == []  # exactly 7 days: kept
    assert due(NOW + timedelta(days=1, seconds=1), POLICY, [ended]) == [ended]


def test_the_sql_cutoff_is_the_same_rule_as_the_decision() -> None:
    cutoff = POLICY.cutoff(Category.RECORDINGS, NOW)
    assert cutoff == ago(days=30)
    for at in (ago(days=30), ago(days=30, seconds=1), ago(days=29, hours=23)):
        assert (at < cutoff) is expired(NOW, at, 30)
    assert POLICY.cutoff(Category.SCORES, NOW) is None


def test_a_policy_is_read_from_the_settings_row_and_no_row_keeps_everything() -> None:
    row = SimpleNamespace(recordings_days=30, transcripts_days=None, scores_days=365, messages_days=14)
    policy = RetentionPolicy.from_row(row)
    assert policy.as_dict() == {"recordings": 30, "transcripts": None, "scores": 365, "messages": 14}
    assert RetentionPolicy.from_row(None) == RetentionPolicy()


def test_a_window_outside_one_day_to_ten_years_is_refused() -> None:
    with pytest.raises(ValueError, match="recordings: 0 days"):
        RetentionPolicy(recordings_days=0)
    with pytest.raises(ValueError, match="3651"):
        RetentionPolicy(messages_days=3651)


@pytest.mark.parametrize(
    ("raw", "days", "refused"),
    [
        ("", None, False),
        ("  ", None, False),
        ("1", 1, False),
        ("3650", 3650, False),
        (" 30 ", 30, False),
        ("0", None, True),
        ("3651", None, True),
        ("-5", None, True),
        ("2.5", None, True),
        ("ten", None, True),
    ],
)
def test_the_form_accepts_blank_or_whole_days_from_1_to_3650(
    raw: str, days: int | None, refused: bool
) -> None:
    value, error = parse_days(raw, "Recordings")
    assert value == days
    assert bool(error) is refused
    if refused:
        assert "Recordings: a whole number of days from 1 to 3650" in error


def test_a_form_with_one_bad_field_gives_no_policy_and_names_the_field() -> None:
    fields = {"recordings_days": "30", "transcripts_days": "abc", "scores_days": "", "messages_days": "7"}
    policy, errors = parse_policy(fields)
    assert policy is None and list(errors) == ["transcripts_days"]
    fields["transcripts_days"] = "90"
    policy, errors = parse_policy(fields)
    assert errors == {} and policy == RetentionPolicy(30, 90, None, 7)


def test_marks_note_what_was_removed_and_keep_the_rest_of_the_record() -> None:
    record = {"asr_model": "tiny.en"}
    marked = with_mark(record, RECORDING, NOW)
    marked = with_mark(marked, TRANSCRIPT, NOW + timedelta(hours=1))
    assert record == {"asr_model": "tiny.en"}  # not changed in place
    assert marked["asr_model"] == "tiny.en"
    assert marked[MARK] == {
        "recording": NOW.isoformat(),
        "transcript": (NOW + timedelta(hours=1)).isoformat(),
    }
    assert has_mark(marked, RECORDING) and not has_mark(record, RECORDING) and not has_mark(None, RECORDING)


def test_a_sweep_report_holds_counts_only() -> None:
    report = SweepReport(NOW, POLICY.as_dict(), {"recordings": {"sessions": 2, "files": 5, "bytes": 9000}})
    assert report.total == 7  # bytes are not items
    assert report.detail() == {
        "job": "retention",
        "windows": {"recordings": 30, "transcripts": 90, "scores": None, "messages": 7},
        "removed": {"recordings": {"sessions": 2, "files": 5, "bytes": 9000}},
        "total": 7,
        "errors": [],
    }
