"""Quotes cut at pauses (issue 19): a long unpunctuated answer is cut where the word timings show the
speaker paused, never at a gap shorter than `MIN_PAUSE_S`, and by text when the timings do not fit the
text; quotes stay verbatim, at most 30 words, with their seconds; word timings never change a
fingerprint. `shortest_span` narrows a piece to the words that carry the evidence."""

from __future__ import annotations

import itertools

import pytest
from helpers import run
from scoring_builders import RUBRICS, SCRIPT

from milo_voice.scoring import terms
from milo_voice.scoring.card import ScriptedQuestion, score_transcript
from milo_voice.scoring.llm import LlmScorer
from milo_voice.scoring.offline import OfflineScorer, sentences
from milo_voice.scoring.result import ScoreCard
from milo_voice.scoring.rubric import Bands
from milo_voice.scoring.scorer import QuestionInput
from milo_voice.scoring.sentences import MAX_QUOTE_WORDS, MIN_PAUSE_S, quote_pieces, shortest_span
from milo_voice.scoring.transcript import CANDIDATE, INTERVIEWER, TimedWord, Transcript, Utterance

WORD_S = 0.3
"""Each word lasts this long; words inside a phrase follow each other after `GAP_S`."""
GAP_S = 0.05

PHRASES = (
    "so basically I worked at the cafe on the high street for about two years and we served a lot of "
    "commuters every single morning",
    "there was this one time a customer came in really upset because her order was wrong for the third time "
    "that week and she was shouting at my colleague",
    "I walked over to her table and listened to her without interrupting once and then acknowledged her "
    "frustration out loud",
    "then I apologised properly and said it was our mistake and not hers and that I understood why she was "
    "annoyed because I would be too",
    "I proposed a concrete next step which was to remake the order myself right away and give her a voucher "
    "for the next visit",
    "and to solve the problem for good I wrote all the regulars usual orders on a little card that we kept "
    "right behind the till",
    "she came back the next week and thanked me and after that I trained the new people on how to handle "
    "complaints like that calmly",
    "my manager said the complaints went down a lot that season and I think that was the part of the job I "
    "was proudest of honestly",
)
"""Eight spoken phrases of 20 to 30 words, 200 words in all, any two together over 30 words."""
PAUSES = (0.9, 0.6, 1.4, 0.7, 1.1, 0.5, 0.8)
"""The silence after each phrase but the last, all of them pauses."""


def timed(phrases: tuple[str, ...], pauses: tuple[float, ...], start: float = 10.0) -> list[TimedWord]:
    """Word timings for `phrases` spoken one after the other with `pauses` between them."""
    out, t = [], start
    for i, phrase in enumerate(phrases):
        for j, word in enumerate(phrase.split()):
            if j:
                t += GAP_S
            out.append(TimedWord(" " + word, round(t, 3), round(t + WORD_S, 3)))
            t += WORD_S
        t += pauses[i] if i < len(pauses) else 0.0
    return out


ANSWER = " ".join(PHRASES)
WORDS = timed(PHRASES, PAUSES)


def test_phrases_are_as_described() -> None:
    counts = [len(p.split()) for p in PHRASES]
    assert sum(counts) == 200 and max(counts) <= MAX_QUOTE_WORDS
    assert all(a + b > MAX_QUOTE_WORDS for a, b in itertools.pairwise(counts))


def test_a_200_word_unpunctuated_answer_is_cut_exactly_at_its_pauses() -> None:
    pieces = quote_pieces(ANSWER, WORDS)
    assert [p.split()[0] for p in pieces] == [p.split()[0] for p in PHRASES]
    assert pieces == list(PHRASES)
    assert all(len(p.split()) <= MAX_QUOTE_WORDS and p in ANSWER for p in pieces)
    assert pieces != quote_pieces(ANSWER)  # the cut by text alone lands elsewhere


def test_the_longest_pauses_are_used_first_and_only_as_needed() -> None:
    phrases = ("one two three four five", *PHRASES[:2])
    text = " ".join(phrases)  # 5 + 25 + 29 words: the 30 before the longest pause need no other cut
    pieces = quote_pieces(text, timed(phrases, (0.4, 1.0)))
    assert pieces == [f"{phrases[0]} {phrases[1]}", phrases[2]]


def test_gaps_shorter_than_a_pause_are_ignored() -> None:
    phrases = (PHRASES[0], PHRASES[2])  # 25 + 20 words
    text = " ".join(phrases)
    short = quote_pieces(text, timed(phrases, (MIN_PAUSE_S - 0.06,)))
    assert short == quote_pieces(text) and short != list(phrases)
    assert quote_pieces(text, timed(phrases, (MIN_PAUSE_S + 0.01,))) == list(phrases)


def test_words_that_do_not_fit_the_text_fall_back_to_the_cut_by_text() -> None:
    other = timed(("completely different words spoken about the weather and trains " * 20,), ())
    assert quote_pieces(ANSWER, other) == quote_pieces(ANSWER)
    assert quote_pieces(ANSWER, WORDS[:100]) == quote_pieces(ANSWER)  # half the text was never timed
    assert quote_pieces(ANSWER, ()) == quote_pieces(ANSWER)


