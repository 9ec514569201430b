"""Putting outreach together from the settings: the channels that are configured, the policy bound
to each candidate's contact preferences, and the worker. Used by `milo-voice serve`."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from milo_voice.outreach import guardrails
from milo_voice.outreach.contacts import Contacts
from milo_voice.outreach.dispatch import Decide
from milo_voice.outreach.email_channel import EmailChannel, SmtpConfig
from milo_voice.outreach.outbox import Outbox, rendered
from milo_voice.outreach.planner import OutreachConfig
from milo_voice.outreach.settings_store import OutreachSettingsStore
from milo_voice.outreach.sms_channel import SmsChannel, SmsConfig
from milo_voice.outreach.stranded import StrandedRule
from milo_voice.outreach.types import Channel, ChannelName, MessageKind, Rendered, Verdict
from milo_voice.outreach.worker import OutreachWorker
from milo_voice.settings import Settings
from milo_voice.store.db import DbEngine
from milo_voice.store.tables import OutreachMessage


def channels_from(settings: Settings) -> dict[ChannelName, Channel]:
    """The channels `MILO_SMTP_*` and `MILO_TWILIO_*`/`MILO_SMS_*` configure (none by default)."""
    out: dict[ChannelName, Channel] = {}
    smtp = SmtpConfig.from_settings(settings)
    if smtp is not None:
        out[ChannelName.EMAIL] = EmailChannel(smtp)
    sms = SmsConfig.from_settings(settings)
    if sms is not None:
        out[ChannelName.SMS] = SmsChannel(sms)
    return out


def rules_from(settings: Settings) -> guardrails.Rules:
    """The guardrails' defaults from the settings (the settings page's saved ones win: `live_rules`)."""
    return guardrails.Rules(enabled=settings.outreach_enabled, company_zone=settings.company_time_zone)


def live_rules(store: OutreachSettingsStore, defaults: guardrails.Rules, *, ttl: float = 5.0,
               clock: Callable[[], float] = time.monotonic) -> Callable[[], guardrails.Rules]:
    """The guardrails in force, read from the settings page's row at most every `ttl` seconds (a
    change on the page applies within one worker tick)."""
    cached: list[tuple[float, guardrails.Rules]] = []

    def rules() -> guardrails.Rules:
        if not cached or clock() - cached[0][0] >= ttl:
            cached[:] = [(clock(), store.rules(defaults))]
        return cached[0][1]

    return rules


def policy(contacts: Contacts, rules: guardrails.Rules | Callable[[], guardrails.Rules]) -> Decide:
    """The guardrails with each candidate's contact preferences, as the dispatcher calls them."""
    current = rules if callable(rules) else (lambda: rules)

    def decide(message: OutreachMessage, history: list[OutreachMessage], now: datetime) -> Verdict:
        rules = current()
        prefs = contacts.get(message.candidate_id)
        contact = guardrails.Contact(
            phone=contacts.phone_of(message.candidate_id), time_zone=prefs.time_zone,
            email_opt_out=prefs.email_opt_out, sms_opt_out=prefs.sms_opt_out, paused=prefs.paused)
        sent = [guardrails.Sent(m.sent_at or m.handed_at or m.created_at, ChannelName(m.channel),
                                MessageKind(m.kind)) for m in history if m.id != message.id]
        return guardrails.decide(MessageKind(message.kind), ChannelName(message.channel), contact, sent,
                                 now, rules)

    return decide


def worker_from(
    settings: Settings, engine: DbEngine, *, link_open: Callable[[int], bool] | None = None,
    before_plan: Callable[[datetime], object] | None = None,
    node_gone: Callable[[str], bool] = lambda name: False,
) -> OutreachWorker | None:
    """The outreach worker, or None when no channel is configured (nothing could be sent).
    `link_open` (the workspace's attempt rules) lets it remind a candidate who started to finish;
    `node_gone` (the cluster's heartbeats) lets it settle what a dead node left in flight."""
    channels = channels_from(settings)
    if not channels:
        return None
    base = settings.base_url.rstrip("/")
    contacts = Contacts(engine)

    def links(message: OutreachMessage) -> Rendered:
        token = contacts.token_of(message.candidate_id)
        return rendered(message, unsubscribe_url=f"{base}/u/{token}" if token else "",
                        status_callback_url=f"{base}/sms/status?m={message.id}")

    config = OutreachConfig(base_url=base, company=settings.company_name,
                            sender_name=settings.outreach_sender, sms_invitations=settings.sms_invitations,
                            channels=frozenset(channels), link_open=link_open)
    rules = live_rules(OutreachSettingsStore(engine), rules_from(settings))
    return OutreachWorker(Outbox(engine, node=settings.node), policy(contacts, rules), channels, config,
                          tick=settings.outreach_tick, links=links, before_plan=before_plan,
                          stranded=StrandedRule(settings.node, node_gone))
