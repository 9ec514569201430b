"""Quote verification: verbatim spans (modulo case and punctuation) pass with word times; nothing else."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st
from scoring_builders import words_for

from milo_voice.scoring.quotes import locate, normalise, verify
from milo_voice.scoring.transcript import TimedWord, Transcript, Utterance

TEXT = "Well, I'd first listen. Then I'd apologise, and offer a refund within 24 hours!"


def utterance(text: str = TEXT, start: float = 10.0, index: int = 3, speaker: str = "candidate") -> Utterance:
    words = tuple(TimedWord(w["w"], w["start"], w["end"]) for w in words_for(text, start))
    return Utterance(index, speaker, text, start, start + 0.4 * len(text.split()), 1, "answer", False, words)


def test_a_quote_differing_only_in_case_and_punctuation_is_found_with_its_times() -> None:
    found = locate("i'd APOLOGISE and offer a refund", utterance())
    assert found is not None
    assert found.text == "I'd apologise, and offer a refund"  # the transcript's own characters
    assert (found.start_s, found.end_s) == (10.0 + 5 * 0.4, 10.0 + 11 * 0.4 - 0.05)
    assert not found.estimated_timing and found.turn_index == 3


def test_paraphrases_and_invented_words_are_not_quotes() -> None:
    u = utterance()
    assert locate("I would apologise", u) is None
    assert locate("offer a full refund", u) is None
    assert locate("", u) is None and locate("?!", u) is None


def test_only_the_candidate_can_be_quoted() -> None:
    asked = utterance("How would you calm down an angry customer?", start=0.0, index=0, speaker="interviewer")
    transcript = Transcript((asked, utterance()))
    assert verify("calm down an angry customer", transcript) is None
    assert verify("then i'd apologise", transcript) is not None


def test_without_matching_word_times_the_offsets_are_estimated_and_say_so() -> None:
    u = Utterance(1, "candidate", "one two three four", 4.0, 8.0, 0, words=())
    found = locate("three four", u)
    assert found is not None and found.estimated_timing
    assert (found.start_s, found.end_s) == (6.0, 8.0)


WORD = st.text(alphabet="abcdefghij", min_size=1, max_size=6)


@given(
    st.lists(WORD, min_size=1, max_size=30),
    st.data(),
)
def test_every_span_of_the_text_is_verified_at_its_own_word_times(
    words: list[str], data: st.DataObject
) -> None:
    text = " ".join(words)
    u = utterance(text, start=2.0)
    i = data.draw(st.integers(0, len(words) - 1))
    j = data.draw(st.integers(i + 1, len(words)))
    shouting = data.draw(st.booleans())
    quote = " ".join(words[i:j])
    quote = quote.upper() if shouting else quote + "."
    found = locate(quote, u)
    assert found is not None
    assert normalise(found.text) == normalise(quote)
    # the first occurrence of the span: its times are those of its first and last words
    start_word = next(k for k in range(len(words)) if words[k : k + j - i] == words[i:j])
    assert found.start_s == u.words[start_word].start
    assert found.end_s == u.words[start_word + j - i - 1].end


@given(st.lists(WORD, min_size=2, max_size=20), st.data())
def test_a_span_with_one_word_changed_is_rejected_unless_the_text_has_it(
    words: list[str], data: st.DataObject
) -> None:
    text = " ".join(words)
    i = data.draw(st.integers(0, len(words) - 1))
    changed = [*words[:i], words[i] + "zz", *words[i + 1 :]]
    quote = " ".join(changed[max(i - 1, 0) : i + 2])
    assert locate(quote, utterance(text)) is None or re.search(r"zz", text)
