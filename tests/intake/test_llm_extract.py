"""The optional LLM pass over resumes (issue 17): over the real OpenAI wire protocol (a loopback
server), it fills only fields the offline extractor left empty, only with values printed in the
resume; where the offline guess was doubted and the model disagrees, the recruiter is told; a
made-up value, a server error or a malformed reply leaves the offline result."""

from __future__ import annotations

import json

from scorer.json_llm_server import JsonLlmServer

from milo_voice.intake.contact_fields import extract_contacts
from milo_voice.intake.llm_extract import LLM_CONFIDENCE, LlmExtractor, found_in

RESUME = """Jordan Q. Rivera
Warehouse lead
Reach me: jordan.rivera@example.com | cell 512 555 0142 | Austin
EXPERIENCE
Forklift operator, 2019-2024
"""


def answering(values: dict[str, str]) -> JsonLlmServer:
    return JsonLlmServer(lambda body: json.dumps(values))


def test_an_empty_field_is_filled_from_the_resume_and_marked_for_review() -> None:
    offline = extract_contacts(RESUME)
    assert offline.location.value == ""  # the offline extractor does not read "Austin" here
    with answering({"name": "Jordan Q. Rivera", "email": "jordan.rivera@example.com",
                    "phone": "512 555 0142", "location": "Austin"}) as server:
        improved = LlmExtractor(base_url=server.base_url, model="m").improve(offline, RESUME, "US")
    assert improved.location.value == "Austin"
    assert improved.location.confidence == LLM_CONFIDENCE and "LLM" in improved.location.reason
    assert (improved.name, improved.email) == (offline.name, offline.email)  # trusted values stay
    assert improved.phone.value == offline.phone.value == "+15125550142"  # the same number: unchanged
    [request] = server.requests
    assert request["response_format"]["type"] == "json_schema" and request["temperature"] == 0.0
    assert "Jordan Q. Rivera" in request["messages"][1]["content"]


def test_made_up_values_are_refused_and_a_disagreement_is_shown() -> None:
    offline = extract_contacts(RESUME)
    assert offline.phone.confidence < 0.8  # no country code: doubted
    with answering({"name": "Jordan Rivera", "email": "jordan.rivera@gmail.com",
                    "phone": "+1 512 555 0000", "location": "Dallas, TX"}) as server:
        improved = LlmExtractor(base_url=server.base_url, model="m").improve(offline, RESUME, "US")
    assert improved == offline  # nothing the model said is printed in the resume
    text = RESUME + "Other phone: 512 555 0143\n"
    with answering({"name": "", "email": "", "phone": "512 555 0143", "location": ""}) as server:
        shown = LlmExtractor(base_url=server.base_url, model="m").improve(offline, text, "US")
    assert shown.phone.value == offline.phone.value
    assert "the LLM read '+15125550143'" in shown.phone.reason


def test_a_server_error_or_a_bad_reply_keeps_the_offline_result() -> None:
    offline = extract_contacts(RESUME)
    with JsonLlmServer(lambda body: "{}", status=500) as down:
        assert LlmExtractor(base_url=down.base_url, model="m").improve(offline, RESUME, "US") == offline
    with JsonLlmServer(lambda body: "not json at all") as babbling:
        assert LlmExtractor(base_url=babbling.base_url, model="m").improve(offline, RESUME, "US") == offline
    assert LlmExtractor(base_url="http://127.0.0.1:9/v1", model="m", timeout=2).propose(RESUME) == {}


def test_found_in_compares_phones_as_numbers_and_text_loosely() -> None:
    assert found_in("phone", "+1 (512) 555-0142", "cell 512.555.0142 | Austin")
    assert not found_in("phone", "+1 512 555 0142", "born 1951, 2555 km, 0142")
    assert not found_in("phone", "2019 2024", "Forklift operator, 2019-2024")  # too short to be a phone
    assert found_in("name", "JORDAN  q. rivera", RESUME)
    assert not found_in("email", "someone@example.com", RESUME)
