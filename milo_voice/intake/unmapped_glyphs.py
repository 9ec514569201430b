"""A letter pypdf could not map, guessed from what the page never prints.

A font whose ToUnicode table leaves a glyph out makes pypdf write U+0000 for it. A Turkish CV's font lost
every "i" ("Eng\\0neer\\0ng", "em\\0rhanrz53gs@gma\\0l.com"), so its address and its name were missed;
pdfminer.six reads the same U+0000 (poppler reads the font's own table; it is not a run-time dependency
here). A font leaves out one glyph, and a page of prose uses every common letter: when a page holds
U+0000 at least `MIN_UNMAPPED` times and exactly one of the eight commonest lower-case letters of the
Latin-script languages we read (`COMMON`) never appears on it, U+0000 is that letter. Otherwise the page
is kept as it was (the contact rules then skip the words that hold it).
"""

from __future__ import annotations

UNMAPPED = "\x00"
"""What pypdf writes for a glyph its font does not map to text."""
COMMON = "eaiontrs"
"""The commonest lower-case letters of English, Spanish, Portuguese, French, German, Italian and Turkish
text, each well above 4% of letters in all of them."""
MIN_UNMAPPED = 5
MIN_LETTERS = 200
"""A page shorter than this many letters may miss a common letter by chance."""


def restore_unmapped(text: str) -> str:
    """`text` (one page of pypdf's) with U+0000 read as the one common letter the page never prints."""
    if text.count(UNMAPPED) < MIN_UNMAPPED or sum(ch.isalpha() for ch in text) < MIN_LETTERS:
        return text
    missing = [letter for letter in COMMON if letter not in text]
    return text.replace(UNMAPPED, missing[0]) if len(missing) == 1 else text
