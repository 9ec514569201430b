"""Quotes that read well (issue 19): the offline scorer's pieces never break inside a number, after an
abbreviation or an initial; closing marks (%, brackets, quotes) stay on a quote; an unpunctuated
200-word answer becomes quotes of at most 30 words; every quote stays verbatim and is found again."""

from __future__ import annotations

import re

import pytest

from milo_voice.scoring.offline import evidence, sentences
from milo_voice.scoring.quotes import locate
from milo_voice.scoring.sentences import MAX_QUOTE_WORDS, clauses, split_sentences
from milo_voice.scoring.transcript import CANDIDATE, Utterance


def turn(text: str) -> Utterance:
    return Utterance(0, CANDIDATE, text, 10.0, 20.0, 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The probability is 0.6. Event A follows.", ["The probability is 0.6.", "Event A follows."]),
        ("Growth was 1,38% last year. It slowed.", ["Growth was 1,38% last year.", "It slowed."]),
        ("Use tools, e.g. Python or SQL. Then test.", ["Use tools, e.g. Python or SQL.", "Then test."]),
        ("I asked Dr. Lee and J. Smith. They agreed.", ["I asked Dr. Lee and J. Smith.", "They agreed."]),
        ('She said "it works." We shipped it!', ['She said "it works."', "We shipped it!"]),
        ("It costs $3.50 (approx. two euros). Fine?", ["It costs $3.50 (approx. two euros).", "Fine?"]),
        ("No punctuation at all", ["No punctuation at all"]),
    ],
)
def test_sentences_end_on_real_boundaries_only(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected
    assert all(piece in text for piece in expected)


@pytest.mark.parametrize(
    ("answer", "quote", "shown"),
    [
        ("The loss rate rose to 1,38% in March", "rose to 1,38", "rose to 1,38%"),
        ("We picked a stack (Python and SQL) for speed", "Python and SQL", "(Python and SQL)"),
        ('The guest called it "the best coffee" twice', "the best coffee", '"the best coffee"'),
        ("We used a cache (Redis) for sessions", "used a cache (Redis", "used a cache (Redis)"),
        ("Sales rose 5% and costs fell", "Sales rose 5", "Sales rose 5%"),
    ],
)
def test_a_quote_keeps_its_closing_marks_and_stays_verbatim(answer: str, quote: str, shown: str) -> None:
    found = locate(quote, turn(answer))
    assert found is not None and found.text == shown and shown in answer


def test_an_unpunctuated_answer_of_200_words_gives_short_verbatim_quotes() -> None:
    rambling = (
        "so basically I worked at the cafe on the high street and we served a lot of customers every "
        "morning and there was this one time a customer was really upset because her order was wrong "
        "and I just listened to her and said sorry and made it again quickly and she came back the "
        "next week and then I trained the new people on how to handle complaints like that "
    )
    answer = " ".join((rambling * 4).split()[:200])
    pieces = sentences((answer,))
    assert len(pieces) >= 7 and all(len(p.split()) <= MAX_QUOTE_WORDS for p in pieces)
    assert all(p in answer for p in pieces)
    quotes = evidence((answer,), ("customer", "upset", "order", "listened"))
    assert quotes and all(len(q.split()) <= MAX_QUOTE_WORDS for q in quotes)
    for q in quotes:
        found = locate(q, turn(answer))
        assert found is not None and found.text == q and 10.0 <= found.start_s < found.end_s <= 20.0


def test_long_sentences_are_cut_at_clause_boundaries_first() -> None:
    sentence = (
        "I opened the shop at six, counted the float and checked the deliveries, then I served the "
        "early commuters while my colleague baked, and after the rush we cleaned, restocked the "
        "fridges and wrote the order for the next day because the manager was away."
    )
    pieces = clauses(sentence)
    assert len(pieces) >= 2 and all(len(p.split()) <= MAX_QUOTE_WORDS for p in pieces)
    assert all(p in sentence for p in pieces)
    assert all(
        re.search(r"[,.]$", p)
        or p == pieces[-1]
        or pieces[pieces.index(p) + 1].split()[0].lower()
        in {"and", "but", "so", "because", "then", "which", "while", "although"}
        for p in pieces
    )
