"""Telling the recruiters that a candidate needs a person: one short email to each, over the email
channel, outside the candidate outbox (recruiters are not candidates: no guardrails, no opt-out).

Best effort by design: the flag itself is stored first and the "Needs a person" queue lists the
candidate whether or not the email went out. A provider failure is logged (`outreach.alert_failed`)
and never raised to the caller, so a dead SMTP server cannot lose an inbound SMS or a session's
end. Without an email channel nothing is sent and the queue is the only signal.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from milo_voice.errors import EngineUnavailable
from milo_voice.outreach.types import Channel, ChannelName, Rendered

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Alert:
    candidate_id: int
    candidate_name: str
    interview: str
    reason: str
    url: str
    """The candidate's profile."""


def compose(alert: Alert, recipient: str) -> Rendered:
    body = (f"{alert.candidate_name} ({alert.interview}) needs a person.\n\n{alert.reason}\n\n"
            f"Automatic messages to them are paused until someone resumes them on their profile:\n"
            f"{alert.url}\n")
    return Rendered(channel=ChannelName.EMAIL, recipient=recipient, body_text=body,
                    subject=f"Needs a person: {alert.candidate_name} ({alert.interview})")


def send_alerts(channel: Channel | None, recipients: Sequence[str], alert: Alert) -> int:
    """Email each recipient; returns how many emails the server took."""
    if channel is None:
        log.info("outreach.alert_skipped",
                 extra={"candidate_id": alert.candidate_id, "why": "no email channel"})
        return 0
    sent = 0
    for recipient in recipients:
        try:
            channel.send(compose(alert, recipient))
            sent += 1
        except EngineUnavailable as exc:
            log.warning("outreach.alert_failed",
                        extra={"candidate_id": alert.candidate_id, "error": str(exc)})
    log.info("outreach.alert_sent", extra={"candidate_id": alert.candidate_id, "emails": sent})
    return sent
