"""When the interviewer holds or yields the floor: the timing constants for barge-in, false-end
recovery and the onset grace, what counts as noise in a barge-in, and `Floor`, the pure,
clock-driven rules that decide, frame by frame, when the interviewer ducks, goes silent, stops,
or holds an end of turn (tests/dialogue/test_floor.py runs them on synthetic timelines)."""

from __future__ import annotations

from dataclasses import dataclass

from milo_voice.dialogue.text_cues import is_backchannel
from milo_voice.dialogue.turn_policy import TurnPolicy
from milo_voice.media.types import DUCK_GAIN, FRAME_SECONDS, STRONG_DB, is_noise_text

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
EARLY_MUTE = 0.06
"""Seconds of frames at speech level in a row that silence a reply which the candidate may be
continuing, before the VAD confirms the onset (it comes back if no onset follows). Three frames, not
two: clicks on the line are 40 ms at speech level and each cost the candidate a 200-260 ms hole in the
interviewer's sentence. bench/onsets.py, phone audio, 153 resumptions, 271 s of pauses and room-noise
tails: two frames fire 40 times on noise, three 6 times, 20 ms later at the median resumption."""
EARLY_MUTE_STRONG = 0.04
"""...or two frames, when one of them is `STRONG_DB` above the room's noise floor: a click passes the
gate but rarely that far above the floor. bench/onsets.py, 153 resumptions: the same noise fires as three
frames (phone 6, wide-band 10), 10-20 ms sooner at the median and p90; +18 dB adds fires, +22-26 dB
gains less; chosen leaving one speaker out (the same on every fold)."""
UNASKED_AFTER = 2.0
"""Seconds after a barge-in cut a question outside any reply, with nothing but noise heard
since, before the interviewer asks it again."""
EARLY_MUTE_MAX = 0.3
"""An early mute that the VAD has not confirmed as speech within this long is lifted."""
EARLY_LIFT_QUIET = 0.1
"""...and one is lifted sooner only after this long with no frame at speech level (and no onset
pending): a word's first syllable can dip below the level for a frame, and lifting the mute there
let the reply play on for 120 ms before the VAD confirmed the onset (a talk-over of 260 ms)."""
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


@dataclass(frozen=True, slots=True)
class FloorFrame:
    """What the floor rules see of one inbound frame: the candidate's speech and the interviewer's
    playout, both on the media clock. The session builds one per frame; nothing here is live."""

    now: float
    """End of the frame (media time, s)."""
    speech_since: float | None = None
    """Start of the VAD-confirmed speech run going on now (None: no confirmed speech)."""
    onset_pending: float | None = None
    """Start of speech that may yet be confirmed as an onset (the segmenter's window)."""
    loud: bool = False
    """This frame is at speech level (the noise-floor gate passed it)."""
    busy: bool = False
    """A reply is being prepared or is still playing."""
    audible: bool = False
    """Interviewer audio is playing at `now`."""
    muted: bool = False
    """The interviewer is being stopped (a cut is under way)."""
    playout_left: float = 0.0
    """Seconds of the reply still to play."""
    closing_in_reply: bool = False
    """The reply now playing holds the closing line."""
    held_eot_at: float | None = None
    """When the held answer's turn was ended (None: no answer is held)."""
    held_final: bool = False
    """The held answer ended on the length cap: nothing resumes it."""
    repeats: int = 0
    """Barge-ins in a row that were only noise."""


@dataclass(frozen=True, slots=True)
class Duck:
    """Set the interviewer's playout gain: 1.0 lifts a duck; `onset` is the speech that caused it."""

    gain: float
    onset: float | None = None
    confirmed: bool = False


@dataclass(frozen=True, slots=True)
class StopReply:
    """Cut the interviewer off: the candidate's speech since `since` takes the floor."""

    since: float
    false_end: bool
    """The speech continues the held answer (a false end of turn), not a barge-in on a new one."""


def may_resume(frame: FloorFrame, speech_at: float) -> bool:
    """Speech starting at `speech_at` may continue the held answer: it is not final, the speech
    came within the recovery window, and "speech" has not twice been only noise."""
    if frame.held_eot_at is None or frame.held_final or frame.repeats >= MAX_REPEATS:
        return False
    return frame.held_eot_at - ONSET_LAG <= speech_at <= frame.held_eot_at + RECOVERY_WINDOW


