"""Settings > Outreach: the company's guardrails and how the email and SMS providers are doing.

Everyone signed in sees the page; admins change it. Saving stores the guardrails in
`outreach_settings` (`outreach.settings_store`), which win over `MILO_OUTREACH_ENABLED` and the
defaults; the worker picks them up within one tick. Every change is audited with what it was
before. The providers' setup is shown without secrets (never the SMTP password or the Twilio
token; the account SID masked), next to the last week's retries and failures from the message log.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import timedelta
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from milo_voice.outreach.compose import rules_from
from milo_voice.outreach.email_channel import SmtpConfig
from milo_voice.outreach.guardrails import Rules
from milo_voice.outreach.provider_health import ProviderHealth
from milo_voice.outreach.settings_store import OutreachSettingsStore
from milo_voice.outreach.sms_channel import SmsConfig
from milo_voice.settings import Settings
from milo_voice.store.tables import UserRole
from milo_voice.web.repos import repo
from milo_voice.web.workspace.auth import page, who
from milo_voice.web.workspace.render import render
from milo_voice.web.workspace.services import workspace

PATH = "/app/settings/outreach"
NUMBERS = {
    "window_start": ("Send from (hour, the candidate's local time)", 0, 23),
    "window_end": ("Send until (hour, the candidate's local time)", 1, 24),
    "daily_cap": ("Messages per candidate per day", 1, 20),
    "max_reminders": ("Reminders per candidate", 0, 10),
    "sms_gap_minutes": ("Minutes between two texts", 0, 24 * 60),
    "nudge_gap_hours": ("Hours between two nudges", 0, 24 * 14),
}


@dataclass(frozen=True, slots=True)
class RulesForm:
    """The form as typed (strings), so a refused form shows what was entered."""

    communications_off: bool
    weekends: bool
    window_start: str
    window_end: str
    daily_cap: str
    max_reminders: str
    sms_gap_minutes: str
    nudge_gap_hours: str

    @classmethod
    def of(cls, rules: Rules) -> RulesForm:
        sms_gap = int(rules.sms_gap.total_seconds() // 60)
        nudge_gap = int(rules.nudge_gap.total_seconds() // 3600)
        return cls(not rules.enabled, rules.weekends, str(rules.window_start), str(rules.window_end),
                   str(rules.daily_cap), str(rules.max_reminders), str(sms_gap), str(nudge_gap))

    @classmethod
    def posted(cls, form: FormData) -> RulesForm:
        text = {name: str(form.get(name, "")).strip() for name in NUMBERS}
        return cls(form.get("communications_off") == "on", form.get("weekends") == "on", **text)

    def parse(self, defaults: Rules) -> tuple[Rules | None, dict[str, str]]:
        """The rules, or the errors by field (nothing is saved unless every field holds)."""
        errors: dict[str, str] = {}
        values: dict[str, int] = {}
        for name, (label, low, high) in NUMBERS.items():
            raw = getattr(self, name)
            if not raw.isdigit() or not low <= int(raw) <= high:
                errors[name] = f"{label}: a whole number from {low} to {high}"
            else:
                values[name] = int(raw)
        if not errors and values["window_end"] <= values["window_start"]:
            errors["window_end"] = "The window must end after it starts (one over midnight is not supported)"
        if errors:
            return None, errors
        return replace(defaults, enabled=not self.communications_off, weekends=self.weekends,
                       window_start=values["window_start"], window_end=values["window_end"],
                       daily_cap=values["daily_cap"], max_reminders=values["max_reminders"],
                       sms_gap=timedelta(minutes=values["sms_gap_minutes"]),
                       nudge_gap=timedelta(hours=values["nudge_gap_hours"])), {}


def providers(settings: Settings) -> dict[str, Any]:
    """What the page says about the channels' setup (never a secret): configured exactly when
    `serve` would build the channel (`SmtpConfig`/`SmsConfig.from_settings`)."""
    sid, smtp = settings.twilio_account_sid, SmtpConfig.from_settings(settings)
    base = settings.base_url.rstrip("/")
    return {
        "email": smtp is not None,
        "smtp": f"{smtp.host}:{smtp.port_used} ({smtp.security})" if smtp else "",
        "smtp_from": settings.smtp_from, "smtp_user": settings.smtp_user,
        "sms": SmsConfig.from_settings(settings) is not None,
        "sms_from": settings.sms_from or f"messaging service {settings.sms_messaging_service_sid}",
        "account": f"{sid[:4]}…{sid[-4:]}" if len(sid) > 8 else ("set" if sid else "not set"),
        "inbound_url": f"{base}/sms/inbound", "status_url": f"{base}/sms/status",
        "zone": settings.company_time_zone,
    }


async def _page(request: Request, form: RulesForm | None = None, errors: dict[str, str] | None = None,
                status: int = 200, notice: str = "") -> Response:
    settings = workspace(request).settings
    store, health = repo(request, OutreachSettingsStore), repo(request, ProviderHealth)
    rules = await run_in_threadpool(store.rules, rules_from(settings))
    if not notice and request.query_params.get("saved"):
        notice = "Saved. The outreach worker applies it within seconds."
    return render(request, "outreach_settings.html", {
        "form": form or RulesForm.of(rules), "errors": errors or {}, "numbers": NUMBERS,
        "providers": providers(settings), "summary": await run_in_threadpool(health.summary),
        "problems": await run_in_threadpool(health.problems),
        "saved": await run_in_threadpool(store.saved_rules), "notice": notice,
    }, status)


@page()
async def show(request: Request) -> Response:
    return await _page(request)


@page(UserRole.ADMIN)
async def save(request: Request) -> Response:
    ws, me = workspace(request), who(request)
    form = RulesForm.posted(await request.form())
    store = repo(request, OutreachSettingsStore)
    before = await run_in_threadpool(store.rules, rules_from(ws.settings))
    rules, errors = form.parse(before)
    if rules is None:
        return await _page(request, form, errors, 400)
    await run_in_threadpool(lambda: store.save_rules(rules, user_id=me.user_id))
    await run_in_threadpool(ws.audit.record, me, "update", "outreach_settings", 1,
                            before=_plain(before), after=_plain(rules))
    return RedirectResponse(f"{PATH}?saved=1", status_code=303)


def _plain(rules: Rules) -> dict[str, Any]:
    out = asdict(rules)
    out["sms_gap"], out["nudge_gap"] = str(rules.sms_gap), str(rules.nudge_gap)
    return out


def routes() -> list[BaseRoute]:
    return [Route("/settings/outreach", show, methods=["GET"]),
            Route("/settings/outreach", save, methods=["POST"])]