def test_small_differences_between_words_and_text_are_tolerated() -> None:
    first = PHRASES[0].replace("about two years", "about 1,5 years")
    phrases = (first, *PHRASES[1:3])
    words = timed((first.replace("1,5", "1, 5").replace("a lot", "um a lot"), *PHRASES[1:3]), (0.9, 0.6))
    text = " ".join(phrases)
    assert quote_pieces(text, words) == list(phrases) != quote_pieces(text)


def test_sentences_still_end_at_punctuation_and_pieces_stay_verbatim() -> None:
    phrases = ("Fine.", *PHRASES[:3])
    text = f"{phrases[0]} {' '.join(phrases[1:])}"
    pieces = quote_pieces(text, timed(phrases, (0.3, 0.9, 0.6)))
    assert pieces == list(phrases)


def interview(words: bool) -> tuple[list[ScriptedQuestion], Transcript]:
    question = SCRIPT.questions[1].text
    asked = Utterance(0, INTERVIEWER, question, 0.0, 4.0, 1, kind="question")
    heard = tuple(WORDS) if words else ()
    answer = Utterance(1, CANDIDATE, ANSWER, WORDS[0].start, WORDS[-1].end, 1, kind="answer", words=heard)
    return [ScriptedQuestion(1, question, RUBRICS[1])], Transcript((asked, answer))


def card(words: bool) -> ScoreCard:
    questions, transcript = interview(words)
    return run(lambda: score_transcript(OfflineScorer(), questions, transcript, bands=Bands()))


def test_offline_quotes_end_to_end_are_short_verbatim_and_start_at_pauses() -> None:
    result = card(words=True)
    after = zip(WORDS[1:], WORDS, strict=False)
    starts = {WORDS[0].start} | {w.start for w, before in after if w.start - before.end > 0.4}
    quotes = [q for c in result.questions[0].criteria for q in c.quotes]
    assert quotes and not any(c.rejected_quotes for c in result.questions[0].criteria)
    for quote in quotes:
        assert len(quote.text.split()) <= MAX_QUOTE_WORDS and quote.text in ANSWER
        assert not quote.estimated_timing and WORDS[0].start <= quote.start_s < quote.end_s <= WORDS[-1].end
        assert quote.start_s in starts and quote.text in PHRASES


def test_word_timings_never_change_a_fingerprint() -> None:
    assert card(words=True).prompt_hash == card(words=False).prompt_hash
    with_words = QuestionInput(1, "Q?", RUBRICS[1], (ANSWER,), ("Q?",), (tuple(WORDS),))
    without = QuestionInput(1, "Q?", RUBRICS[1], (ANSWER,), ("Q?",))
    llm = LlmScorer(base_url="http://127.0.0.1:9/v1", model="m")
    for scorer in (OfflineScorer(), llm):
        assert scorer.fingerprint(with_words) == scorer.fingerprint(without)


def test_offline_sentences_take_timings_per_turn_and_tolerate_missing_ones() -> None:
    short = "I listen first."
    assert sentences((short, ANSWER), ((), tuple(WORDS))) == [short, *PHRASES]
    assert sentences((ANSWER, short), (tuple(WORDS),)) == [*PHRASES, short]
    assert sentences((ANSWER,)) == quote_pieces(ANSWER)


PIECE = (
    "there was this one time a customer came in really upset because her order was wrong for the third time"
)


def plain(text: str) -> set[str]:
    return {w.strip(",.").lower() for w in text.split()}


def stemmed(word: str) -> str:
    return terms.stem(word)


@pytest.mark.parametrize(
    ("piece", "wanted", "span"),
    [
        (PIECE, {"customer", "upset"}, "time a customer came in really upset because"),
        (PIECE, {"order"}, "really upset because her order was wrong for"),
        (PIECE, {"customer", "order", "elephant"}, "customer came in really upset because her order"),
        (PIECE, {"elephant"}, PIECE),
        ("She was upset.", {"upset"}, "She was upset."),
        ("so the Customer, who was upset, left and never came back to the shop", {"customer"}, None),
        ("wrong once and wrong again and later it was wrong again for sure", {"wrong", "again"}, None),
    ],
)
def test_shortest_span_holds_the_wanted_words_and_reads_as_a_phrase(
    piece: str, wanted: set[str], span: str | None
) -> None:
    got = shortest_span(piece, wanted)
    assert got in piece and (span is None or got == span)
    assert plain(got) >= wanted & plain(piece)


def test_shortest_span_edges_punctuation_and_ties() -> None:
    assert shortest_span("so the Customer, who was upset, left and never came back", {"customer"}) == (
        "so the Customer, who was upset, left and"
    )
    assert shortest_span(
        "wrong once and wrong again and later it was wrong again for sure", {"wrong", "again"}
    ) == ("wrong once and wrong again and later it")
    wide = "I listened to the customer and then after a long while I apologised to her"
    assert (
        shortest_span(wide, {"listened", "apologised"})
        == "listened to the customer and then after a long while I apologised"
    )


def test_shortest_span_lets_the_caller_stem() -> None:
    piece = "after the rush I listened carefully to every complaint the regulars had"
    assert shortest_span(piece, {"listen"}) == piece  # no plain match
    assert (
        shortest_span(piece, {terms.stem("listening")}, stemmed)
        == "after the rush I listened carefully to every"
    )
