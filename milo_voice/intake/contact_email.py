"""The candidate's own email addresses: those of the contact block, not co-authors' or referees'.

An address counts when it is printed as an address: not inside a URL (``https://user@host``, a
``/@handle``), not a social handle (``@name`` has no local part), not in a publications or
references section, and not on a line about a referee or supervisor. The first one found on the
first page that has any is the candidate's email; later pages count only when labelled
("Email: ...") or when the first page has none.
"""

from __future__ import annotations

import collections
import re
from collections.abc import Sequence
from dataclasses import dataclass

from milo_voice.intake.contact_layout import Layout, Line, about_someone_else, fold
from milo_voice.intake.contact_lexicon import EMAIL_LABEL, ORGANISATION_MAILBOXES
from milo_voice.intake.extraction_types import FieldGuess

_EMAIL = re.compile(r"(?<![A-Za-z0-9_.%+\-\u00c0-\u024f])[A-Za-z0-9][\w.%+-]*@[A-Za-z0-9-]+"
                    r"(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
"""An address; it may follow a label in a script without Latin letters with no space ("ایمیلname@...",
"邮箱name@..."), not a Latin letter (a longer local part)."""
CROWDED = 3
"""Addresses on one line that make it a list of people (authors, team) rather than a contact line."""
_AT = re.compile(r"\s*[\[(]\s*at\s*[\])]\s*", re.IGNORECASE)  # "jane [at] doe.org"
_DOT = re.compile(r"\s*[\[(]\s*dot\s*[\])]\s*", re.IGNORECASE)
_GLUED_TLD = re.compile(r"(?<=[a-z])(?=[A-Z])")


@dataclass(frozen=True)
class EmailHit:
    value: str
    line: Line
    labelled: bool


def _clean(address: str) -> str:
    local, _, domain = address.rpartition("@")
    labels = domain.split(".")
    labels[-1] = _GLUED_TLD.split(labels[-1])[0]  # "gmail.comPhone" from glued text -> "gmail.com"
    return f"{local}@{'.'.join(labels).lower()}"


def _in_url(text: str, start: int) -> bool:
    """Whether the match at `start` sits inside a URL (its token has a '/' before the address)."""
    token_start = max(text.rfind(" ", 0, start), text.rfind("\t", 0, start)) + 1
    before = text[token_start:start].lower()
    return "/" in before


def _about_someone_else(text: str, start: int) -> bool:
    """Whether the words just before the address (its part of the line) name a referee, a co-author..."""
    return about_someone_else(text, start)


def email_hits(layout: Layout) -> list[EmailHit]:
    """Every address printed as an address outside other people's sections, in document order."""
    hits = []
    header = header_words(layout)
    for line in layout.lines:
        excluded = line.index in layout.excluded
        if excluded and not (header and "@" in line.text):
            continue
        text = _AT.sub("@", _DOT.sub(".", line.text)) if "at" in line.text else line.text
        text = text.replace("İ", "I")  # Turkish capitals: "SUCABE66@GMAİL.COM" is gmail.com
        if "@" not in text:
            continue
        text = _with_wrapped_domain_end(layout, line, text)
        for match in [*_EMAIL.finditer(text), *_spaced(text)]:
            if _in_url(text, match.start()) or _about_someone_else(text, match.start()):
                continue
            address = _clean("".join(match.group().split()) + _wrapped_tld(layout, line, text, match.end()))
            if placeholder(address) or (excluded and not spelt_by(address, header)):
                continue
            labelled = bool(EMAIL_LABEL.search(text[: match.start()]))
            hits.append(EmailHit(address, line, labelled))
    return hits


def header_words(layout: Layout) -> list[str]:
    """The words (3+ letters, folded) of page 1's first line when it is two to four capitalised words
    and nothing else: the header's name as most designs print it. Empty otherwise."""
    first = layout.lines[0].text.split() if layout.lines else []
    if not 2 <= len(first) <= 4 or not all(w[:1].isupper() and w.isalpha() for w in first):
        return []
    return [fold(w) for w in first if len(fold(w)) >= 3]


def spelt_by(address: str, words: list[str]) -> bool:
    """Whether the address's local part spells every word of the header's name ("innocent.nyakangi@"
    under "INNOCENT NYAKANGI"): the candidate's own address, even where a design tool wrote the
    contact box after a "References" heading. A referee's address never spells the candidate's name."""
    local = fold(address.partition("@")[0])
    return len(words) >= 2 and all(w in local for w in words)


_SPACED = re.compile(r"(?<![\w.%+-])[A-Za-z0-9][\w.%+-]*@ (?:[A-Za-z0-9-]{1,12} ?){1,4}\.[A-Za-z]{2,}\b")
"""An address whose domain lost its letter spacing ("anna@ gm ail.com", text exported from an image
editor that places letters one by one): read only where a space follows the "@"."""


_EVERY_LETTER_SPACED = re.compile(r"(?<!\S)(?:[A-Za-z0-9._%+-] ){2,}@(?: [A-Za-z0-9.-]){4,}(?!\S)")
"""An address with a space after every character ("t u o n g 7 1 @ f p t . e d u . v n"), as a design
tool's letter-spaced text exports it."""


_SPACE_BEFORE_TLD = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9][\w.%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)* \.(?:com|net|org|edu|gov)\b")
"""An address typed with a space before its ".com" ("ShahidHussainBSA@gmail .com")."""


def _spaced(text: str) -> list[re.Match[str]]:
    found = [*_SPACE_BEFORE_TLD.finditer(text)] if " ." in text else []
    if "@ " not in text:
        return found
    return [*found, *_SPACED.finditer(text), *_EVERY_LETTER_SPACED.finditer(text)]


_TLD_LINE = re.compile(r"^\.?([a-z]{2,6})$")


