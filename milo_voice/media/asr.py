"""Speech recognition with faster-whisper: cheap live decodes at pauses, one accurate final decode.

`WhisperEngine` is sync (it runs in the ASR executor). `LiveTranscript` (media/live_transcript.py)
keeps one answer's text current with its live decodes. After the answer, the whole answer is
decoded once more (beam search, word timestamps) for the stored transcript.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

import ctranslate2
import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.tokenizer import Tokenizer
from faster_whisper.transcribe import get_compression_ratio

from milo_voice.media.cpu_clock import ThreadCpu, new_threads
from milo_voice.media.live_queue import LiveQueue
from milo_voice.media.live_transcript import LiveTranscript, as_float
from milo_voice.media.types import SAMPLE_RATE, Decoded, Decoder, Word

log = logging.getLogger(__name__)

PROMPT_TOKENS = 200
"""Tokens of earlier text given to Whisper as the prompt for a live segment."""
LIVE_CONTEXT = 20
"""Seconds of encoder context for live decodes (audio zero-padded to this; Whisper's own is 30).

Measured on ../shared/data/speech answers (tiny.en int8, 1 thread, segments cut at holds >= 0.5 s):
30 s context 0.150 CPU-s per speech-s at 14.4% WER; 20 s 0.076 at 14.0%; 15 s 0.061 at 15.4%;
12 s and less: the decoder starts to hallucinate (WER > 60%)."""
NO_SPEECH_PROB = 0.6
"""Whisper's no-speech probability above which a live segment counts as noise (its own default)."""
DOUBT_NO_SPEECH_PROB = 0.3
MIN_LOGPROB = -1.0
"""A live segment that Whisper doubts (no-speech probability above `DOUBT_NO_SPEECH_PROB`) and
decodes with an average token log-probability below this (Whisper's own threshold for a failed
decode) is noise too. Measured on ../shared/data/speech with the answer's text as the prompt:
every speech run decodes at no-speech <= 0.06 and log-probability >= -0.6; every noise burst in
the pause fillers and tails (LJ Speech's pass the VAD) at no-speech >= 0.41 and <= -1.04, with
words such as "and I think it's" or "in the next video." that otherwise keep an answer open."""
LIVE_TOKENS_PER_S = 8
"""Cap on generated tokens per second of audio in a live decode (stops runaway repetition)."""
FINAL_SEED = 1234
"""Seed of the random sampling in the stored transcript's temperature fallback (reproducible)."""
LONG_LOOP_WORDS = 12
"""A loop across segments is cut only when its repeats span this many words or more."""
MAX_COMPRESSION_RATIO = 2.4
"""A decode whose text gzip-compresses better than this is Whisper stuck in a loop ("the thing,
the thing, the thing, ..."), its own criterion for a failed decode (the same threshold as
faster-whisper's `compression_ratio_threshold`). Real answers stay far below it: every
transcript in ../shared/data/speech, whole or in 60-word windows, compresses at 1.84 or less.
On LJ Speech's room noise a live decode looped for 50 words a piece, kept the answer open
and let each noise burst resume it (an interview that cycled "Thank you." for three minutes)."""


def is_noise_decode(no_speech_prob: float, avg_logprob: float) -> bool:
    """Whisper's own verdict on a live segment: no speech, or doubtful speech decoded badly."""
    return no_speech_prob > NO_SPEECH_PROB or (
        no_speech_prob > DOUBT_NO_SPEECH_PROB and avg_logprob < MIN_LOGPROB
    )


def is_looping(text: str) -> bool:
    """Whisper repeated itself: the text compresses better than any real answer does."""
    return bool(text) and get_compression_ratio(text) > MAX_COMPRESSION_RATIO


def drop_loop(words: list[str], *, min_words: int = 0, keep_one: bool = True) -> int:
    """How many of `words` to keep so that a phrase of up to 8 words looping at the end (three
    times or more, and over at least `min_words` words; the last time perhaps cut short) is kept
    once, or not at all without `keep_one`: "... the art of printing of the painting of the
    painting of the painting of the" keeps "... the art of printing of the painting"."""
    bare = [_bare(w) for w in words]
    keep = len(words)
    for n in range(1, 9):
        start = len(bare)
        while start - n - 1 >= 0 and bare[start - 1] == bare[start - n - 1]:
            start -= 1
        start -= n  # the first copy of the phrase
        if len(bare) - start >= max(3 * n, min_words):
            keep = min(keep, start + n if keep_one else start)
    return keep


def _bare(word: str) -> str:
    return "".join(c for c in word.lower() if c.isalnum())


class WhisperEngine:
    """A loaded Whisper model (CTranslate2 int8 on CPU). Thread-safe for concurrent decodes."""

    def __init__(self, model_dir: str, *, threads: int = 2, workers: int = 1, beam_size: int = 5) -> None:
        self.model, workers_made = new_threads(lambda: WhisperModel(
            str(model_dir), device="cpu", compute_type="int8", cpu_threads=threads, num_workers=workers
        ))
        self._cpu = ThreadCpu(workers_made)
        self.beam_size = beam_size
        self.threads = threads
        self.live_slots = workers
        """Decodes this engine runs at once (CTranslate2 workers): the live queue's slots."""
        self.multilingual = bool(self.model.model.is_multilingual)
        self.tokenizer = Tokenizer(
            self.model.hf_tokenizer, self.multilingual, task="transcribe", language="en"
        )

    @property
    def measures_cpu(self) -> bool:
        """True when `Decoded.cpu_s` is CPU time rather than wall time x threads."""
        return self._cpu.available

    def decode_live(self, audio: np.ndarray, *, prompt: str = "") -> Decoded:
        """Cheap decode of one segment: greedy, no timestamps, a shortened encoder context."""
        if audio.size < SAMPLE_RATE // 10:
            return Decoded("", (), 0.0, audio.size / SAMPLE_RATE)
        return self._timed(lambda: self._decode_live(audio, prompt), audio.size / SAMPLE_RATE)

    def _decode_live(self, audio: np.ndarray, prompt: str) -> tuple[str, tuple[Word, ...]]:
        seconds = min(30, max(LIVE_CONTEXT, int(np.ceil(audio.size / SAMPLE_RATE + 1))))
        padded = np.zeros(seconds * SAMPLE_RATE, np.float32)
        padded[: min(audio.size, padded.size)] = audio[: padded.size]
        features = self.model.feature_extractor(padded)[:, : seconds * 100]
        encoded = self.model.model.encode(
            ctranslate2.StorageView.from_array(np.ascontiguousarray(features[None], np.float32)),
            to_cpu=False,
        )
        previous = self.tokenizer.encode(" " + prompt.strip())[-PROMPT_TOKENS:] if prompt.strip() else []
        tokens = self.model.get_prompt(self.tokenizer, previous, without_timestamps=True)
        budget = int(audio.size / SAMPLE_RATE * LIVE_TOKENS_PER_S) + 6
        result = self.model.model.generate(
            encoded,
            [tokens],
            beam_size=1,
            max_length=len(tokens) + budget,
            suppress_blank=True,
            return_no_speech_prob=True,
            return_scores=True,
        )[0]
        text = self.tokenizer.decode(result.sequences_ids[0]).strip()
        if is_noise_decode(result.no_speech_prob, result.scores[0] if result.scores else 0.0):
            text = ""  # Whisper itself says this is not speech (room noise invites "I'm sorry.")
        elif is_looping(text):
            text = ""  # a failed decode: on room noise Whisper loops a phrase it made up
        return text, ()

    def decode(self, audio: np.ndarray, *, offset: float = 0.0) -> Decoded:
        """The stored transcript of a whole answer: beam search, word timestamps placed at `offset`."""
        if audio.size < SAMPLE_RATE // 10:
            return Decoded("", (), 0.0, audio.size / SAMPLE_RATE)
        return self._timed(lambda: self._decode(audio, offset), audio.size / SAMPLE_RATE)

    def _decode(self, audio: np.ndarray, offset: float) -> tuple[str, tuple[Word, ...]]:
        ctranslate2.set_random_seed(FINAL_SEED)  # the fallback samples: the same audio, the same transcript
        segments, _ = self.model.transcribe(
            audio,
            language="en",
            beam_size=self.beam_size,
            temperature=[0.0, 0.4],
            condition_on_previous_text=True,
            word_timestamps=True,
            vad_filter=False,
        )
        said: list[Any] = []
        for segment in segments:
            words = list(segment.words or ())
            if is_looping(segment.text.strip()):  # still looping after the fallback: a failed decode
                if segment.no_speech_prob > NO_SPEECH_PROB:
                    continue  # on what Whisper itself takes for no speech: nothing of it is kept
                words = words[: drop_loop([w.word for w in words], keep_one=False)]  # what came before
            said.extend(words)
        # a loop spread over many short segments ("Thank you." again and again) is cut the same way,
        # but only when it is long: a whole answer may repeat itself a little
        said = said[: drop_loop([w.word for w in said], min_words=LONG_LOOP_WORDS)]
        words_out = tuple(Word(w.word.strip(), round(offset + float(w.start), 3),
                               round(offset + float(w.end), 3)) for w in said)
        return "".join(w.word for w in said).strip(), words_out

    def _timed(self, work: Callable[[], tuple[str, tuple[Word, ...]]], audio_s: float) -> Decoded:
        started = time.perf_counter()
        (text, words), cpu_s = self._cpu.measure(work)
        if cpu_s is None:
            cpu_s = (time.perf_counter() - started) * self.threads
        return Decoded(text, words, cpu_s, audio_s)


async def decode_final(
    engine: Decoder, executor: Executor, audio: np.ndarray, *, offset: float
) -> Decoded:
    """The stored transcript: the whole answer decoded once, words placed on the recording timeline."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(
        executor, lambda: engine.decode(as_float(audio), offset=offset)
    )


class WhisperTranscriber:
    """A `Transcriber`: the loaded Whisper engine and the executor that keeps it off the event loop."""

    def __init__(self, engine: Decoder, executor: Executor) -> None:
        self.engine = engine
        self.executor = executor
        self.queue = LiveQueue(engine.live_slots)
        """Every answer's live decodes wait here for the engine (most urgent first)."""

    @property
    def measures_cpu(self) -> bool:
        return self.engine.measures_cpu

    def live(self, on_decoded: Callable[[Decoded], None], *,
             paused: Callable[[], bool] | None = None) -> LiveTranscript:
        return LiveTranscript(self.engine, self.executor, on_decoded=on_decoded, queue=self.queue,
                              paused=paused)

    async def final(self, audio: np.ndarray, *, offset: float) -> Decoded:
        return await decode_final(self.engine, self.executor, audio, offset=offset)

