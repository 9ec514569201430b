"""Shared by the phone tests: the interview script, answers and transcript helpers."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import SPEECH, manifest
from fakes.twilio_caller import CallerAnswer

from milo_voice.dialogue.script import AnswerShape, InterviewScript, Question
from milo_voice.media.pcm import read_wav

SCRIPT = InterviewScript(
    title="Phone: two questions",
    questions=(
        Question("What is your favourite recipe?", AnswerShape.EXPLANATION, max_follow_ups=0),
        Question("What do you know about history?", AnswerShape.EXPLANATION, max_follow_ups=0),
    ),
)
ANSWERS = ["librispeech_367_a03", "librispeech_3331_a02"]


def words(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9' ]", " ", text.lower()).split())


def caller_answer(answer_id: str, *, talk_over: float | None = None) -> CallerAnswer:
    entry = manifest()[answer_id]
    return CallerAnswer(read_wav(SPEECH / str(entry["audio"])), float(entry["speech_end_s"]), talk_over)


def reference(answer_id: str) -> str:
    return words(str(manifest()[answer_id]["transcript"]))


def recording_exists(path: str | None) -> bool:
    return path is not None and Path(path).is_file() and Path(path).stat().st_size > 0
