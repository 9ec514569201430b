"""The candidate notice and the consents given to it (issue 20 item 2). The writer of `privacy_notice`
and `consent_record`.

- `Notices`: the AI-use and data notice of the workspace (one install, one workspace), versioned. The
  newest stored version is the one shown; with none stored, the built-in text (`default_text`) is
  version 0. An admin's edit adds a version (`save`); nothing is ever changed in place.
- `Consents`: a candidate agreed to a notice: `record_consent` stores which version, the SHA-256 of the
  exact text shown, when, from where (client IP or the candidate's phone number) and on which channel,
  and logs it with the reason it counts as consent (`REASONS`). A consent to a version that is no
  longer the current one is refused (`StaleNotice`), so nobody agrees to a text they did not see.
- The built-in text of version 0 is frozen into a `privacy_notice` row the first time someone agrees to
  it: a later release that rewrites the built-in text cannot change what version 0 meant.

Where each channel counts consent is in `docs/compliance.md` ("Consent and notice").
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from milo_voice.store.repo import Invalid, Repo, insert_row
from milo_voice.store.tables import AppUser, ConsentChannel, ConsentRecord, PrivacyNotice

log = logging.getLogger(__name__)

NOTICE_PATH = "/notice"
"""The public page that shows the notice (`?version=N` shows that version)."""
MAX_NOTICE_CHARS = 20_000
MAX_ADDRESS = 100
MAX_USER_AGENT = 300
REASONS: dict[ConsentChannel, str] = {
    ConsentChannel.WEB: "ticked the consent box on the interview page and started the call",
    ConsentChannel.PHONE: "stayed on the line to the end of the spoken notice",
    ConsentChannel.SMS: "replied to the first text, which links to the notice",
    ConsentChannel.FORM: "ticked 'I have read the notice' and sent the step's first answers",
}
"""What counts as consent on each channel (logged with every consent)."""

DEFAULT_NOTICE = """\
How this interview works and how your data is used

An AI conducts this interview. The interviewer is a computer program, not a person: it asks the \
hiring team's questions, listens to your answers and may ask a follow-up question. Nobody listens in \
while you take it.

The interview is recorded and transcribed. We record your voice (on the phone, the call), and your \
camera picture only if you turn your camera on. Speech recognition turns your answers into text. \
Written answers, files and text messages you send us are kept as you sent them.

Your answers are scored automatically, and a person reviews them. The software scores each answer \
against the hiring team's criteria and quotes your own words as the evidence. A recruiter reviews the \
recording, the transcript and the scores, and people make the hiring decision. Where the hiring team \
has set a must-have requirement, an answer that clearly does not meet it can end the application at \
that step: the reason and your quoted words are recorded, and the hiring team can review and reverse it.

What we keep, and for how long. Your name and contact details, the recording, the transcript, your \
answers, their scores, the messages we exchange, and a record of this notice: its version, and when, \
from where and how you agreed to it. It is kept on the hiring organisation's own server and seen only \
by its hiring team; it is not sent to an outside AI service unless the organisation has set one up. \
It is kept while the organisation needs it for this hiring decision and within its retention policy, \
and then deleted.

Your rights. You may stop at any time. You can ask for a copy of your data, for it to be corrected or \
deleted, or for an accommodation (for example more time, or a way to answer in writing instead of \
speaking): use the links on your interview page, or contact the organisation that invited you, and a \
person will answer.

You can read this notice again at any time at {notice_url}"""
"""The built-in notice (version 0); `{notice_url}` becomes the server's notice page."""

SPOKEN_NOTICE = (
    "This call is recorded and transcribed, and your interviewer is an AI. A person reviews your answers "
    "and their automatic scores. The full notice, and how to ask for your data or an accommodation, is "
    "at {site} slash notice. Staying on the line means you agree."
)
"""What a phone caller hears first: a short summary of the notice (recorded with the current version)."""
SMS_NOTICE = ("This interview is run by an AI: your replies are kept and scored, and a person reviews "
              "them. Notice: {url}. Replying means you agree.")
"""The line of the SMS interview's first text that links to the notice version it was sent with."""


class StaleNotice(Exception):
    """The candidate agreed to a notice version that is no longer the current one."""

    def __init__(self, agreed: int | None, current: int) -> None:
        super().__init__(f"notice version {agreed} agreed to, but version {current} is the current one")
        self.agreed, self.current = agreed, current


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Notice:
    """One version of the notice, as shown."""

    version: int
    text: str
    created_at: datetime | None = None
    created_by: str = ""
    """The admin's email; "" for the built-in text."""
    built_in: bool = False
    """The built-in text, not (yet) stored."""

    @property
    def sha256(self) -> str:
        return sha256_of(self.text)

    @property
    def paragraphs(self) -> list[str]:
        return [p.strip() for p in self.text.split("\n\n") if p.strip()]


def notice_url(base_url: str, version: int | None = None) -> str:
    """The public notice page (of one version, when given)."""
    url = base_url.rstrip("/") + NOTICE_PATH
    return url if version is None else f"{url}?version={version}"


def default_text(base_url: str) -> str:
    return DEFAULT_NOTICE.format(notice_url=notice_url(base_url))


def spoken_notice(base_url: str) -> str:
    """The phone's spoken summary: the site is said without its scheme ("jobs.example.com slash notice")."""
    parts = urlsplit(base_url)
    site = (parts.netloc + parts.path.rstrip("/")) or base_url
    return SPOKEN_NOTICE.format(site=site)


def sms_notice(base_url: str, version: int) -> str:
    return SMS_NOTICE.format(url=notice_url(base_url, version))