class Floor:
    """Who holds the floor, frame by frame: ducking, early mute, false ends, barge-in and the onset
    grace. Pure and clock-driven (media time in, decisions out), like `TurnPolicy`; the session
    carries the decisions out."""

    def __init__(self) -> None:
        self.loud_at = -1.0
        """End of the latest frame at speech level."""
        self.loud_run = 0.0
        """Seconds of frames at speech level in a row, up to now."""
        self.strong_at = -1.0
        """End of the latest frame `STRONG_DB` above the noise floor."""
        self.ducked = False
        self.early_mute_at: float | None = None
        """When an unconfirmed onset silenced the reply."""
        self.eot_due: float | None = None
        """When an end of turn first came due and waited for a possible onset."""

    def hear(self, frame_end: float, loud: bool, above_floor_db: float = 0.0) -> None:
        """Count one inbound frame's level (called for every frame, before the decisions)."""
        if loud:
            self.loud_at = frame_end
        if loud and above_floor_db >= STRONG_DB:
            self.strong_at = frame_end
        self.loud_run = self.loud_run + FRAME_SECONDS if loud else 0.0

    def _onset_heard(self, now: float) -> bool:
        """Enough frames at speech level for an early mute: three, or two with a strong one."""
        strong = now - self.strong_at <= FRAME_SECONDS + 1e-9
        return self.loud_run >= (EARLY_MUTE_STRONG if strong else EARLY_MUTE) - 1e-9

    def duck(self, frame: FloorFrame) -> Duck | None:
        """Yield the moment the candidate speaks over the interviewer: silent after 40-60 ms when it
        may be a false end (lifted if unconfirmed), else `DUCK_GAIN`; back to 1.0 when the speech stops."""
        since = frame.speech_since
        pending = frame.onset_pending if since is None else None
        if self.ducked:
            early = self.early_mute_at
            lapsed = early is not None and since is None and frame.now - early >= EARLY_MUTE_MAX - 1e-9
            quiet = (self.loud_run == 0 if early is None
                     else frame.now - self.loud_at >= EARLY_LIFT_QUIET - 1e-9)
            if (since is None and pending is None and quiet) or lapsed:
                self.ducked = False
                self.early_mute_at = None
                return Duck(1.0)
            if since is not None:
                self.early_mute_at = None  # confirmed: the false-end watch takes over
            return None
        if not (frame.busy and frame.audible):
            return None
        early_at = pending if pending is not None else frame.now - self.loud_run
        if since is not None:
            gain, onset = (0.0 if may_resume(frame, since) else DUCK_GAIN), since
        elif self._onset_heard(frame.now) and may_resume(frame, early_at):
            gain, onset = 0.0, early_at
            self.early_mute_at = frame.now
        else:
            return None
        self.ducked = True
        return Duck(gain, onset, since is not None)

    def cleared(self) -> None:
        """The transport's playout was cleared (which also resets its gain)."""
        self.ducked = False

    def watch(self, frame: FloorFrame) -> StopReply | None:
        """While the interviewer speaks: a false end (the candidate resumes the held answer for
        `FALSE_END_RUN`: a click or a noise burst does not cut the interviewer off mid-word), else
        a barge-in (`BARGE_IN_SPEECH` of speech over it, not in its last `BARGE_IN_TAIL`, never over
        the closing line)."""
        since = frame.speech_since
        if since is None or frame.muted:
            return None
        if may_resume(frame, since) and frame.now - since >= FALSE_END_RUN - 1e-9:
            return StopReply(since, false_end=True)
        if not frame.audible or frame.repeats >= MAX_REPEATS or frame.playout_left < BARGE_IN_TAIL:
            return None
        if frame.closing_in_reply:
            return None  # the closing is said to the end: nothing after it could be answered anyway
        if frame.now - since >= BARGE_IN_SPEECH:
            return StopReply(since, false_end=False)
        return None

    def hold_end_of_turn(self, now: float, onset_pending: float | None) -> bool:
        """An end of turn is due: hold it while the last frames (an unconfirmed speech frame, or a
        loud one) may be the candidate going on, at most `ONSET_GRACE` from when it came due."""
        loud = now - self.loud_at <= LOUD_RECENT + 1e-9
        if onset_pending is None and not loud:
            self.eot_due = None
            return False
        if self.eot_due is None:
            self.eot_due = now
        if now - self.eot_due < ONSET_GRACE - 1e-9:
            return True
        self.eot_due = None
        return False

    def no_end_due(self) -> None:
        """The policy decided something other than an end of turn: the grace starts afresh."""
        self.eot_due = None
