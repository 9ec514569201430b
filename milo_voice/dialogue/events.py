"""Timed events: every latency-relevant step of a session, stamped on a monotonic clock.

The session emits them; whoever wires the session (web, the simulate command) persists them per
turn. Names are fixed strings so benchmarks can parse them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

# Event names, in the order they usually happen within one turn.
SPEECH_START = "speech_start"
SPEECH_END = "speech_end"  # candidate stopped speaking (VAD edge), media time of the edge
PAUSE_DECODED = "pause_decoded"  # a live segment decode finished
TURN_PROB = "turn_prob"  # Smart Turn probability at a pause
EOT_DECIDED = "eot_decided"  # the policy ended the candidate's turn
ASR_FINAL = "asr_final"  # live transcript complete for the turn
PLAN_FIRST_TOKEN = "plan_first_token"
PLAN_FIRST_SENTENCE = "plan_first_sentence"
PLAN_FALLBACK = "plan_fallback"  # LLM failed or was slow; offline move used
TTS_FIRST_AUDIO = "tts_first_audio"
AUDIO_OUT_FIRST_FRAME = "audio_out_first_frame"
AUDIO_OUT_END = "audio_out_end"
BARGE_IN = "barge_in"
DUCK = "duck"  # the candidate spoke over the interviewer: its volume dropped (on=True) or came back
FALSE_END = "false_end"  # the candidate resumed right after the end of turn: reply stopped, answer merged
REQUEST = "request"  # "let me think" / "repeat the question": acknowledged, not an answer
BARGE_IN_IGNORED = "barge_in_ignored"  # the barge-in was noise; the interrupted move was said again
TRANSCRIPT_STORED = "transcript_stored"  # background whole-answer decode done
SESSION_START = "session_start"
SESSION_END = "session_end"


@dataclass(frozen=True, slots=True)
class TimedEvent:
    """One step, with both clocks: media time (position in the recording) and monotonic time."""

    name: str
    media_time: float
    """Seconds since the call started, on the recording's timeline."""
    mono: float
    """time.monotonic() when the event happened (for latencies inside one process)."""
    turn_index: int
    """Index of the turn it belongs to (-1: the session as a whole)."""
    data: dict[str, float | int | str] = field(default_factory=dict)


EventSink = Callable[[TimedEvent], None]
