"""Word-level text analysis shared by the offline scorer: content terms, stems, negation, yes/no.

Deterministic and dependency-light (Snowball's English stemmer, pure Python). Nothing here knows
about rubrics or storage.
"""

from __future__ import annotations

import re
from functools import lru_cache

import snowballstemmer  # type: ignore[import-untyped]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOPWORDS = _words(
    """a an the and or but if of to in on at by for with from as is are was were be been being it its
    this that these those there their they them he she his her we our you your i me my mine so do does
    did done have has had than then too very can could would should will shall may might must also just
    about into out up down over under again more most some any each other such own same only both few
    which who whom what when where why how all because while um uh like well really yeah okay oh"""
)
NEGATIONS = _words(
    "not no never nothing none cannot cant dont doesnt didnt isnt wont wouldnt arent wasnt werent "
    "neither nor without haven havent hasnt shouldnt couldnt"
)
AFFIRMATIVE = _words("yes yeah yep yup sure absolutely definitely certainly correct right indeed")
NEGATIVE_ANSWER = _words("no nope nah never not cannot cant dont doesnt wont")

_TOKEN = re.compile(r"[a-z0-9]+")
_stemmer = snowballstemmer.stemmer("english")


def tokens(text: str) -> list[str]:
    """Lower-case word tokens; "don't" becomes "dont", "n't" contractions keep their negation."""
    text = text.lower().replace("’", "'").replace("n't", "nt").replace("'", "")
    return _TOKEN.findall(text)


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return str(_stemmer.stemWord(word))


def content_terms(text: str) -> dict[str, str]:
    """Stem -> first surface word, for the words of `text` that carry meaning (no stopwords)."""
    found: dict[str, str] = {}
    for word in tokens(text):
        if word in STOPWORDS or word in NEGATIONS:
            continue
        found.setdefault(stem(word), word)
    return found


def is_negated(text: str) -> bool:
    return any(word in NEGATIONS for word in tokens(text))


def polarity(text: str) -> bool | None:
    """True for a yes-answer, False for a no-answer, None when neither is said; the first marker wins."""
    for word in tokens(text):
        if word in AFFIRMATIVE:
            return True
        if word in NEGATIVE_ANSWER:
            return False
    return None


def yes_no(required: str) -> bool | None:
    """A dealbreaker's required answer read as yes (True) / no (False), or None for a phrase."""
    words = tokens(required)
    if len(words) == 1 and words[0] in AFFIRMATIVE | {"true"}:
        return True
    if len(words) == 1 and words[0] in NEGATIVE_ANSWER | {"false"}:
        return False
    return None