def _wrapped_tld(layout: Layout, line: Line, text: str, end: int) -> str:
    """ "jane@student.uni.edu." / "vn": an address wrapped before its last label, which then stands
    alone (lower case) on the next line of the same page."""
    rest = text[end:].strip()
    below = layout.next_on_page(line)
    if rest not in ("", ".") or below is None:
        return ""
    wrapped = _TLD_LINE.match(below.text.strip())
    if wrapped and (rest == "." or below.text.startswith(".")):
        return "." + wrapped.group(1)
    tail = _TLD_TAIL.match(below.text.strip()) if not rest else None
    if tail and text[:end].rpartition(".")[2].lower() + tail.group(0) in _SPLIT_TLDS:
        return tail.group(0)
    return ""


_TLD_TAIL = re.compile(r"^[a-z]{1,2}$")
_SPLIT_TLDS = frozenset({"com", "net", "org", "edu", "gov", "info"})
"""The top-level labels an address may be cut inside ("...@gmail.co" / "m"): a lone one or two letters
on the next line complete one of these; other endings are left as printed (".co" is a domain too)."""


_OPEN_DOMAIN = re.compile(r"@[A-Za-z0-9-]+\.?$")


def _with_wrapped_domain_end(layout: Layout, line: Line, text: str) -> str:
    """ "brayanurru33@gmail." / "com": an address cut after its domain's first label (no dot left to
    match), whose top-level label stands alone on the next line of the same page: joined; so is one cut
    inside that label, when the next line holds the domain's rest alone ("@outl" / "ook.com")."""
    stripped = text.rstrip()
    below = layout.next_on_page(line)
    if not _OPEN_DOMAIN.search(stripped) or below is None:
        return text
    rest = below.text.strip()
    wrapped = _TLD_LINE.match(rest)
    if wrapped:
        return f"{stripped.rstrip('.')}.{wrapped.group(1)}"
    if not stripped.endswith(".") and _DOMAIN_REST.match(rest):
        return stripped + rest  # "jane@outl" / "ook.com": cut inside the domain's first label
    return text


_DOMAIN_REST = re.compile(r"^[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,6}$")


PLACEHOLDER_LOCALS = frozenset({
    "your", "youremail", "your.email", "your_email", "yourname", "your.name", "username", "firstname",
    "lastname", "firstname.lastname", "first.last", "nombre", "votre.email", "ihre.email",
})
PLACEHOLDER_DOMAINS = frozenset({"domain.com", "yourdomain.com"})


def placeholder(address: str) -> bool:
    """A template's stand-in, not an address: "xxx@gmail.com" (one character repeated), "your.email@...",
    "...@yourdomain.com" (not example.com: reserved for examples, a document may still use it). Masked
    addresses are withheld on purpose; nothing can be sent to them."""
    local, _, domain = address.lower().rpartition("@")
    repeated = len(local) >= 3 and len(set(local)) == 1
    return repeated or local in PLACEHOLDER_LOCALS or domain in PLACEHOLDER_DOMAINS


def own_emails(layout: Layout, hits: list[EmailHit]) -> tuple[list[EmailHit], str]:
    """The candidate's addresses (first page with any, plus labelled ones later) and a doubt, if any."""
    if not hits:
        return [], ""
    per_line = collections.Counter(h.line.index for h in hits)
    crowded = [h for h in hits if per_line[h.line.index] >= CROWDED]
    if len(crowded) < len(hits):
        hits = [h for h in hits if per_line[h.line.index] < CROWDED]  # an author list, not the candidate's
    first_page = hits[0].line.page
    own = [h for h in hits if h.line.page == first_page or h.labelled]
    doubt = "email found only after page 1" if first_page > layout.first_page() else ""
    if crowded and len(crowded) == len(hits):
        doubt = "several addresses on one line (an author list?)"
    seen: set[str] = set()
    unique = []
    for hit in own:
        if hit.value.lower() not in seen:
            seen.add(hit.value.lower())
            unique.append(hit)
    return unique, doubt


def email_guess(own: list[EmailHit], doubt: str, block: set[int]) -> FieldGuess:
    if not own:
        return FieldGuess.missing("no email address found")
    first = own[0]
    if doubt:
        return FieldGuess(first.value, 0.5, doubt)
    if first.line.index in block or first.labelled:
        return FieldGuess(first.value, 0.95, "")
    return FieldGuess(first.value, 0.7, "email is not in the contact block at the top of the resume")


MAILBOX_REACH = 2
"""Lines from an organisation's mailbox within which a number is the organisation's."""


def organisation_mailboxes(own: Sequence[EmailHit]) -> list[EmailHit]:
    """Addresses after the first that are an organisation's shared mailbox ("correio@", "info@") at
    another domain than the first: printed in a school's or an employer's block, not the candidate's.
    (A candidate's own "contact@janeroe.dev" is their first address and stays.)"""
    if not own:
        return []
    domain = own[0].value.rpartition("@")[2].lower()
    parts = [(hit, *hit.value.lower().rpartition("@")[::2]) for hit in own[1:]]
    return [hit for hit, local, at in parts if local in ORGANISATION_MAILBOXES and at != domain]


def beside_mailbox(line: Line, mailboxes: Sequence[EmailHit], own: Sequence[EmailHit]) -> bool:
    """Whether `line` is within MAILBOX_REACH lines of one of the mailboxes, on its page, and nearer to
    it than to any of the candidate's own addresses (a header's number stays the candidate's)."""
    def distance(hits: Sequence[EmailHit]) -> int:
        return min((abs(h.line.index - line.index) for h in hits if h.line.page == line.page), default=10**6)
    near = distance(mailboxes)
    return near <= MAILBOX_REACH and near < distance(own)
