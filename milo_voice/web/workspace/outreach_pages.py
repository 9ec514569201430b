"""One interview's outreach (`/app/interviews/{slug}/outreach`): its settings (deadline, SMS
invitations, reminders), every message kind and channel with its template variants and how each
did, and the template editor with a live preview on a sample candidate.

Everyone signed in sees the pages (and may preview); only admins save settings or templates.
Templates and settings are keyed by the slug: every version of the interview shares them. The
preview renders with the same code as the planner (`outreach.templates.render`) over the variables
the planner would give "Jordan" (`sample_values`: the interview's role, a sample link, a deadline);
the email's HTML part is shown in a sandboxed iframe (`srcdoc`, escaped by the page's autoescape).
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from milo_voice.outreach import planner, templates
from milo_voice.outreach.settings_store import MAX_DEADLINE_DAYS, InterviewSettings, OutreachSettingsStore
from milo_voice.outreach.template_store import MAX_VARIANTS, TemplateStore
from milo_voice.outreach.templates import DEFAULTS, VARIABLES, Template
from milo_voice.outreach.types import ChannelName, MessageKind
from milo_voice.settings import Settings
from milo_voice.store.repo import Invalid, NotFound
from milo_voice.store.tables import Interview, UserRole
from milo_voice.web.repos import repo
from milo_voice.web.workspace.auth import page, who
from milo_voice.web.workspace.render import render
from milo_voice.web.workspace.services import workspace
from milo_voice.workspace.variant_stats import DEFAULT, VariantRates, VariantStats

KINDS = {
    MessageKind.INVITATION: "Invitation",
    MessageKind.REMINDER_NOT_STARTED: "Reminder: not started (24 h and 48 h)",
    MessageKind.REMINDER_UNFINISHED: "Reminder: started, not finished",
    MessageKind.REMINDER_DEADLINE: "Reminder: the deadline is tomorrow",
    MessageKind.NUDGE: "Nudge (sent by a recruiter)",
}
CHANNELS = {ChannelName.EMAIL: "Email", ChannelName.SMS: "SMS"}
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[:MAX_VARIANTS]
"""The variant names the editor offers: A to D."""
SMS_CHOICES = {"default": None, "on": True, "off": False}
REMINDERS = ("remind_not_started", "remind_unfinished", "remind_deadline")
SAMPLE_NAME, SAMPLE_TOKEN = "Jordan Sample", "sample-link"


def _base(slug: str) -> str:
    return f"/app/interviews/{slug}/outreach"


# -- the settings form ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SettingsForm:
    """The settings as the form shows them (what was typed, when it failed)."""

    deadline_days: str = "7"
    sms: str = "default"
    remind_not_started: bool = True
    remind_unfinished: bool = True
    remind_deadline: bool = True

    @classmethod
    def of(cls, saved: InterviewSettings) -> SettingsForm:
        sms = next(name for name, value in SMS_CHOICES.items() if value is saved.sms_invitations)
        return cls(str(saved.deadline_days), sms, saved.remind_not_started, saved.remind_unfinished,
                   saved.remind_deadline)

    @classmethod
    def posted(cls, form: FormData) -> SettingsForm:
        ticked = [form.get(name) == "on" for name in REMINDERS]
        return cls(str(form.get("deadline_days", "")).strip(), str(form.get("sms_invitations", "")), *ticked)

    def parse(self) -> InterviewSettings:
        """The settings to store; `Invalid` saying what to fix."""
        if not self.deadline_days.isdigit():
            raise Invalid(f"deadline {self.deadline_days!r}: write a whole number of days from 1 to "
                          f"{MAX_DEADLINE_DAYS}")
        if self.sms not in SMS_CHOICES:
            raise Invalid("SMS invitations: choose the server default, on or off")
        return InterviewSettings(int(self.deadline_days), SMS_CHOICES[self.sms], self.remind_not_started,
                                 self.remind_unfinished, self.remind_deadline)


# -- the table of templates ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VariantRow:
    name: str
    """"default" or a letter."""
    in_use: bool
    """False: a retired variant that still has sent messages (shown for its numbers only)."""
    rates: VariantRates
    edit_url: str = ""


@dataclass(frozen=True, slots=True)
class TemplateRow:
    kind: MessageKind
    channel: ChannelName
    label: str
    variants: list[VariantRow]
    add_url: str = ""
    """The editor of the next free letter ("Add variant B"); empty when none is saved or all are."""
    add_letter: str = ""


def template_rows(slug: str, saved: list[Template], rates: dict[tuple[str, str, str], VariantRates]
                  ) -> list[TemplateRow]:
    """Every kind x channel with its variants in use (the default when none is saved), then any
    retired variant that has sent messages."""
    rows = []
    for kind, kind_label in KINDS.items():
        for channel, channel_label in CHANNELS.items():
            names = [t.variant for t in saved if t.kind is kind and t.channel is channel]
            in_use = names or [DEFAULT]
            retired = sorted(v for k, c, v in rates
                             if (k, c) == (kind.value, channel.value) and v not in in_use)
            variants = [
                VariantRow(name, name in in_use,
                           rates.get((kind.value, channel.value, name)) or VariantRates(kind, channel, name),
                           _editor_url(slug, kind, channel, "A" if name == DEFAULT else name)
                           if name in in_use else "")
                for name in in_use + retired
            ]
            free = [letter for letter in LETTERS if letter not in names]
            add = free[0] if names and free else ""
            rows.append(TemplateRow(kind, channel, f"{kind_label} · {channel_label}", variants,
                                    _editor_url(slug, kind, channel, add) if add else "", add))
    return rows


def _editor_url(slug: str, kind: MessageKind, channel: ChannelName, variant: str) -> str:
    return f"{_base(slug)}/templates/{kind.value}/{channel.value}/{variant}"


async def _outreach(request: Request, current: Interview, form: SettingsForm | None = None,
                    error: str = "", status: int = 200) -> Response:
    slug = current.slug
    settings_store = repo(request, OutreachSettingsStore)
    if form is None:
        form = SettingsForm.of(await run_in_threadpool(settings_store.interview, slug))
    saved = await run_in_threadpool(repo(request, TemplateStore).saved, slug)
    rates = await run_in_threadpool(repo(request, VariantStats).rates, slug)
    context = {
        "interview": current, "form": form, "rows": template_rows(slug, saved, rates),
        "max_deadline": MAX_DEADLINE_DAYS, "server_sms": workspace(request).settings.sms_invitations,
        "error": error, "notice": "Outreach settings saved." if request.query_params.get("saved") else "",
    }
    return render(request, "outreach_interview.html", context, status)


@page()
async def show_outreach(request: Request) -> Response:
    current = await run_in_threadpool(workspace(request).interviews.latest, request.path_params["slug"])
    return await _outreach(request, current)


@page(UserRole.ADMIN)
async def save_outreach(request: Request) -> Response:
    ws, slug = workspace(request), request.path_params["slug"]
    current = await run_in_threadpool(ws.interviews.latest, slug)
    form = SettingsForm.posted(await request.form())
    try:
        settings = form.parse()
    except Invalid as exc:
        return await _outreach(request, current, form, str(exc), 400)
    await run_in_threadpool(repo(request, OutreachSettingsStore).save_interview, slug, settings)
    await run_in_threadpool(lambda: ws.audit.record(
        who(request), "edit", "interview_outreach", slug, deadline_days=settings.deadline_days,
        sms_invitations=settings.sms_invitations, remind_not_started=settings.remind_not_started,
        remind_unfinished=settings.remind_unfinished, remind_deadline=settings.remind_deadline))
    return RedirectResponse(f"{_base(slug)}?saved=1", status_code=303)


# -- the template editor and its preview ---------------------------------------------------


def _address(request: Request) -> tuple[MessageKind, ChannelName, str]:
    """kind/channel/variant from the path (one `path` parameter: see `routes`); unknown: `NotFound`."""
    parts = str(request.path_params["kind"]).split("/")
    try:
        kind, channel, variant = parts
        address = MessageKind(kind), ChannelName(channel)
    except ValueError:
        raise NotFound(f"no template {'/'.join(parts)!r}: expected kind/channel/variant") from None
    if variant not in LETTERS:
        raise NotFound(f"variant {variant!r}: variants are named {', '.join(LETTERS)}")
    return *address, variant


def sample_values(settings: Settings, current: Interview, questions: int, ends: datetime) -> dict[str, str]:
    """The template variables for the preview's sample candidate: what `planner.values` gives a
    candidate named "Jordan Sample" whose deadline is `ends` (a test holds the two together; no
    candidate row is built here: `workspace.candidates` is the one writer of those)."""
    return {
        "first_name": templates.first_name(SAMPLE_NAME), "role": current.role or current.title,
        "company": settings.company_name, "sender_name": settings.outreach_sender,
        "link": f"{settings.base_url}/i/{SAMPLE_TOKEN}", "deadline": ends.strftime("%A %-d %B"),
        "duration": f"{max(1, questions) * planner.MINUTES_PER_QUESTION} minutes",
    }


async def _sample(request: Request, slug: str) -> tuple[Interview, dict[str, str]]:
    ws = workspace(request)
    current = await run_in_threadpool(ws.interviews.latest, slug)
    settings = await run_in_threadpool(repo(request, OutreachSettingsStore).interview, slug)
    questions = await run_in_threadpool(ws.interviews.questions, current.id or 0)
    ends = ws.interviews.now() + timedelta(days=settings.deadline_days)
    return current, sample_values(ws.settings, current, len(questions), ends)


def _formatted(text: str) -> str:
    """A field with a format spec or conversion (`{link:>999999999}`), which `str.format` would honour:
    the preview, open to every teammate, never renders one (the reason is returned instead)."""
    try:
        fields = [(name, spec, conv) for _, name, spec, conv in string.Formatter().parse(text)
                  if name is not None and (spec or conv)]
    except ValueError:
        return ""  # `templates.check` says why it does not parse
    odd = ["{" + name + ("!" + conv if conv else "") + (":" + spec if spec else "") + "}"
           for name, spec, conv in fields]
    return f"write variables plainly, without a format: {', '.join(odd)}" if odd else ""


def preview(template: Template, values: dict[str, str]) -> dict[str, str]:
    """What the sample candidate would get: subject, text and html, or the error that stops it."""
    problem = _formatted(template.subject) or _formatted(template.body)
    if problem:
        return {"error": problem}
    try:
        message = templates.render(template, values)
    except ValueError as exc:
        return {"error": str(exc)}
    return {"subject": message.subject, "text": message.text, "html": message.html}


async def _editor(request: Request, variant: str, draft: Template, *, error: str = "", status: int = 200
                  ) -> Response:
    slug = request.path_params["slug"]
    current, values = await _sample(request, slug)
    saved = await run_in_threadpool(repo(request, TemplateStore).variants, slug, draft.kind, draft.channel)
    names = [t.variant for t in saved if t.variant != DEFAULT]
    context: dict[str, Any] = {
        "interview": current, "kind": draft.kind, "channel": draft.channel, "variant": variant,
        "label": f"{KINDS[draft.kind]} · {CHANNELS[draft.channel]}", "draft": draft,
        "is_saved": variant in names, "others": [n for n in names if n != variant],
        "variables": VARIABLES, "preview": preview(draft, values), "sample": values, "error": error,
        "notice": "Saved." if request.query_params.get("saved") and not error else "",
        "back_url": _base(slug), "preview_url": f"{_base(slug)}/preview",
        "editor_url": _editor_url(slug, draft.kind, draft.channel, variant),
    }
    return render(request, "outreach_template.html", context, status)


@page()
async def show_template(request: Request) -> Response:
    kind, channel, variant = _address(request)
    stored = await run_in_threadpool(repo(request, TemplateStore).variants, request.path_params["slug"],
                                     kind, channel)
    draft = next((t for t in stored if t.variant == variant), DEFAULTS[(kind, channel)])
    return await _editor(request, variant, draft)


@page(UserRole.ADMIN)
async def change_template(request: Request) -> Response:
    """Save the variant (refused with the checker's reason, nothing stored), or delete it."""
    ws, slug = workspace(request), request.path_params["slug"]
    kind, channel, variant = _address(request)
    await run_in_threadpool(ws.interviews.latest, slug)  # an unknown slug: 404
    form, store = await request.form(), repo(request, TemplateStore)
    target = f"{slug}:{kind.value}:{channel.value}:{variant}"
    if form.get("action") == "delete":
        if await run_in_threadpool(store.delete, slug, kind, channel, variant):
            await run_in_threadpool(ws.audit.record, who(request), "delete", "outreach_template", target)
        return RedirectResponse(_base(slug), status_code=303)
    subject = str(form.get("subject", "")) if channel is ChannelName.EMAIL else ""
    draft = Template(kind, channel, str(form.get("body", "")), subject, variant)
    try:
        await run_in_threadpool(lambda: store.save(slug, draft, user_id=who(request).user_id))
    except Invalid as exc:
        return await _editor(request, variant, draft, error=str(exc), status=400)
    await run_in_threadpool(ws.audit.record, who(request), "edit", "outreach_template", target)
    return RedirectResponse(f"{_editor_url(slug, kind, channel, variant)}?saved=1", status_code=303)


@page()
async def preview_template(request: Request) -> Response:
    """The live preview: form fields kind, channel, subject, body in; JSON out (subject, text, html,
    or error with status 400)."""
    form = await request.form()
    try:
        kind, channel = MessageKind(str(form.get("kind", ""))), ChannelName(str(form.get("channel", "")))
    except ValueError:
        return JSONResponse({"error": "unknown message kind or channel"}, status_code=400)
    subject = str(form.get("subject", "")) if channel is ChannelName.EMAIL else ""
    _, values = await _sample(request, request.path_params["slug"])
    shown = preview(Template(kind, channel, str(form.get("body", "")), subject), values)
    return JSONResponse(shown, status_code=400 if "error" in shown else 200)


def routes() -> list[BaseRoute]:
    """Listed before the interview pages' `/interviews/{slug}/{action}` (POST), which would take
    `.../outreach`. The editor's kind/channel/variant are one `path` parameter, split by `_address`."""
    return [
        Route("/interviews/{slug}/outreach", show_outreach),
        Route("/interviews/{slug}/outreach", save_outreach, methods=["POST"]),
        Route("/interviews/{slug}/outreach/preview", preview_template, methods=["POST"]),
        Route("/interviews/{slug}/outreach/templates/{kind:path}", show_template),
        Route("/interviews/{slug}/outreach/templates/{kind:path}", change_template, methods=["POST"]),
    ]
