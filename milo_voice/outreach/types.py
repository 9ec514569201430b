"""The shapes outreach passes between its parts: a rendered message, a channel's receipt, and the
policy's verdict. Plain data; no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class ChannelName(StrEnum):
    EMAIL = "email"
    SMS = "sms"


class MessageKind(StrEnum):
    INVITATION = "invitation"
    REMINDER_NOT_STARTED = "reminder_not_started"
    """24 h and 48 h after the invitation, for a candidate who has not started."""
    REMINDER_UNFINISHED = "reminder_unfinished"
    """Started but not finished."""
    REMINDER_DEADLINE = "reminder_deadline"
    """24 h before the deadline."""
    NUDGE = "nudge"
    """Sent by a recruiter, by hand."""
    SMS_INTERVIEW = "sms_interview"
    """A message of an SMS interview stage (a question, a follow-up, its reminder): a conversation the
    candidate is in, so the daily cap and the one-SMS-an-hour gap do not apply; quiet hours and
    opt-outs do."""

    @property
    def is_reminder(self) -> bool:
        return self.value.startswith("reminder_")


@dataclass(frozen=True, slots=True)
class Rendered:
    """One message as it will be sent."""

    channel: ChannelName
    recipient: str
    """An email address, or an E.164 phone number."""
    body_text: str
    subject: str = ""
    """Email only."""
    body_html: str = ""
    """Email only."""
    unsubscribe_url: str = ""
    """Email: the one-click unsubscribe link (also in the List-Unsubscribe header)."""
    status_callback_url: str = ""
    """SMS: where the provider reports delivery states."""
    reference: str = ""
    """Our id for the message (the outbox row), carried to the provider where it can be."""


@dataclass(frozen=True, slots=True)
class Receipt:
    """What a provider said when it took a message."""

    provider_id: str
    status: str = "sent"
    """The provider's first state ("queued", "accepted", "sent")."""


class Channel(Protocol):
    """Sends one rendered message; raises `errors.EngineUnavailable` when the provider is down or
    refused it (retryable says whether trying again may help)."""

    name: ChannelName

    def send(self, message: Rendered) -> Receipt: ...


class Decision(StrEnum):
    SEND = "send"
    DEFER = "defer"
    SUPPRESS = "suppress"


@dataclass(frozen=True, slots=True)
class Verdict:
    """The policy's answer for one message: send now, defer until `until`, or suppress, with the
    reason (logged with every send)."""

    decision: Decision
    reason: str
    until: datetime | None = None
    details: dict[str, str] = field(default_factory=dict)
