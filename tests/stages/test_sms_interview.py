"""The SMS interview engine, pure and clock-driven: which texts go out and when (follow-ups, one reminder,
the give-up time, STOP), the state as JSON, and the thread scored with quotes from the candidate's texts."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from milo_voice.errors import MiloError
from milo_voice.scoring.result import Judgement
from milo_voice.scoring.rubric import Criterion, CriterionKind, QuestionRubric
from milo_voice.scoring.scorer import QuestionInput, Scorer
from milo_voice.scoring.transcript import CANDIDATE, INTERVIEWER
from milo_voice.stages.sms_interview import (
    GAVE_UP,
    MAX_ANSWER,
    MAX_TEXT,
    SmsState,
    Step,
    judge_sms,
    opt_out,
    reply,
    start,
    tick,
    transcript,
)
from milo_voice.stages.types import SmsQuestion, SmsSpec, StageOutcome, StageSpec
from milo_voice.store.tables import StageKind

T0 = datetime(2026, 12, 8, 20, 0, tzinfo=UTC)
SERVICE = QuestionRubric(criteria=(
    Criterion(id="service", name="Customer service",
              anchors={1: "no customer service", 5: "served customers at a busy cafe, calm with complaints"}),
))
PERMIT = QuestionRubric(criteria=(
    Criterion(id="permit", name="Right to work", kind=CriterionKind.DEALBREAKER, required_answer="yes"),
))
FOLLOW_UP = "Tell me more: where was that, and for how long?"
SPEC = SmsSpec(
    questions=(
        SmsQuestion(
            text="What customer service work have you done?", rubric=SERVICE, follow_ups=(FOLLOW_UP,)
        ),
        SmsQuestion(text="Which shifts can you work?", max_follow_ups=0),
        SmsQuestion(text="When could you start?", max_follow_ups=0),
    ),
    remind_after_hours=24,
    give_up_after_hours=72,
)
INTRO = ("Hi Robin, thanks for applying for Barista. A few quick questions by text: answer in your own "
         "words, whenever suits you. Reply STOP to opt out.")
THIN = "Cafe work."
FULL = ("I served customers at a busy cafe for two years and stayed calm with complaints, making sure "
        "every regular got their order right.")
SHIFTS = "Mornings and weekends, any day except Thursday evenings."
START = "I could start on the 4th of January, after my notice period."


def hours(n: float) -> datetime:
    return T0 + timedelta(hours=n)


def opened(spec: SmsSpec = SPEC) -> SmsState:
    return start(spec, first_name="Robin", role="Barista", now=T0).state


def after(state: SmsState, *texts: str, at: float = 0.1) -> SmsState:
    for text in texts:
        state = reply(SPEC, state, text, hours(at)).state
    return state


def stage(rubric: QuestionRubric | None = SERVICE, pass_score: float | None = None) -> StageSpec:
    first = SPEC.questions[0].model_copy(update={"rubric": rubric})
    sms = SPEC.model_copy(update={"questions": (first, *SPEC.questions[1:])})
    return StageSpec(kind=StageKind.SMS, sms=sms, pass_score=pass_score)


def judge(state: SmsState, spec: StageSpec | None = None, scorer: Scorer | None = None) -> StageOutcome:
    return asyncio.run(judge_sms(spec or stage(), state, scorer=scorer))


def test_a_three_question_exchange_with_one_follow_up_on_a_thin_answer() -> None:
    first = start(SPEC, first_name="Robin", role="Barista", now=T0)
    assert first.send == (f"{INTRO}\n\nWhat customer service work have you done?",)
    steps = [first]
    for minutes, text in ((5, THIN), (9, FULL), (20, SHIFTS), (30, START)):
        steps.append(reply(SPEC, steps[-1].state, text, T0 + timedelta(minutes=minutes)))
    assert [s.send for s in steps[1:]] == [
        (FOLLOW_UP,),
        ("Thank you. Which shifts can you work?",),
        ("Thanks, that's helpful. When could you start?",),
        ("Got it, thank you. Thank you! That was the last question. The hiring team will be in touch.",),
    ]
    state = steps[-1].state
    assert (state.finished, state.ended) == (True, "completed")
    assert [(t.speaker, t.kind, t.question_index) for t in state.turns] == [
        (INTERVIEWER, "question", 0), (CANDIDATE, "answer", 0), (INTERVIEWER, "follow_up", 0),
        (CANDIDATE, "answer", 0), (INTERVIEWER, "question", 1), (CANDIDATE, "answer", 1),
        (INTERVIEWER, "question", 2), (CANDIDATE, "answer", 2), (INTERVIEWER, "closing", 2),
    ]
    sent = [t.text for t in state.turns if t.speaker == INTERVIEWER]
    assert sent == [body for s in steps for body in s.send]
    assert [t.at for t in state.turns][-2:] == [T0 + timedelta(minutes=30)] * 2
    assert reply(SPEC, state, "One more thing!", hours(1)) == Step(state)  # finished: nothing changes
    assert tick(SPEC, state, hours(500)) == Step(state)


def test_a_missing_first_name_reads_hi_there_and_an_answer_is_stripped_and_capped() -> None:
    first = start(SPEC, first_name="", role="Barista", now=T0)
    assert first.send[0].startswith("Hi there, thanks for applying for Barista.")
    state = reply(SPEC, first.state, f"  {FULL}  ", hours(1)).state
    assert state.turns[-2].text == FULL
    long = reply(SPEC, first.state, "word " * 1000, hours(1)).state
    assert len(long.turns[1].text) <= MAX_ANSWER


def test_an_empty_text_is_no_answer() -> None:
    state = opened()
    assert reply(SPEC, state, "   \n", hours(1)) == Step(state)


def test_every_text_fits_and_a_long_question_is_cut_politely() -> None:
    long_question = "Tell us about " + "the busiest shift you ever worked and what you did " * 9
    intro = SmsSpec.model_fields["intro"].default + " " + "We read every answer ourselves. " * 5
    spec = SmsSpec(intro=intro, questions=(
        SmsQuestion(text=long_question[:480], follow_ups=("Please say more " * 60,)),
        SmsQuestion(text="x" * 480),
    ))
    first = start(spec, first_name="Robin", role="Barista", now=T0)
    head, cut = first.send[0].split("\n\n")
    assert len(first.send[0]) <= MAX_TEXT
    assert head == " ".join(intro.split()).format(first_name="Robin", role="Barista")  # the intro whole
    assert cut.endswith("…") and long_question.startswith(cut[:-1] + " ")  # at a word
    follow = reply(spec, first.state, "Busy.", hours(1))
    assert follow.state.turns[-1].kind == "follow_up" and len(follow.send[0]) <= MAX_TEXT
    reminder = tick(spec, follow.state, hours(1 + 24)).send[0]
    assert reminder.startswith("Just a reminder: Please say more") and len(reminder) < 480
    nxt = reply(spec, follow.state, "Very busy.", hours(2))
    assert len(nxt.send[0]) <= MAX_TEXT and nxt.state.question_index == 1
    assert len(tick(spec, nxt.state, hours(2 + 24)).send[0]) < 480


def test_one_reminder_at_remind_after_and_none_before() -> None:
    state = opened()
    assert tick(SPEC, state, hours(24) - timedelta(seconds=1)) == Step(state)
    step = tick(SPEC, state, hours(24))
    assert step.send == ("Just a reminder: What customer service work have you done?",)
    assert step.state.reminded and step.state.turns[-1].kind == "reminder"
    for at in (24, 25, 48, 71.9):
        assert tick(SPEC, step.state, hours(at)) == Step(step.state)


def test_give_up_at_give_up_after_counted_from_the_prompt_and_nothing_sent_afterwards() -> None:
    reminded = tick(SPEC, opened(), hours(30)).state
    assert tick(SPEC, reminded, hours(72) - timedelta(seconds=1)).send == ()
    step = tick(SPEC, reminded, hours(72))
    assert step.send == (GAVE_UP,)
    assert (step.state.finished, step.state.ended, step.state.turns[-1].kind) == (True, "no_reply", "timeout")
    done = step.state
    assert tick(SPEC, done, hours(200)) == Step(done)
    assert reply(SPEC, done, "Sorry, I was away!", hours(200)) == Step(done)
    assert opt_out(done, hours(200)) == done
    late_first_tick = tick(SPEC, opened(), hours(80))  # no reminder first when the clock is already past
    assert late_first_tick.send == (GAVE_UP,) and late_first_tick.state.ended == "no_reply"


def test_a_late_reply_after_the_reminder_continues_and_starts_a_new_wait() -> None:
    reminded = tick(SPEC, opened(), hours(25)).state
    step = reply(SPEC, reminded, FULL, hours(30))
    assert step.send == ("Thank you. Which shifts can you work?",)
    state = step.state
    assert (state.question_index, state.reminded, state.finished) == (1, False, False)
    assert tick(SPEC, state, hours(30 + 24) - timedelta(seconds=1)).send == ()
    again = tick(SPEC, state, hours(30 + 24))
    assert again.send == ("Just a reminder: Which shifts can you work?",)
    assert tick(SPEC, again.state, hours(30 + 72) - timedelta(seconds=1)).send == ()  # not from T0
    assert tick(SPEC, again.state, hours(30 + 72)).state.ended == "no_reply"


def test_a_follow_up_waits_like_a_question_and_its_reminder_repeats_it() -> None:
    state = after(opened(), THIN)
    step = tick(SPEC, state, hours(0.1 + 24))
    assert step.send == (f"Just a reminder: {FOLLOW_UP}",)


def test_stop_mid_way_ends_it_and_later_texts_send_nothing() -> None:
    state = after(opened(), FULL)
    stopped = opt_out(state, hours(1))
    assert (stopped.finished, stopped.ended, stopped.turns) == (True, "opted_out", state.turns)
    assert reply(SPEC, stopped, "Actually, mornings.", hours(2)) == Step(stopped)
    assert tick(SPEC, stopped, hours(100)) == Step(stopped)


def test_the_state_round_trips_through_json_with_its_offsets() -> None:
    pacific = timezone(timedelta(hours=-8))
    state = start(SPEC, first_name="Robin", role="Barista", now=T0.astimezone(pacific)).state
    state = tick(SPEC, after(state, THIN), hours(30)).state
    stored = json.loads(json.dumps(state.to_json()))
    assert stored["turns"][0]["at"] == "2026-12-08T12:00:00-08:00"
    back = SmsState.from_json(stored)
    assert back == state and back.turns[0].at.utcoffset() == timedelta(hours=-8)
    assert back.to_json() == stored
    done = opt_out(back, hours(31))
    assert SmsState.from_json(json.loads(json.dumps(done.to_json()))) == done


def test_times_without_a_zone_are_refused() -> None:
    with pytest.raises(MiloError):
        start(SPEC, first_name="Robin", role="Barista", now=datetime(2026, 12, 8, 12, 0))
    with pytest.raises(MiloError):
        SmsState.from_json({"turns": [{"speaker": "candidate", "text": "Hi", "at": "2026-12-08T12:00:00",
                                       "question_index": 0, "kind": "answer"}]})


def test_the_transcript_keeps_the_texts_verbatim_with_seconds_since_the_first() -> None:
    state = after(opened(), THIN, FULL, at=2)
    utterances = transcript(state).utterances
    assert [u.index for u in utterances] == list(range(len(state.turns)))
    assert [u.text for u in utterances] == [t.text for t in state.turns]
    assert [u.start_s for u in utterances] == [0.0, 7200.0, 7200.0, 7200.0, 7200.0]
    assert [u.is_follow_up for u in utterances] == [False, False, True, False, False]
    assert [u.question_position for u in utterances] == [0, 0, 0, 0, 1]
    assert [u.text for u in transcript(state).answers(0)] == [THIN, FULL]


def test_judged_with_verified_quotes_from_the_candidates_own_texts() -> None:
    state = after(opened(), THIN, FULL, SHIFTS, START)
    outcome = judge(state)
    assert outcome.passed is True and not outcome.knocked_out and outcome.score is not None
    assert outcome.evidence and all(e.source == "Q1" for e in outcome.evidence)
    assert all(e.quote in FULL or e.quote in THIN for e in outcome.evidence)
    assert {"card", "ended", "answered"} <= set(outcome.detail)
    assert (outcome.detail["ended"], outcome.detail["answered"]) == ("completed", 3)
    assert judge(state, stage(pass_score=80)).passed is True
    weak = judge(after(opened(), THIN, "Some retail.", SHIFTS, START), stage(pass_score=80))
    assert weak.passed is False and "below the pass score 80" in weak.reason


def test_a_failed_dealbreaker_knocks_out_with_the_verified_quote() -> None:
    state = after(opened(), "No, I am not allowed to work here yet.", SHIFTS, START)
    outcome = judge(state, stage(PERMIT))
    assert outcome.knocked_out and outcome.passed is False
    [quote] = outcome.evidence
    assert quote.source == "Q1" and quote.quote in state.turns[1].text


class Inventing:
    """A scorer that fails the dealbreaker with a quote the candidate never wrote."""

    name, label, model = "fake", "Fake", ""

    def fingerprint(self, question: QuestionInput) -> str:
        return question.question

    async def judge(self, question: QuestionInput) -> list[Judgement]:
        return [Judgement("permit", None, False, "Not allowed to work.", ("I have no permit at all",))]


def test_no_knock_out_without_a_verified_quote() -> None:
    state = after(opened(), "Yes, I can work here.", SHIFTS, START)
    outcome = judge(state, stage(PERMIT), scorer=Inventing())
    assert not outcome.knocked_out and outcome.evidence == ()
    assert outcome.detail["card"]["needs_review"] is True


def test_an_interview_that_ended_early_goes_to_a_person() -> None:
    answered_one = after(opened(), FULL)
    no_reply = tick(SPEC, answered_one, hours(0.1 + 72)).state
    outcome = judge(no_reply)
    assert outcome.passed is None and not outcome.knocked_out
    assert "no reply" in outcome.reason and "after 1 of 3 questions" in outcome.reason
    assert (outcome.detail["ended"], outcome.detail["answered"]) == ("no_reply", 1)
    stopped = judge(opt_out(opened(), hours(1)), stage(pass_score=50))
    assert stopped.passed is None and "opted out (STOP)" in stopped.reason
    assert "after 0 of 3 questions" in stopped.reason and "card" not in stopped.detail
