"""Crash safety (issue 16): a dispatcher process is SIGKILLed in the middle of a batch of 200 due
reminders (100 by email to a real SMTP server, aiosmtpd, and 100 by SMS to the loopback Twilio),
then started again. Every reminder arrives; an SMS exactly once (the restart asks Twilio's message
list about the hand-over that was under way); an email at least once and at most the one that
was in flight twice, with the same Message-ID (plain SMTP cannot be asked: docs/outreach.md)."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fakes.smtp_server import FakeSmtpServer
from fakes.twilio_rest import FakeTwilioRest

from milo_voice.outreach.outbox import Outbox
from milo_voice.outreach.types import ChannelName, MessageKind
from milo_voice.store.db import create_engine, migrate
from milo_voice.store.tables import MessageStatus
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.demo import Demo

WORKER = Path(__file__).with_name("crash_worker.py")
ACCOUNT, TOKEN = "AC" + "0" * 32, "auth-token"
PER_CHANNEL = 100


def seed(url: str) -> dict[int, ChannelName]:
    """200 candidates, each with one reminder due now: message id -> channel."""
    engine = create_engine(url)
    interview_id, _ = Demo(engine).seed()
    outbox, now, made = Outbox(engine), datetime.now(UTC), {}
    for i in range(2 * PER_CHANNEL):
        channel = ChannelName.EMAIL if i % 2 == 0 else ChannelName.SMS
        c = Candidates(engine).enrol(interview_id=interview_id, name=f"Candidate {i}",
                                     email=f"c{i}@example.com", phone=f"+1415555{i:04d}")
        mid = outbox.schedule(
            candidate_id=c.id or 0, kind=MessageKind.REMINDER_NOT_STARTED, channel=channel,
            dedupe_key=f"reminder:{channel}:{c.id}", recipient=c.email if channel is ChannelName.EMAIL
            else c.phone, subject="Reminder", body_text=f"Hi {i}, your link: https://jobs.test/i/{c.token}",
            due_at=now)
        assert mid is not None
        made[mid] = channel
    engine.dispose()
    return made


def start(url: str, smtp: FakeSmtpServer, twilio: FakeTwilioRest) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    args = [url, str(smtp.port), twilio.base_url, ACCOUNT, TOKEN]
    return subprocess.Popen([sys.executable, str(WORKER), *args], env=env)


@pytest.mark.e2e
def test_a_dispatcher_killed_mid_batch_loses_nothing_and_repeats_at_most_the_email_in_flight(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'milo.db'}"
    migrate(url)
    made = seed(url)
    twilio = FakeTwilioRest(ACCOUNT, TOKEN)
    twilio.delay = 0.01  # an answer takes a moment, as Twilio's does: kills land inside hand-overs too
    with FakeSmtpServer() as smtp, twilio:
        first = start(url, smtp, twilio)
        try:
            deadline = time.monotonic() + 60
            while len(smtp.received) + len(twilio.messages) < 60:
                assert first.poll() is None, "the worker finished before it could be killed"
                assert time.monotonic() < deadline
                time.sleep(0.005)
            os.kill(first.pid, signal.SIGKILL)
        finally:
            first.wait(timeout=10)
        at_kill = len(smtp.received) + len(twilio.messages)
        assert at_kill < 2 * PER_CHANNEL, "killed mid-batch"
        second = start(url, smtp, twilio)
        assert second.wait(timeout=120) == 0

    emails = collections.Counter(r.email["Message-ID"] for r in smtp.received)
    texts = collections.Counter(m["body"] for m in twilio.messages)
    assert len(emails) == PER_CHANNEL and len(texts) == PER_CHANNEL  # none lost
    assert max(texts.values()) == 1  # no SMS twice
    assert sum(emails.values()) - len(emails) <= 1  # at most the one email in flight, same Message-ID
    rows = [Outbox(create_engine(url)).get(mid) for mid in made]
    assert {r.status for r in rows} == {MessageStatus.SENT.value}
    references = {f"milo-{mid}" for mid, channel in made.items() if channel is ChannelName.EMAIL}
    assert {mid.split(".")[0].strip("<") for mid in emails} == references
