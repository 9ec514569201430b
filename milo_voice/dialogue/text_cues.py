"""What the live transcript says about a pause: unfinished, finished, a question back, or a request.

Pure functions over text. The turn policy uses `trailing_cue` as evidence at each pause; the
session uses `request_kind` to handle "let me think" and "can you repeat the question" as
requests, not answers.

Measured on ../shared/data/speech (Whisper tiny.en, live decodes at pauses): Whisper ends most
mid-sentence cuts with a full stop, and the trailing function word survives in only about half
the pauses after one. So an unfinished-looking ending is strong evidence to wait, but a finished
look is weak evidence to reply: the policy never shortens the wait on punctuation alone, only on
explicit closings ("that's it", "so yeah") and questions back. Text that stops with no
punctuation at all ("...has never been surpassed. In 1813") is not used either, though it looks
unfinished at 13 of 151 pauses inside answers and at only 1 of 21 true ends: Whisper's words for
room noise ("I'm not I'm not") end the same way, and the long wait it earned held a noisy
candidate's answer open to the 240 s cap in the real-time benchmark.
"""

from __future__ import annotations

import re
from enum import StrEnum


def _split(words: str) -> list[str]:
    return words.split()


class Cue(StrEnum):
    NONE = "none"
    """Nothing in the text either way."""
    HESITATION = "hesitation"
    """Ends on a filler, conjunction or function word: the sentence is unfinished."""
    CLOSING = "closing"
    """An explicit closing: "that's it", "so yeah, that's how I did it"."""
    QUESTION = "question"
    """A question back to the interviewer."""


class Request(StrEnum):
    NONE = "none"
    TIME = "time"
    """"Let me think", "give me a moment": wants thinking time."""
    REPEAT = "repeat"
    """"Can you repeat the question?"."""


HESITATION_WORDS = frozenset(_split(
    """um uh er erm ah hmm and but or so because cause cuz like then than which who whose where
    when while if although though since as until unless whether the a an my our your their his
    its to of at for with from by about into under i i'm we we're they he she is was are were be
    been being have has had will would can could should might must just really also very kind sort
    basically actually mean know"""
))
"""A pause after one of these words leaves the sentence unfinished (or the speaker is hedging).
Words that often close a sentence as objects or particles ("it", "that", "you", "her", "in",
"on", "over", "did") are left out: they would make the interviewer wait after finished answers."""

CLOSING_PATTERNS = (
    r"\bthat'?s (about )?(it|all)\b",
    r"\bthat'?s (pretty much|basically) (it|all)\b",
    r"\b(so )?yeah,? that'?s (how|what|why)\b",
    r"\bso,? yeah\.?$",
    r"\bthat'?s my answer\b",
    r"\bi think that (covers|answers) (it|the question)\b",
    r"\b(and )?that'?s (everything|all i have|all i've got)\b",
)
REPEAT_PATTERNS = (
    r"\b(can|could|would) you (please )?(repeat|say) (that|the question|it)( again)?\b",
    r"\brepeat the question\b",
    r"\bsorry,? (what was|could you repeat) the question\b",
    r"\bwhat was the question\b",
    r"\bsay that again\b",
)
TIME_PATTERNS = (
    r"\blet me (think|see)\b",
    r"\bgive me (a|one) (moment|second|sec|minute)\b",
    r"\bjust a (moment|second|sec|minute)\b",
    r"\bhold on\b",
    r"\bi need (a|some) (moment|second|time) to think\b",
    r"\bthat'?s a (good|great|tough|hard) question\b",
)
REQUEST_MAX_WORDS = 12
"""A request is short: longer text that contains "let me think" is an answer that hesitated."""
SETTLED_ENDINGS = frozenset({"think so", "guess so", "hope so", "believe so", "did that", "do that"})
"""Two-word endings whose last word is in `HESITATION_WORDS` but that close a sentence."""
QUESTION_STARTS = frozenset(_split(
    """what how why when where who which do does did is are can could would should will"""
))


def words_of(text: str) -> list[str]:
    return [w for w in re.sub(r"[^a-z0-9' ]+", " ", text.lower().replace("’", "'")).split() if w]


def _last_sentence(text: str) -> str:
    parts = [p for p in re.split(r"(?<=[.!?])\s+", text.strip()) if p.strip()]
    return parts[-1] if parts else ""


def trailing_cue(text: str) -> Cue:
    """The evidence in how the transcript so far ends."""
    stripped = text.strip()
    if not stripped:
        return Cue.NONE
    lowered = stripped.lower().replace("’", "'")
    tail = " ".join(words_of(stripped)[-8:])
    if any(re.search(p, tail) for p in CLOSING_PATTERNS):
        return Cue.CLOSING
    last_words = words_of(_last_sentence(stripped))
    if lowered.endswith("?") and last_words and last_words[0] in QUESTION_STARTS:
        return Cue.QUESTION
    words = words_of(stripped)
    if " ".join(words[-2:]) in SETTLED_ENDINGS:
        return Cue.NONE
    if words and words[-1] in HESITATION_WORDS:
        return Cue.HESITATION
    if lowered.endswith((",", "...", "-", "—", ":")):
        return Cue.HESITATION
    return Cue.NONE


def request_kind(text: str) -> Request:
    """Whether a short utterance asks for time or for the question again (not an answer)."""
    words = words_of(text)
    if not words or len(words) > REQUEST_MAX_WORDS:
        return Request.NONE
    joined = " ".join(words)
    if any(re.search(p, joined) for p in REPEAT_PATTERNS):
        return Request.REPEAT
    if any(re.search(p, joined) for p in TIME_PATTERNS):
        return Request.TIME
    return Request.NONE


BACKCHANNEL_PHRASES = (
    "mm hm", "mhm", "mmhm", "mm", "uh huh", "hmm", "hm", "okay", "ok", "right", "yeah", "yep", "yes",
    "sure", "alright", "all right", "got it", "i see", "oh", "ah", "aha", "cool", "great",
)
"""Listening noises: said while the interviewer talks, they are not an attempt to take the turn."""
_BACKCHANNEL = re.compile(r"\b(" + "|".join(re.escape(p) for p in BACKCHANNEL_PHRASES) + r")\b")


def is_backchannel(text: str) -> bool:
    """"Mm-hm", "okay", "right", "yeah, okay": nothing but listening noises (at most four words)."""
    words = words_of(text.replace("-", " "))
    if not words or len(words) > 4:
        return False
    return not _BACKCHANNEL.sub(" ", " ".join(words)).strip()
