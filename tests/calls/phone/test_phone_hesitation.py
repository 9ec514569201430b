"""A phone call in which the candidate's own natural hesitation is not talked into (issue 15).

The real app on loopback uvicorn (real tiny.en, Smart Turn, Piper, webrtcvad, SQLite) and the fake
Twilio caller (8 kHz mu-law in real time, marks echoed, `clear` honoured) play one answer that
holds a natural pause of the speaker's: nothing the interviewer says may be audible to the caller
from the pause's start to its end, the interviewer must reply soon after the true end of speech,
and the stored transcript must be one answer with the words from both sides of the pause.

The corpus (/work/shared/data/speech, README.md) has no *natural* hold of 1.2-1.4 s: every hold
of that length has an inserted pause in it or is part of one's room-noise filler. The longest
natural hold is librispeech_533_a02's 6.59-7.75 s (1.16 s, between two sentences of one source
utterance: "...to go to my room upstairs. | How are your nerves tonight?"); the next is
librispeech_2609_a01's 1.00 s. This test plays a cut of 533_a02 around that hold: real audio only,
cut in low-energy room noise, and ended with the recording's own 6 s tail spliced on with a 10 ms
cross-fade (as the corpus builder spliced its filler; never digital zero).

It runs once per question shape, since the shape decides which rule guards the hold (see `SHAPES`):
the explanation's word floor, or Smart Turn and `min_silence` for a short fact.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pytest
from conftest import REPO, SPEECH, manifest
from fakes.loopback import ServerThread
from fakes.twilio_caller import TICK, CallerAnswer, CallLog
from phone_harness import words
from test_phone_e2e import TOKEN, Phone, call, dial, session_of

from milo_voice.calls.engines import LazyRuntime, Runtime, load_runtime
from milo_voice.calls.phone.numbers import PhoneStore
from milo_voice.calls.session_store import SessionStore
from milo_voice.dialogue import events as ev
from milo_voice.dialogue.script import AnswerShape, InterviewScript, Question
from milo_voice.media import mulaw
from milo_voice.media.pcm import read_wav
from milo_voice.settings import Secret, Settings
from milo_voice.store.db import create_engine, migrate
from milo_voice.web.app import create_app
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.interviews import Interviews

ANSWER = "librispeech_533_a02"
HOLD = (6.59, 7.75)
"""The natural hold (s into the corpus answer), as the manifest lists it."""
CUT = (2.35, 11.40)
"""The piece of the answer played (s): from inside the pause after "Ms. Ines," (room noise at about
-53 dBFS) to inside the room noise after "tonight?" (the builder's filler, about -53 dBFS)."""
TAIL = 27.50
"""The answer's own room noise after its true end (27.32 s), spliced on after the cut."""
FADE = 160
"""Cross-fade (samples at 16 kHz: 10 ms) between the cut and the tail, as the corpus builder used."""
BEFORE = {"stopping", "room", "upstairs"}
AFTER = {"nerves", "tonight"}
"""Words said before and after the hold (the cut's transcript: "he said, stopping me as I was about
to go to my room upstairs. How are your nerves tonight?")."""

AUDIBLE_DBFS = -50.0
"""A heard frame at least this loud (RMS, dBFS) is interviewer audio the candidate hears: the same
threshold as bench/turns_score.py's `AUDIBLE_DBFS` (used by bench/turns_wire.py on the heard log)."""
REPLY_WITHIN = 4.5
"""The interviewer's reply must be audible this soon (s) after the true end of speech: the longest
wait (`max_silence`, 4.0 s, which the explanation case's 19 words get at the end) plus a margin
for a loaded machine (that case replies 3.85 s after the end)."""

SHAPES = {
    AnswerShape.EXPLANATION: ("+15005550006", "+14155550142"),
    AnswerShape.SHORT_FACT: ("+15005550007", "+14155550143"),
}
"""Per question shape: the number called and the caller. With an explanation (20 words expected)
the 13 words before the hold are too few to end the answer, so the policy waits `max_silence`
there; with a short fact (1 word expected, patience 0.8) Smart Turn's verdict on the hold decides
(`min_silence`, which a patience below 1 never shortens: at 0.8 x 1.55 s this hold was talked into)."""


def script(shape: AnswerShape) -> InterviewScript:
    question = Question("How did you feel before your last big day?", shape, max_follow_ups=0)
    return InterviewScript(title=f"Phone: one {shape} question", questions=(question,))


def hesitant_answer() -> tuple[CallerAnswer, tuple[float, float]]:
    """The cut played by the caller, and its natural hold in seconds into the cut."""
    entry = manifest()[ANSWER]
    holds = [tuple(h) for h in entry["holds"]]  # type: ignore[attr-defined]
    assert HOLD in holds
    inserted = [(p["at_s"] - 0.05, p["at_s"] + p["inserted_s"] + 0.05)
                for p in entry["inserted_pauses"]]  # type: ignore[attr-defined]
    assert not any(lo < HOLD[1] and HOLD[0] < hi for lo, hi in inserted), "the hold must be natural"
    # the cut holds no other pause of 0.3 s or more: the only one the interviewer could talk into
    assert [h for h in holds if CUT[0] < h[1] and h[0] < CUT[1]] == [(1.7, 2.82), HOLD, (9.14, 11.63)]
    speech_end = 9.14  # the hold after "tonight?" starts: in the cut, the true end of speech
    samples = read_wav(SPEECH / str(entry["audio"])).astype(np.float64)
    cut = samples[round(CUT[0] * 16_000) : round(CUT[1] * 16_000)]
    tail = samples[round(TAIL * 16_000) :]
    ramp = np.linspace(0.0, 1.0, FADE)
    joined = cut[-FADE:] * (1 - ramp) + tail[:FADE] * ramp
    clip = np.concatenate([cut[:-FADE], joined, tail[FADE:]]).round().astype(np.int16)
    hold = (HOLD[0] - CUT[0], HOLD[1] - CUT[0])
    return CallerAnswer(clip, speech_end - CUT[0]), hold


def frame_dbfs(frame: bytes) -> float:
    """RMS level of one heard mu-law frame, dB full scale (as bench/turns_score.py's `frame_dbfs`)."""
    samples = mulaw.decode(frame).astype(np.float64)
    rms = float(np.sqrt(np.mean(np.square(samples)))) if len(samples) else 0.0
    return 20 * math.log10(rms / 32768) if rms > 0 else -200.0


def audible(log: CallLog) -> list[float]:
    """Call times of the interviewer frames the caller heard at `AUDIBLE_DBFS` or louder."""
    return [t for t, frame in log.heard if frame_dbfs(frame) >= AUDIBLE_DBFS]


def turn_evidence(phone: Phone, session_id: int, start: float) -> str:
    """The server's turn events (answer time: seconds into the cut) while the answer played."""
    wanted = (ev.SPEECH_START, ev.SPEECH_END, ev.TURN_PROB, ev.EOT_DECIDED, ev.FALSE_END, ev.BARGE_IN,
              ev.DUCK, ev.AUDIO_OUT_FIRST_FRAME)
    lines = [f"  {e.name} t={float(e.media_time) - start:+.3f} {dict(e.data or {})}"
             for e in phone.store.events(session_id) if e.name in wanted and float(e.media_time) >= start - 1]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def runtime() -> Iterator[Runtime]:
    rt = load_runtime(Settings(models_dir=REPO / "models"))
    yield rt
    rt.close()


@pytest.fixture(scope="module")
def phone(tmp_path_factory: pytest.TempPathFactory, runtime: Runtime) -> Iterator[Phone]:
    """The app, with one interview (one question) per shape in `SHAPES`, each on its own number."""
    tmp = tmp_path_factory.mktemp("phone-hesitation")
    server = ServerThread()
    settings = Settings(database_url=f"sqlite:///{tmp / 'milo.db'}", recordings_dir=tmp / "rec",
                        models_dir=REPO / "models", public_url=server.base_url,
                        twilio_auth_token=Secret(TOKEN))
    migrate(settings.database_url)
    store = SessionStore(create_engine(settings.database_url))
    phones = PhoneStore(store.engine)
    interviews = Interviews(store.engine)
    first = 0
    for shape, (number, _) in SHAPES.items():
        interview_id = interviews.add_script(script(shape), slug=f"hesitation-{shape}")
        phones.add_number(number, interview_id)
        first = first or interview_id
    server.start(create_app(settings, store.engine, LazyRuntime(settings, runtime)))
    yield Phone(server, settings, store, phones, first, runtime)
    server.stop()


@pytest.mark.e2e
@pytest.mark.parametrize("shape", list(SHAPES))
def test_a_natural_hesitation_is_not_talked_into_and_the_reply_follows_the_true_end(
    phone: Phone, shape: AnswerShape
) -> None:
    number, caller = SHAPES[shape]
    mapped = phone.phones.interview_for_number(number)
    assert mapped is not None
    Candidates(phone.store.engine).enrol(interview_id=mapped, name=f"Hesitant {shape}", phone=caller)
    answer, (hold_start, hold_end) = hesitant_answer()
    ticket = dial(phone, caller, to=number)
    log = call(phone, ticket, {"answers": [answer], "max_duration": 50.0}, 70)
    session_id, turns = session_of(phone, ticket)
    assert len(log.answers) == 1, "the caller never heard the question"
    start = log.answers[0].start
    end = log.answers[0].speech_end
    heard = audible(log)
    evidence = turn_evidence(phone, session_id, start)

    # nothing the interviewer said was audible from the hold's start to its end (call time)
    in_hold = [t for t in heard if t + TICK > start + hold_start and t < start + hold_end]
    assert not in_hold, (
        f"interviewer audible {(in_hold[0] - start - hold_start) * 1000:.0f} ms into the "
        f"{hold_end - hold_start:.2f} s natural hold ({len(in_hold)} frames inside it); the server's "
        f"turn events (s into the answer; hold {hold_start:.2f}-{hold_end:.2f}, true end "
        f"{answer.speech_end:.2f}):\n{evidence}")
    # the first thing heard after the answer started is the reply, soon after the true end of speech
    after_start = [t for t in heard if t >= start]
    assert after_start, f"no reply at all; the server's turn events:\n{evidence}"
    reply = after_start[0]
    assert end - TICK <= reply <= end + REPLY_WITHIN, (
        f"first interviewer audio {reply - end:+.2f} s from the true end of speech; the server's turn "
        f"events (s into the answer):\n{evidence}")

    # one answer, not split at the hesitation: its transcript has words from both sides of the hold
    said = [t for t in turns if t.speaker == "candidate"]
    assert len(said) == 1, [t.text for t in said]
    text = set(words(said[0].text).split())
    assert text & BEFORE and text & AFTER, said[0].text
