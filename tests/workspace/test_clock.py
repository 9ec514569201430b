"""The profile and the report show a moment of the recording the same way (they differed by a
second: one rounded, the other cut to whole seconds)."""

from __future__ import annotations

import pytest

from milo_voice.scoring.report import clock as report_clock
from milo_voice.web.workspace.render import clock


@pytest.mark.parametrize("seconds", [0.0, 0.4, 0.6, 9.5, 59.7, 61.2, 3599.9])
def test_the_profile_and_the_report_agree_on_every_offset(seconds: float) -> None:
    assert clock(seconds) == report_clock(seconds)
    assert clock(9.6) == "0:09" and clock(None) == "-"
