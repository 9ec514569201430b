"""Message templates: the defaults, written from recruiting practice, and rendering with a fixed set
of variables. Pure.

Variables are written `{first_name}`; the set is closed (`VARIABLES`): a template that names any
other is refused when it is saved (`check`), so a typo never reaches a candidate as "{frist_name}".
Emails have a subject, a text part and an HTML part (built from the text: paragraphs, the link
made clickable, every value escaped). SMS bodies are kept short: one segment where the link
allows.
"""

from __future__ import annotations

import html
import string
from collections.abc import Mapping
from dataclasses import dataclass

from milo_voice.outreach.types import ChannelName, MessageKind

VARIABLES = ("first_name", "role", "company", "sender_name", "link", "deadline", "duration")
"""What a template may use."""


@dataclass(frozen=True, slots=True)
class Template:
    kind: MessageKind
    channel: ChannelName
    body: str
    subject: str = ""
    """Email only."""
    variant: str = "default"
    """"default" for the built-in text; a recruiter's variants are "A", "B", ..."""


@dataclass(frozen=True, slots=True)
class Message:
    subject: str
    text: str
    html: str


def _email(kind: MessageKind, subject: str, body: str) -> Template:
    return Template(kind, ChannelName.EMAIL, body, subject)


def _sms(kind: MessageKind, body: str) -> Template:
    return Template(kind, ChannelName.SMS, body)


K = MessageKind
DEFAULTS: dict[tuple[MessageKind, ChannelName], Template] = {(t.kind, t.channel): t for t in (
    _email(K.INVITATION, "Your interview for {role} at {company}",
           "Hi {first_name},\n\nThanks for your interest in the {role} role at {company}. The next step is "
           "a short interview you can take whenever it suits you, on your phone or computer. It takes "
           "about {duration}, and there are no trick questions: take your time with each answer.\n\n"
           "Start your interview: {link}\n\nPlease complete it by {deadline}.\n\n{sender_name}\n{company}"),
    _sms(K.INVITATION, "Hi {first_name}, {company} invites you to a short interview for {role} "
                       "(about {duration}). Take it any time before {deadline}: {link}"),
    _email(K.REMINDER_NOT_STARTED, "Reminder: your interview for {role}",
           "Hi {first_name},\n\nA quick reminder that your interview for {role} at {company} is waiting. "
           "It takes about {duration}, and you can do it whenever it suits you before {deadline}.\n\n"
           "Start your interview: {link}\n\n{sender_name}\n{company}"),
    _sms(K.REMINDER_NOT_STARTED, "Hi {first_name}, your {company} interview for {role} is still open "
                                 "until {deadline}: {link}"),
    _email(K.REMINDER_UNFINISHED, "You are almost there: your interview for {role}",
           "Hi {first_name},\n\nYou started your interview for {role} at {company} but did not finish it. "
           "You can pick it up here before {deadline}:\n\n{link}\n\n{sender_name}\n{company}"),
    _sms(K.REMINDER_UNFINISHED, "Hi {first_name}, you're almost done with your {company} interview. "
                                "Finish it before {deadline}: {link}"),
    _email(K.REMINDER_DEADLINE, "Last day for your interview for {role}",
           "Hi {first_name},\n\nYour interview for {role} at {company} closes on {deadline}. It takes "
           "about {duration}.\n\nStart your interview: {link}\n\n{sender_name}\n{company}"),
    _sms(K.REMINDER_DEADLINE, "Hi {first_name}, your {company} interview closes {deadline}: {link}"),
    _email(K.NUDGE, "A note about your interview for {role}",
           "Hi {first_name},\n\nWe'd love to hear from you: your interview for {role} at {company} is "
           "open until {deadline}.\n\n{link}\n\n{sender_name}\n{company}"),
    _sms(K.NUDGE, "Hi {first_name}, {sender_name} from {company} here: your interview is open "
                  "until {deadline}: {link}"),
)}


class TemplateError(ValueError):
    """A template names a variable that does not exist, or does not parse."""


def fields(text: str) -> list[str]:
    """The variables `text` names, in order (a `TemplateError` if it does not parse)."""
    try:
        parsed = [(name, spec, conversion) for _, name, spec, conversion in string.Formatter().parse(text)
                  if name is not None]
    except ValueError as exc:
        raise TemplateError(
            f"the template does not parse: {exc} (write a literal brace as {{{{ or }}}})") from exc
    for name, spec, conversion in parsed:
        if spec or conversion:  # "{link:>999999999}" would render a gigabyte for every candidate
            written = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            raise TemplateError(f"write variables plainly, as {{{name}}}: formatting such as "
                                f"{{{written}}} is not allowed")
    return [name for name, _, _ in parsed]


def check(template: Template) -> None:
    """Refuse a template that names an unknown variable, or misses the link."""
    names = fields(template.subject) + fields(template.body)
    unknown = sorted({n for n in names if n not in VARIABLES})
    if unknown:
        raise TemplateError(f"unknown variable {', '.join('{' + n + '}' for n in unknown)}; "
                            f"use {', '.join('{' + v + '}' for v in VARIABLES)}")
    if "link" not in names:
        raise TemplateError("the template has no {link}: the candidate could not start the interview")


def render(template: Template, values: Mapping[str, str]) -> Message:
    """The message for one candidate (every variable must have a value; missing ones render empty)."""
    check(template)
    safe = {name: str(values.get(name, "")) for name in VARIABLES}
    text = template.body.format(**safe)
    subject = template.subject.format(**safe)
    return Message(subject, text, _html(template.body, safe) if template.channel is ChannelName.EMAIL else "")


def _html(body: str, values: Mapping[str, str]) -> str:
    """The HTML part: the body's paragraphs, every value escaped, the link clickable."""
    escaped = {k: html.escape(v) for k, v in values.items()}
    link = html.escape(values["link"], quote=True)
    escaped["link"] = f'<a href="{link}">{link}</a>'
    paragraphs = (html.escape(p, quote=False).replace("\n", "<br>") for p in body.split("\n\n"))
    return "<!doctype html><html><body>" + "".join(f"<p>{p}</p>" for p in paragraphs).format(**escaped) + \
        "</body></html>"


def first_name(name: str) -> str:
    parts = name.split()
    return parts[0] if parts else "there"
