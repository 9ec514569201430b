"""The SMS interview stage end to end over Twilio's wire protocol on loopback (issue 18): the outreach
worker (as `serve` builds it) sends the texts through the fake Twilio REST API; the candidate's
replies arrive as signed inbound webhooks. Three questions, a follow-up on a thin answer, a reminder
and a late reply; the thread is stored with times, scored with quotes from the candidate's texts, and
the candidate moves to the next stage. STOP in the middle ends the stage cleanly; an unknown number
gets a polite reply."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from fakes.twilio_rest import FakeTwilioRest
from starlette.testclient import TestClient

from milo_voice.calls.session_store import SessionStore
from milo_voice.outreach.compose import worker_from
from milo_voice.outreach.twilio_signature import signature
from milo_voice.scoring.rubric import Criterion, QuestionRubric
from milo_voice.settings import Secret, Settings
from milo_voice.stages.types import SmsQuestion, SmsSpec, StageSpec
from milo_voice.store.tables import CandidateStatus, StageKind, StageStatus
from milo_voice.web.app import create_app
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.editor import InterviewForm, QuestionForm
from milo_voice.workspace.interviews import Interviews
from milo_voice.workspace.pipeline import Pipeline
from milo_voice.workspace.sms_stage import SmsStages

ACCOUNT, TOKEN, BASE = "AC" + "2" * 32, "twilio-token", "http://testserver"
NOON_LA = datetime(2026, 12, 8, 20, 0, tzinfo=UTC)  # a Tuesday, 12:00 in Los Angeles
SERVICE = QuestionRubric(
    criteria=(
        Criterion(
            id="service",
            name="Customer service",
            anchors={1: "no customer service", 5: "served customers at a busy cafe, calm with complaints"},
        ),
    )
)
SMS = SmsSpec(
    questions=(
        SmsQuestion(text="What customer service work have you done?", rubric=SERVICE, max_follow_ups=1),
        SmsQuestion(text="Which shifts can you work?", max_follow_ups=0),
        SmsQuestion(text="When could you start?", max_follow_ups=0),
    ),
    remind_after_hours=24,
    give_up_after_hours=72,
)
ROBIN, SAM = "+14155550100", "+14155550111"


def inbound(client: TestClient, sender: str, body: str) -> str:
    form = {
        "MessageSid": "SM" + "3" * 32,
        "From": sender,
        "To": "+15005550006",
        "Body": body,
        "AccountSid": ACCOUNT,
    }
    sig = signature(TOKEN, BASE + "/sms/inbound", sorted(form.items()))
    answer = client.post("/sms/inbound", data=form, headers={"X-Twilio-Signature": sig})
    assert answer.status_code == 200
    return answer.text


@pytest.mark.e2e
def test_an_sms_interview_with_a_follow_up_a_reminder_a_late_reply_and_a_stop(
    settings: Settings, store: SessionStore, admin: TestClient
) -> None:
    interviews = Interviews(store.engine)
    row = interviews.create(
        InterviewForm(
            title="Barista",
            role="Barista",
            questions=(QuestionForm("Why?"),),
            stages=(StageSpec(kind=StageKind.SMS, sms=SMS), StageSpec(kind=StageKind.VOICE)),
        )
    )
    interviews.publish(row.slug)
    candidates = Candidates(store.engine)
    robin = candidates.add(slug=row.slug, name="Robin Reader", phone="(415) 555-0100")
    sam = candidates.add(slug=row.slug, name="Sam Stone", phone="(415) 555-0111")
    clock = [NOON_LA]
    with FakeTwilioRest(ACCOUNT, TOKEN) as twilio:
        live = replace(
            settings,
            twilio_account_sid=ACCOUNT,
            twilio_auth_token=Secret(TOKEN),
            twilio_api_url=twilio.base_url,
            sms_from="+15005550006",
        )
        stages = SmsStages(store.engine, live, now=lambda: clock[0])
        worker = worker_from(live, store.engine, before_plan=stages.round)
        assert worker is not None
        worker.outbox.now = lambda: clock[0]

        def texts(to: str) -> list[str]:
            worker.run_once()
            return [m["body"] for m in twilio.messages if m["to"] == to]

        with TestClient(create_app(live, store.engine, now=lambda: clock[0]), base_url=BASE) as client:
            [first] = texts(ROBIN)
            assert first.startswith("Hi Robin, thanks for applying for Barista.")
            assert first.endswith("What customer service work have you done?")
            assert "What customer service" in texts(SAM)[0]

            clock[0] += timedelta(minutes=5)
            inbound(client, ROBIN, "Cafe work.")  # thin: a follow-up
            assert len(texts(ROBIN)) == 2
            inbound(
                client,
                ROBIN,
                "I served customers at a busy cafe for two years and stayed calm with "
                "complaints, making sure every regular got their order right.",
            )
            assert texts(ROBIN)[-1].endswith("Which shifts can you work?")
            inbound(client, SAM, "Retail, two years at the tills and the returns desk.")
            inbound(client, SAM, "STOP")  # in the middle: the stage ends cleanly, nothing more is sent
            sent_to_sam = len(texts(SAM))
            inbound(client, ROBIN, "Mornings and weekends, any day except Thursday evenings.")
            assert texts(ROBIN)[-1].endswith("When could you start?")

            clock[0] += timedelta(hours=25)  # no answer for a day: one reminder
            assert texts(ROBIN)[-1] == "Just a reminder: When could you start?"
            clock[0] += timedelta(hours=1)
            assert texts(ROBIN)[-1].startswith("Just a reminder")  # only one
            inbound(client, ROBIN, "I could start on the 4th of January, after my notice period.")  # late
            closing = texts(ROBIN)[-1]
            assert "last question" in closing
            clock[0] += timedelta(days=5)
            assert len(texts(SAM)) == sent_to_sam
            polite = inbound(client, "+14155550999", "Hello? Who is this?")
            assert "could not match this number" in polite
        worker.stop()  # closes the channels' connections

    pipeline = Pipeline(store.engine)
    done = pipeline.place(robin.id or 0)
    assert (done.position, done.candidate.status) == (
        1,
        CandidateStatus.INVITED.value,
    )  # on to the voice stage
    [result] = [v.result for v in pipeline.views(robin.id or 0) if v.position == 0]
    assert result is not None and result.status == StageStatus.PASSED.value and result.score is not None
    turns = result.answers["sms"]["turns"]
    kinds = [t["kind"] for t in turns]
    assert kinds == [
        "question",
        "answer",
        "follow_up",
        "answer",
        "question",
        "answer",
        "question",
        "reminder",
        "answer",
        "closing",
    ]
    assert all(t["at"] for t in turns)
    said = [t["text"] for t in turns if t["speaker"] == "candidate"]
    assert result.evidence and all(any(e["quote"] in text for text in said) for e in result.evidence)

    stopped = pipeline.place(sam.id or 0)
    assert stopped.candidate.status == CandidateStatus.EVALUATING.value and stopped.position == 0
    [sam_result] = [v.result for v in pipeline.views(sam.id or 0) if v.position == 0]
    assert sam_result is not None and sam_result.status == StageStatus.NOT_PASSED.value
    assert "opted out (STOP)" in sam_result.reason and "after 1 of 3 questions" in sam_result.reason
    profile = admin.get(f"/app/candidates/{robin.id}").text  # the thread on the profile
    assert "Text thread" in profile and "after my notice period" in profile and "(reminder)" in profile
