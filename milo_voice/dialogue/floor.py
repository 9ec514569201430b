"""When the interviewer holds or yields the floor: the session's timing constants for barge-in,
false-end recovery and the onset grace, and what counts as noise in a barge-in."""

from __future__ import annotations

from milo_voice.dialogue.text_cues import is_backchannel
from milo_voice.dialogue.turn_policy import TurnPolicy
from milo_voice.media.asr import is_noise_text

BARGE_IN_SPEECH = 0.5
"""Seconds of candidate speech over the interviewer before it yields (issue 4 refines this)."""
BARGE_IN_TAIL = 0.6
"""No barge-in in the last this-many seconds of a reply: it is as good as said."""


FALSE_END_RUN = 0.25
"""Seconds of resumed speech that stop a reply as a false end (about 100 ms more than the VAD's
own onset: room-noise bursts in real recordings pass the onset but rarely last this long)."""
RECOVERY_WINDOW = 3.0
"""Seconds after the interviewer decided the answer was over during which the candidate's speech
stops the reply at once and continues the same answer (a false end)."""
ONSET_LAG = 0.3
"""Speech that began up to this long before the end of turn was decided, but that the VAD had
not yet confirmed (its onset takes 0.12-0.2 s), also continues the answer."""
EARLY_MUTE = 0.04
"""Speech frames in a row that silence a reply which the candidate may be continuing, before the
VAD confirms the onset (it comes back if no onset follows)."""
UNASKED_AFTER = 2.0
"""Seconds after a barge-in cut a question outside any reply, with nothing but noise heard
since, before the interviewer asks it again."""
EARLY_MUTE_MAX = 0.3
"""An early mute that the VAD has not confirmed as speech within this long is lifted."""
LOUD_RECENT = 0.04
"""A frame at speech level this recently (s) may be the start of an onset."""
ONSET_GRACE = 0.3
"""An end of turn waits at most this long for a possible onset in progress to be confirmed: a
candidate who resumes just as the wait runs out is not talked over."""


def is_noise(text: str) -> bool:
    """A barge-in that transcribes to one word, to Whisper's noise words, or to a backchannel
    ("mm-hm", "okay, right") was not an attempt to take the turn."""
    return len(text.split()) <= 1 or is_noise_text(text) or is_backchannel(text)


MAX_REPEATS = 2
"""...at most this many times in a row; then the interviewer goes on without waiting for silence."""
FINAL_DECODE_TIMEOUT = 60.0


def noise_only(policy: TurnPolicy, now: float, *, since: float) -> bool:
    """The barge-in that started this answer was heard as noise (its runs were wound back) and
    nothing has followed for `UNASKED_AFTER` seconds since `since`."""
    return not policy.heard_speech and not policy.speaking and now - since >= UNASKED_AFTER - 1e-9
