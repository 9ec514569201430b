"""A name the candidate gives in a sentence about themself: "I'm Beatrice Njoki Nyamu, a licensed
counsellor", "My name is ...", "Je m'appelle ...", "Mi chiamo ...". Used only when no line of the
resume reads as a name (the name may be printed only in a header image, or far below the profile).

Phrases that name the speaker ("My name is", and its equivalents in the languages the lexicons cover)
need nothing more; "I'm" / "I am" also opens descriptions ("I am Passionate ..."), so what follows it
must end at a comma, a full stop or the line's end, as a name in apposition does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from milo_voice.intake.contact_layout import Line
from milo_voice.intake.contact_name_words import name_tokens, normal_case
from milo_voice.intake.extraction_types import FieldGuess

_NAMING = (r"my\s+name\s+is|je\s+m['’]appelle|mon\s+nom\s+est|mi\s+chiamo|il\s+mio\s+nome\s+è|me\s+llamo|"
           r"mi\s+nombre\s+es|mein\s+name\s+ist|ich\s+heiße|meu\s+nome\s+é|nazywam\s+się|nama\s+saya|"
           r"benim\s+adım|mijn\s+naam\s+is|меня\s+зовут")
_SELF = r"i['’]m|i\s+am"
INTRO = re.compile(rf"(?:^|(?<=[\s(\"“]))(?:(?P<naming>{_NAMING})|(?P<self>{_SELF}))\s+(?P<rest>.+)$",
                   re.IGNORECASE)

INTRO_LINES = 60
"""A self-introduction is looked for in this many first lines of page 1."""


INTRO_CONFIDENCE = 0.6
INTRO_WHY = "name read from a sentence of the profile (\"I'm ...\", \"My name is ...\"); check it"


def introduced_name(lines: Sequence[Line]) -> FieldGuess | None:
    """The name in the first self-introduction of `lines` (joined with the next line, as a sentence may
    wrap after "I'm"), in normal case and flagged for the reviewer; None when there is none."""
    texts = [line.text.strip() for line in lines[:INTRO_LINES]]
    for i, text in enumerate(texts):
        match = INTRO.search(text)
        if not match:
            continue
        rest = match.group("rest")
        wrapped = f"{rest} {texts[i + 1]}" if i + 1 < len(texts) else rest
        for text_ in (rest, wrapped):
            tokens = _name_run(text_, apposition=bool(match.group("self")))
            if tokens:
                return FieldGuess(normal_case(tokens), INTRO_CONFIDENCE, INTRO_WHY)
    return None


def _name_run(rest: str, *, apposition: bool) -> list[str] | None:
    """The capitalised words at the start of `rest` (2-4 of them) when they read as a name; after "I'm"
    they must end at punctuation or the end of the text, not run on into a description."""
    words: list[str] = []
    for word in rest.split():
        bare = word.rstrip(",.;:")
        if not bare or not bare[0].isupper():
            break
        words.append(bare)
        if bare != word or len(words) == 4:
            break
    if len(words) < 2:
        return None
    after = rest.split()[len(words):]
    ended = rest.split()[len(words) - 1][-1] in ",.;:" or not after
    if apposition and not ended:
        return None
    return name_tokens(" ".join(words))