def clean_text(text: str) -> str:
    """Line endings as `\\n`, no trailing spaces on a line, no blank lines around the text."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "\n".join(lines).strip("\n")


def _as_notice(row: PrivacyNotice, email: str = "") -> Notice:
    return Notice(row.version, row.text, row.created_at, email)


def _newest(session: Session) -> PrivacyNotice | None:
    return session.exec(select(PrivacyNotice).order_by(col(PrivacyNotice.version).desc()).limit(1)).first()


def _stored(session: Session, version: int) -> PrivacyNotice | None:
    return session.exec(select(PrivacyNotice).where(PrivacyNotice.version == version)).first()


class Notices(Repo):
    """The workspace's notice, versioned. `base_url` fills the link of the built-in text."""

    def current(self, base_url: str) -> Notice:
        """The notice candidates see now: the newest stored version, else the built-in text (version 0)."""
        with self.unit() as session:
            row = _newest(session)
            return _as_notice(row) if row is not None else Notice(0, default_text(base_url), built_in=True)

    def get(self, version: int, base_url: str) -> Notice | None:
        """One version (version 0 is the built-in text until someone agreed to it); None if unknown."""
        with self.unit() as session:
            row = _stored(session, version)
        if row is not None:
            return _as_notice(row)
        return Notice(0, default_text(base_url), built_in=True) if version == 0 else None

    def history(self, base_url: str) -> list[Notice]:
        """Every version, newest first, with the email of the admin who saved it."""
        with self.unit() as session:
            rows = session.exec(
                select(PrivacyNotice, AppUser.email)
                .join(AppUser, col(AppUser.id) == col(PrivacyNotice.created_by), isouter=True)
                .order_by(col(PrivacyNotice.version).desc())
            ).all()
        found = [_as_notice(row, email or "") for row, email in rows]
        if not any(n.version == 0 for n in found):
            found.append(Notice(0, default_text(base_url), built_in=True))
        return found

    def save(self, text: str, user_id: int | None, base_url: str) -> Notice:
        """Store `text` as the next version (it is shown from now on); the same text again is refused."""
        text = clean_text(text)
        if not text.strip():
            raise Invalid("The notice cannot be empty.")
        if len(text) > MAX_NOTICE_CHARS:
            raise Invalid(f"The notice can be at most {MAX_NOTICE_CHARS:,} characters ({len(text):,} now).")
        if text == self.current(base_url).text:
            raise Invalid("This is the current notice already: change the text to save a new version.")
        try:
            with self.unit() as session:
                newest = _newest(session)
                row = PrivacyNotice(version=(newest.version + 1) if newest else 1, text=text,
                                    created_at=self.now(), created_by=user_id)
                session.add(row)
                session.flush()
                saved = _as_notice(row)
        except IntegrityError:
            raise Invalid("Someone saved the notice at the same moment: reload the page and try again.") \
                from None
        log.info("notice.saved", extra={"notice_version": saved.version, "user_id": user_id,
                                        "chars": len(text)})
        return saved


class Consents(Repo):
    """Who agreed to which notice, when, from where and on which channel."""

    def record_consent(self, candidate_id: int, channel: ConsentChannel | str, address: str, user_agent: str,
                       notice: Notice, *, reason: str = "", require_current: bool = True) -> ConsentRecord:
        """Store that the candidate agreed to `notice` (the text they were shown) and log it with `reason`
        (by default the channel's, `REASONS`). With `require_current` (every channel but SMS, whose link
        named its version) a notice that is no longer the current one raises `StaleNotice`, checked in the
        same transaction as the write."""
        channel = ConsentChannel(channel)
        for attempt in (1, 2):
            try:
                row = self._write(candidate_id, channel, address, user_agent, notice, require_current)
                break
            except IntegrityError:  # two first consents froze version 0 at once: the second sees it now
                if attempt == 2:
                    raise
        log.info("consent.recorded", extra={
            "candidate_id": candidate_id, "channel": channel.value, "notice_version": notice.version,
            "notice_sha256": notice.sha256[:12], "reason": reason or REASONS[channel]})
        return row

    def _write(self, candidate_id: int, channel: ConsentChannel, address: str, user_agent: str,
               notice: Notice, require_current: bool) -> ConsentRecord:
        with self.unit() as session:
            newest = _newest(session)
            current = newest.version if newest is not None else 0
            if require_current and notice.version != current:
                raise StaleNotice(notice.version, current)
            stored = _stored(session, notice.version)
            if stored is None:
                if notice.version != 0:
                    raise StaleNotice(notice.version, current)  # not a version that was ever shown
                session.add(PrivacyNotice(version=0, text=notice.text, created_at=self.now()))  # frozen
            elif stored.text != notice.text:
                raise StaleNotice(notice.version, current)  # not the text this version holds
            row = ConsentRecord(candidate_id=candidate_id, notice_version=notice.version,
                                notice_sha256=notice.sha256, channel=channel.value,
                                address=address[:MAX_ADDRESS], user_agent=user_agent[:MAX_USER_AGENT],
                                consented_at=self.now())
            insert_row(session, row)
            return row

    def consents_of(self, candidate_id: int) -> list[ConsentRecord]:
        """The candidate's consents, oldest first."""
        with self.unit() as session:
            rows = session.exec(
                select(ConsentRecord).where(ConsentRecord.candidate_id == candidate_id)
                .order_by(col(ConsentRecord.consented_at), col(ConsentRecord.id))
            ).all()
            return list(rows)

    def has_agreed(self, candidate_id: int, version: int | None = None) -> bool:
        """The candidate agreed to this notice version (to any version, when None)."""
        with self.unit() as session:
            query = select(ConsentRecord.id).where(ConsentRecord.candidate_id == candidate_id)
            if version is not None:
                query = query.where(ConsentRecord.notice_version == version)
            return session.exec(query.limit(1)).first() is not None
