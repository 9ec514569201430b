"""The outreach bench (bench/outreach_bench.py) at a small size: 200 candidates planned and dispatched
against the loopback SMTP server and Twilio, every planned message received exactly once, and the
JSON carrying the figures the bench reports (plan time, messages per second by channel, memory)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "outreach_bench.py"
CANDIDATES = 200


def load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("outreach_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


@pytest.mark.e2e
def test_the_bench_sends_every_planned_message_exactly_once_and_reports_its_figures(tmp_path: Path) -> None:
    out = tmp_path / "outreach.json"
    assert load_bench().main(["--candidates", str(CANDIDATES), "--runs", "1", "--json", str(out)]) == 0

    result = json.loads(out.read_text())
    assert result["exactly_once"] is True
    assert {"cpu_count", "platform", "python"} <= set(result["machine"])
    [run] = result["runs"]
    figures, check = run["figures"], run["exactly_once"]
    assert figures["planned"] == 2 * CANDIDATES == figures["sent"]  # an email and an SMS each, all sent
    assert run["verdicts"]["sent"] == 2 * CANDIDATES and figures["replanned"] == 0
    for channel in ("email", "sms"):
        assert check[channel]["received"] == check[channel]["recorded_sent"] == CANDIDATES
        assert check[channel]["lost_count"] == check[channel]["duplicated_count"] == 0
        assert check[channel]["unrecorded_count"] == 0
    assert result["traced_run"]["exactly_once"]["ok"] is True
    reported = {"plan_s", "plan_candidates_per_s", "dispatch_s", "msgs_per_s", "email_msgs_per_s",
                "sms_msgs_per_s", "email_send_ms", "sms_send_ms", "replan_s", "rss_peak_mib",
                "plan_peak_rss_mib", "dispatch_peak_rss_mib", "plan_tracemalloc_peak_mib",
                "dispatch_tracemalloc_peak_mib"}
    assert reported <= set(result["median"])
    linux_only = {"plan_peak_rss_mib", "dispatch_peak_rss_mib"}  # VmHWM, reset through /proc
    for key in reported:
        value = result["median"][key]
        assert (value is None and key in linux_only) or (isinstance(value, int | float) and value > 0), key


def test_the_bench_calls_a_lost_a_duplicated_and_an_unrecorded_message_what_they_are() -> None:
    check = load_bench().exactly_once(
        {"email": ["<milo-1.a@x>", "<milo-2.b@x>"], "sms": ["SM1", "SM2"]},
        {"emails": [["<milo-1.a@x>", "a@x"], ["<milo-1.a@x>", "a@x"]],
         "texts": [["SM1", "+12122000000", "hi"], ["SM2", "+12122000001", "yo"],
                   ["SM3", "+12122000001", "yo"]]})
    assert check["ok"] is False
    assert (check["email"]["lost_count"], check["email"]["duplicated_count"]) == (1, 1)
    assert (check["sms"]["unrecorded_count"], check["sms"]["duplicated_count"]) == (1, 1)
