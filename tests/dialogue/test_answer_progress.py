"""An answer in progress is reported as it grows: after each live decode that adds text, the observer
gets the turn so far (kind `PARTIAL`) under the index the finished answer will keep. A fake live
transcript stands in for Whisper; edges and decodes are placed on the media clock by hand."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from milo_voice.dialogue.answer import Answer
from milo_voice.dialogue.events import TimedEvent
from milo_voice.dialogue.session_types import PARTIAL, DialogueState, Engines, TurnRecord
from milo_voice.dialogue.stored_answers import StoredAnswers
from milo_voice.dialogue.turn_policy import TurnParams
from milo_voice.media.types import SAMPLE_RATE, AudioChunk, Decoded, SpeechEdge, Word

POOL = ThreadPoolExecutor(1)


class FakeLive:
    """A live transcript whose decodes the test makes happen."""

    def __init__(self, on_decoded: Callable[[Decoded], None]) -> None:
        self.on_decoded = on_decoded
        self.pieces: list[str] = []
        self.decoded_upto = 0
        self.done_upto = 0

    @property
    def text(self) -> str:
        return " ".join(self.pieces)

    def on_pause(self, audio: np.ndarray, pause_at_sample: int, *, speech_s: float | None = None) -> None:
        return None  # the test decodes by hand (`decoded`)

    async def finish(self, audio: np.ndarray, speech_end_sample: int) -> str:
        return self.text

    def take_cpu(self) -> float:
        return 0.0

    def cancel(self) -> None:
        pass

    def decoded(self, piece: str, upto_s: float) -> None:
        """A decode of the answer's audio up to `upto_s` s into its buffer came back with `piece`."""
        if piece != "you":  # as `LiveTranscript`: noise is not kept
            self.pieces.append(piece)
        self.decoded_upto = self.done_upto = int(upto_s * SAMPLE_RATE)
        self.on_decoded(Decoded(piece, (), 0.0, upto_s))


class FakeAsr:
    def __init__(self) -> None:
        self.lives: list[FakeLive] = []

    def live(self, on_decoded: Callable[[Decoded], None], *,
             paused: Callable[[], bool] | None = None) -> FakeLive:
        self.lives.append(FakeLive(on_decoded))
        return self.lives[-1]

    async def final(self, audio: np.ndarray, *, offset: float) -> Decoded:
        return Decoded("final", (Word("final", offset, offset + 0.5),), 0.0, len(audio) / SAMPLE_RATE)


class Observer:
    def __init__(self, fail_partials: bool = False) -> None:
        self.partials: list[TurnRecord] = []
        self.turns: list[TurnRecord] = []
        self.fail_partials = fail_partials

    def on_event(self, event: TimedEvent) -> None:
        pass

    def on_turn(self, turn: TurnRecord) -> None:
        self.turns.append(turn)

    def on_partial(self, turn: TurnRecord) -> None:
        if self.fail_partials:
            raise RuntimeError("database is gone")
        self.partials.append(turn)

    def on_transcript(self, index: int, text: str, words: tuple[Word, ...]) -> None:
        pass


def listen(observer: Observer, state: DialogueState) -> tuple[Answer, StoredAnswers, FakeLive]:
    """An answer listening from 10 s, with the session's wiring: `on_text` is `StoredAnswers.progress`."""
    asr = FakeAsr()
    engines = Engines(asr, tts=None, tts_executor=POOL, detector=None, detector_executor=POOL)  # type: ignore[arg-type]
    answers = StoredAnswers(observer, engines, state, lambda *a, **k: None)
    answer = Answer(
        listening_since=10.0,
        params=TurnParams(),
        asr=asr,
        detector=None,
        detector_executor=POOL,
        on_probability=lambda p, at: None,
        on_text=answers.progress,
    )
    answer.append(AudioChunk(np.zeros(SAMPLE_RATE * 8, np.int16).tobytes(), 10.0))
    return answer, answers, asr.lives[0]


def run(start: float, end: float, answer: Answer) -> None:
    answer.on_edge(SpeechEdge(True, start))
    answer.on_edge(SpeechEdge(False, end))


def test_each_decode_reports_the_answer_so_far_under_the_index_its_turn_keeps() -> None:
    async def scenario() -> None:
        observer, state = Observer(), DialogueState(question_index=2, prompt_is_follow_up=True, turn_index=4)
        answer, answers, live = listen(observer, state)
        run(10.5, 12.0, answer)
        live.decoded("I led the team", upto_s=2.15)  # up to the pause at 12.0 s, padded
        state.turn_index += 1  # nothing else takes index 4 meanwhile (an interviewer line takes 5)
        run(12.8, 14.0, answer)
        answer.on_edge(SpeechEdge(True, 14.5))  # speaking again: no decode of this yet
        live.decoded("and we shipped", upto_s=4.15)
        assert [(t.index, t.kind, t.text, t.live_text, t.start_s, t.end_s) for t in observer.partials] == [
            (4, PARTIAL, "I led the team", "I led the team", 10.5, 12.0),
            (4, PARTIAL, "I led the team and we shipped", "I led the team and we shipped", 10.5, 14.0),
        ]
        assert {(t.speaker, t.question_index, t.is_follow_up) for t in observer.partials} == {
            ("candidate", 2, True)
        }
        assert answers.index_of(answer) == 4  # the end of turn finds it reserved
        answers.store(answer, live.text, answers.index_of(answer), now=15.0)
        assert [(t.index, t.kind, t.text) for t in observer.turns] == [
            (4, "answer", "I led the team and we shipped")
        ]
        await asyncio.gather(*state.final_tasks)

    asyncio.run(scenario())


def test_noise_reserves_no_index_and_reports_nothing() -> None:
    async def scenario() -> None:
        observer, state = Observer(), DialogueState(turn_index=7)
        answer, answers, live = listen(observer, state)
        run(10.5, 11.5, answer)
        live.decoded("you", upto_s=1.65)
        assert observer.partials == [] and state.turn_index == 7 and answer.turn_index is None
        assert answers.index_of(answer) == 7 and state.turn_index == 8  # an end of turn reserves it

    asyncio.run(scenario())


def test_a_decode_that_adds_nothing_is_not_reported_again() -> None:
    async def scenario() -> None:
        observer, state = Observer(), DialogueState()
        answer, _, live = listen(observer, state)
        run(10.5, 12.0, answer)
        live.decoded("Yes", upto_s=2.15)
        run(12.5, 13.0, answer)
        live.decoded("you", upto_s=3.15)  # room noise after it: the text did not change
        assert [t.text for t in observer.partials] == ["Yes"]

    asyncio.run(scenario())


def test_a_failing_observer_does_not_stop_the_answer(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        state = DialogueState()
        answer, _, live = listen(Observer(fail_partials=True), state)
        run(10.5, 12.0, answer)
        live.decoded("We moved the whole team over", upto_s=2.15)  # does not raise into the decode
        assert answer.policy.words == 6  # the turn policy still saw the text

    asyncio.run(scenario())
    assert "answer.on_text_failed" in caplog.text
