"""Recruiters' templates: per interview (every version of a slug), per message kind and channel, with
A/B variants. The one writer of `outreach_template`.

With no saved template the built-in default is used (variant "default"). With one or more saved
variants, each candidate gets one of them, chosen by their id (`candidate_id % n` over the variants
in name order), so a candidate keeps the same variant letter across reminders and a split is even
and reproducible. A template is checked (`templates.check`) before it is stored: an unknown
variable or a missing `{link}` is refused with the reason.
"""

from __future__ import annotations

import re

from sqlmodel import Session, col, select

from milo_voice.outreach.templates import DEFAULTS, Template, check
from milo_voice.outreach.types import ChannelName, MessageKind
from milo_voice.store.repo import Invalid, Repo
from milo_voice.store.tables import OutreachTemplate

VARIANT = re.compile(r"^[A-Z]$")
"""Variant names are single capital letters: A, B, C ..."""
MAX_VARIANTS = 4
MAX_SUBJECT, MAX_BODY = 200, 5000
SMS_MAX_BODY = 640
"""Four SMS segments: longer texts are refused (a reminder that costs four segments is too long)."""


Saved = dict[tuple[str, str, str], list[Template]]
"""Saved variants by (slug, kind, channel), each list in variant order."""


def pick(saved: Saved, slug: str, kind: MessageKind, channel: ChannelName, candidate_id: int) -> Template:
    """The variant a candidate gets: `candidate_id % n` over the saved variants, else the default."""
    found = saved.get((slug, kind.value, channel.value)) or [DEFAULTS[(kind, channel)]]
    return found[candidate_id % len(found)]


def _template(row: OutreachTemplate) -> Template:
    return Template(MessageKind(row.kind), ChannelName(row.channel), row.body, row.subject, row.variant)


class TemplateStore(Repo):
    def variants(self, slug: str, kind: MessageKind, channel: ChannelName) -> list[Template]:
        """The variants in use, in name order: the saved ones, else the default alone."""
        with self.unit() as session:
            rows = _rows(session, slug, kind, channel)
        return [_template(r) for r in rows] or [DEFAULTS[(kind, channel)]]

    def saved(self, slug: str) -> list[Template]:
        """Every saved variant of `slug`, by kind, channel and variant."""
        with self.unit() as session:
            rows = session.exec(select(OutreachTemplate).where(OutreachTemplate.interview_slug == slug)
                                .order_by(col(OutreachTemplate.kind), col(OutreachTemplate.channel),
                                          col(OutreachTemplate.variant))).all()
        return [_template(r) for r in rows]

    def choose(self, slug: str, kind: MessageKind, channel: ChannelName, candidate_id: int) -> Template:
        """The variant this candidate gets."""
        return pick({(slug, kind.value, channel.value): self.variants(slug, kind, channel)}, slug, kind,
                    channel, candidate_id)

    def all_saved(self) -> Saved:
        """Every saved variant, grouped for `pick` (the planner loads them once a round)."""
        grouped: Saved = {}
        with self.unit() as session:
            rows = session.exec(select(OutreachTemplate).order_by(col(OutreachTemplate.variant))).all()
        for row in rows:
            grouped.setdefault((row.interview_slug, row.kind, row.channel), []).append(_template(row))
        return grouped

    def save(self, slug: str, template: Template, *, user_id: int | None = None) -> Template:
        """Store (or replace) one variant; a bad template raises `Invalid` with the reason."""
        variant = template.variant if template.variant != "default" else "A"
        if not VARIANT.match(variant):
            raise Invalid(f"variant {variant!r}: name variants A, B, C or D")
        if len(template.subject) > MAX_SUBJECT or len(template.body) > MAX_BODY:
            raise Invalid(f"the subject is limited to {MAX_SUBJECT} characters and the text to {MAX_BODY}")
        if template.channel is ChannelName.SMS and len(template.body) > SMS_MAX_BODY:
            raise Invalid(f"an SMS template is limited to {SMS_MAX_BODY} characters (four segments)")
        if template.channel is ChannelName.EMAIL and not template.subject.strip():
            raise Invalid("an email needs a subject")
        if not template.body.strip():
            raise Invalid("the template is empty")
        stored = Template(template.kind, template.channel, template.body.strip(), template.subject.strip(),
                          variant)
        try:
            check(stored)
        except ValueError as exc:
            raise Invalid(str(exc)) from exc
        with self.unit() as session:
            rows = _rows(session, slug, template.kind, template.channel)
            row = next((r for r in rows if r.variant == variant), None)
            if row is None:
                if len(rows) >= MAX_VARIANTS:
                    raise Invalid(f"at most {MAX_VARIANTS} variants of a template")
                row = OutreachTemplate(interview_slug=slug, kind=template.kind.value,
                                       channel=template.channel.value, variant=variant)
            row.subject, row.body, row.updated_by, row.updated_at = (
                stored.subject, stored.body, user_id, self.now())
            session.add(row)
        return stored

    def delete(self, slug: str, kind: MessageKind, channel: ChannelName, variant: str) -> bool:
        """Remove one variant (the last one removed brings the default back); False if there was none."""
        with self.unit() as session:
            row = next((r for r in _rows(session, slug, kind, channel) if r.variant == variant), None)
            if row is None:
                return False
            session.delete(row)
            return True


def _rows(session: Session, slug: str, kind: MessageKind, channel: ChannelName) -> list[OutreachTemplate]:
    return list(session.exec(
        select(OutreachTemplate).where(OutreachTemplate.interview_slug == slug)
        .where(OutreachTemplate.kind == kind.value).where(OutreachTemplate.channel == channel.value)
        .order_by(col(OutreachTemplate.variant))))
