"""A dispatcher process for test_crash_safety.py: settle stranded hand-overs, then send every due
message through the real SMTP and Twilio SMS channels (on loopback) until none is left.

Usage: crash_worker.py DB_URL SMTP_PORT TWILIO_URL ACCOUNT_SID AUTH_TOKEN
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from milo_voice.outreach.dispatch import dispatch_due, recover
from milo_voice.outreach.email_channel import EmailChannel, Security, SmtpConfig
from milo_voice.outreach.outbox import Outbox
from milo_voice.outreach.sms_channel import SmsChannel, SmsConfig
from milo_voice.outreach.types import Channel, ChannelName, Decision, Verdict
from milo_voice.settings import Secret
from milo_voice.store.db import create_engine
from milo_voice.store.tables import OutreachMessage


def send(message: OutreachMessage, history: list[OutreachMessage], now: datetime) -> Verdict:
    return Verdict(Decision.SEND, "crash test: every reminder is due and allowed")


def main(db_url: str, smtp_port: str, twilio_url: str, account: str, token: str) -> int:
    outbox = Outbox(create_engine(db_url))
    channels: dict[ChannelName, Channel] = {
        ChannelName.EMAIL: EmailChannel(SmtpConfig(host="127.0.0.1", port=int(smtp_port),
                                                   security=Security.NONE, from_address="jobs@acme.test")),
        ChannelName.SMS: SmsChannel(SmsConfig(account_sid=account, auth_token=Secret(token),
                                              from_number="+15005550006", api_url=twilio_url)),
    }
    print("recovered", recover(outbox, channels), flush=True)
    while True:
        done = dispatch_due(outbox, send, channels, now=datetime.now(UTC), limit=20)
        if done.sent + done.retried + done.failed + done.skipped == 0:
            return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:6]))
