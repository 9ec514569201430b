"""The OpenAPI 3.1 description of the JSON API, served at /api/openapi.json.

Written by hand next to the handlers (api.py) rather than generated: the API is small, and a
test checks that every API route is described and every described path exists.
"""

from __future__ import annotations

from typing import Any

from milo_voice.dialogue.script import AnswerShape
from milo_voice.scoring.pdf import SECTIONS
from milo_voice.web.workspace import openapi_intake as intake
from milo_voice.workspace.candidates import STATUSES


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS = {
    "400": _json(_ref("Error"), "The input was not valid; `error` says what to fix."),
    "401": _json(_ref("Error"), "No valid API key."),
    "403": _json(_ref("Error"), "The key's user is not allowed to do this (viewers cannot write)."),
    "404": _json(_ref("Error"), "No such object."),
}

SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
SESSION = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"},
           "description": "A session id (`sessions[].id` of `GET /candidates/{id}`)."}

SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]},
    "Question": {
        "type": "object",
        "required": ["text"],
        "properties": {
            "text": {"type": "string", "maxLength": 1000},
            "shape": {"type": "string", "enum": [s.value for s in AnswerShape], "default": "explanation"},
            "follow_ups": {"type": "array", "items": {"type": "string"}, "maxItems": 5},
            "max_follow_ups": {"type": "integer", "minimum": 0, "maximum": 5, "default": 1},
            "wants_example": {"type": "boolean", "default": False},
        },
    },
    "NewInterview": {
        "type": "object",
        "required": ["title", "questions"],
        "properties": {
            "title": {"type": "string", "maxLength": 300},
            "role": {"type": "string"},
            "greeting": {"type": "string", "description": "Welcome message."},
            "closing": {"type": "string"},
            "language": {"type": "string", "default": "en"},
            "voice": {"type": "string"},
            "thinking_silence": {"type": ["number", "null"], "description": "Seconds before an answer."},
            "max_silence": {"type": ["number", "null"], "description": "Seconds of pause that end one."},
            "questions": {"type": "array", "items": _ref("Question"), "minItems": 1},
            "publish": {"type": "boolean", "default": False},
        },
    },
    "Interview": {
        "type": "object",
        "properties": {
            "slug": {"type": "string"},
            "version": {"type": "integer"},
            "title": {"type": "string"},
            "role": {"type": "string"},
            "status": {"type": "string", "enum": ["draft", "published", "archived"]},
            "archived": {"type": "boolean"},
            "is_template": {"type": "boolean"},
            "language": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"},
            "candidates": {"type": "integer"},
            "questions": {"type": "array", "items": _ref("Question")},
        },
    },
    "NewCandidate": {
        "type": "object",
        "required": ["name"],
        "properties": {"name": {"type": "string"}, "email": {"type": "string"},
                       **intake.NEW_CANDIDATE_FIELDS},
    },
    "Candidate": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "email": {"type": "string"},
            "phone": {"type": "string"},
            "status": {"type": "string", "enum": list(STATUSES)},
            "interview": {"type": "string"},
            "interview_version": {"type": "integer"},
            **intake.CANDIDATE_FIELDS,
            "link": {"type": "string", "description": "The candidate's personal interview link (secret)."},
            "created_at": {"type": "string", "format": "date-time"},
            "sessions": {"type": "array", "items": _ref("Session")},
            "score": {"type": ["number", "null"], "description": "Overall 0-100 of the session that counts"},
            "band": {"type": ["string", "null"], "enum": ["great", "good", "bad", None]},
            "session_count": {"type": "integer"},
        },
    },
    "Session": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "status": {"type": "string"},
            "channel": {"type": "string"},
            "started_at": {"type": "string", "format": "date-time"},
            "duration_s": {"type": ["number", "null"]},
            "transcript": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "speaker": {"type": "string", "enum": ["candidate", "interviewer"]},
                        "start_s": {"type": "number"},
                        "end_s": {"type": "number"},
                        "text": {"type": "string"},
                    },
                },
            },
            "timing": {"type": "object"},
        },
    },
    "ScoreCard": {
        "type": "object",
        "description": "A scoring run: `overall` 0-100 (null when nothing was decided), `band`, a "
        "`knockout` when a dealbreaker failed, `needs_review` with `review_reasons`, and per question "
        "the criteria with scores, rationale and quotes verified against the transcript.",
        "properties": {
            "scorer": {"type": "string"},
            "model": {"type": "string"},
            "overall": {"type": ["number", "null"]},
            "band": {"type": "string"},
            "knockout": {"type": ["object", "null"]},
            "needs_review": {"type": "boolean"},
            "review_reasons": {"type": "array", "items": {"type": "string"}},
            "questions": {"type": "array", "items": {"type": "object"}},
            "created_at": {"type": "string", "format": "date-time"},
        },
    },
}


def _op(
    summary: str, ok: dict[str, Any], *, body: str = "", params: list[Any] | None = None
) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": {**ok, **ERRORS}}
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(body)}}}
    if params:
        op["parameters"] = params
    return op


def spec(base_url: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document served at /api/openapi.json; paths are built per area to stay readable."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "milo-voice API",
            "version": "1",
            "description": "Interviews, candidates and results (report PDFs, score cards). Send an "
            "API key (created on the workspace's API keys page) as `Authorization: Bearer <key>`; it "
            "acts with its user's role.",
        },
        "servers": [{"url": f"{base_url}/api"}],
        "security": [{"apiKey": []}],
        "components": {
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
        },
        "paths": {**_interview_paths(), **_result_paths(), **_phone_paths(), **_message_paths(),
                  **intake.paths(_op, _json, _ref, SLUG)},
    }


def _interview_paths() -> dict[str, Any]:
    """Interviews and adding candidates to them."""
    many = {"type": "array"}
    return {
    "/interviews": {
        "get": _op(
            "List interviews (newest version of each)",
            {"200": _json({**many, "items": _ref("Interview")}, "Interviews")},
        ),
        "post": _op(
            "Create an interview (admin)",
            {"201": _json(_ref("Interview"), "Created")},
            body="NewInterview",
        ),
    },
    "/interviews/{slug}": {
        "get": _op(
            "Fetch an interview with its questions",
            {"200": _json(_ref("Interview"), "The newest version")},
            params=[SLUG],
        ),
    },
    "/interviews/{slug}/publish": {
        "post": _op(
            "Publish the newest version (admin)",
            {"200": _json(_ref("Interview"), "Published")},
            params=[SLUG],
        ),
    },
    "/interviews/{slug}/candidates": {
        "post": _op(
            "Add a candidate to the newest published version (admin)",
            {"201": _json(_ref("Candidate"), "Created, with their link")},
            body="NewCandidate",
            params=[SLUG],
        ),
    },
    }


def _result_paths() -> dict[str, Any]:
    """Candidates and their sessions' results."""
    query = [
        {"name": n, "in": "query", "required": False, "schema": {"type": "string"}, "description": d}
        for n, d in (("interview", "interview slug"), ("status", "candidate status"), ("q", "name or email"),
                     ("band", "great, good, bad or unscored: the band of the session that counts"),
                     ("sort", "created (default) or score"), ("dir", "desc (default) or asc"),
                     *intake.LIST_PARAMS)
    ]
    many = {"type": "array"}
    return {
    "/candidates": {
        "get": _op(
            "List candidates",
            {"200": _json({**many, "items": _ref("Candidate")}, "Candidates")},
            params=query,
        ),
    },
    "/sessions/{id}/report.pdf": {
        "get": _op(
            "Download a session's report as PDF (the same file as the workspace's); audited",
            {
                "200": {
                    "description": "The PDF (`Content-Disposition: attachment`)",
                    "content": {
                        "application/pdf": {"schema": {"type": "string", "format": "binary"}}
                    },
                }
            },
            params=[
                SESSION,
                {
                    "name": "sections",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string"},
                    "description": "Comma-separated sections to include, some of "
                    f"{', '.join(SECTIONS)}; all when absent.",
                },
            ],
        ),
    },
    "/sessions/{id}/score.json": {
        "get": _op(
            "Fetch a session's current score card (overall, band, criteria with verified quotes); "
            "404 until it is scored",
            {"200": _json(_ref("ScoreCard"), "The newest scoring run's card")},
            params=[SESSION],
        ),
    },
    "/candidates/{id}": {
        "get": _op(
            "Fetch a candidate's results: sessions, transcripts, timing",
            {"200": _json(_ref("Candidate"), "The candidate")},
            params=[{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        ),
    },
    }


PHONE_SCHEMAS: dict[str, Any] = {
    "NewPhoneNumber": {
        "type": "object",
        "required": ["number", "interview"],
        "properties": {
            "number": {"type": "string", "description": "With its country code, in any readable form "
                       "(\"+1 415 555 0100\"); stored in E.164 (+14155550100). Anything else is a 400."},
            "interview": {"type": "string", "description": "Interview slug."},
            "version": {"type": "integer", "description": "A published version; default the newest."},
        },
    },
    "PhoneNumber": {
        "type": "object",
        "properties": {
            "number": {"type": "string", "description": "E.164"},
            "interview": {"type": "string"},
            "interview_version": {"type": "integer"},
            "interview_title": {"type": "string"},
            "newer_version": {"type": ["integer", "null"], "description": "A newer published version "
                              "of the interview, whose candidates this number does not reach; null if none."},
            "created_at": {"type": "string", "format": "date-time"},
        },
    },
}
SCHEMAS.update(PHONE_SCHEMAS)


def _phone_paths() -> dict[str, Any]:
    """Which Twilio number reaches which interview version (admin keys only)."""
    number = {"name": "number", "in": "path", "required": True, "schema": {"type": "string"},
              "description": "The mapped number, E.164 (+14155550100; `%2B` for the plus also works)."}
    return {
        "/phone-numbers": {
            "get": _op(
                "List phone numbers and the interview version each reaches (admin)",
                {"200": _json({"type": "array", "items": _ref("PhoneNumber")}, "Mapped numbers")},
            ),
            "post": _op(
                "Map a phone number to an interview's newest published version, or a given one (admin)",
                {"201": _json(_ref("PhoneNumber"), "Mapped")},
                body="NewPhoneNumber",
            ),
        },
        "/phone-numbers/{number}": {
            "delete": _op(
                "Unmap a phone number (admin); calls to it then hear that it is not connected",
                {"200": _json(_ref("PhoneNumber"), "What the number reached")},
                params=[number],
            ),
        },
    }


_TIME, _TEXT = {"type": "string", "format": "date-time"}, {"type": "string"}
MESSAGE_SCHEMAS: dict[str, Any] = {
    "Message": {
        "type": "object",
        "description": "One message to the candidate: what it was, the text as rendered, the policy's "
        "verdict (send, defer, suppress; null before dispatch) and every event of its life in order.",
        "properties": {
            "id": {"type": "integer"}, "kind": _TEXT, "channel": {"type": "string", "enum": ["email", "sms"]},
            "template": _TEXT, "variant": _TEXT, "recipient": _TEXT, "subject": _TEXT, "body_text": _TEXT,
            "status": {"type": "string", "enum": ["scheduled", "deferred", "sending", "sent", "delivered",
                                                  "failed", "suppressed"]},
            "verdict": {"type": ["string", "null"], "enum": ["send", "defer", "suppress", None]},
            "reason": _TEXT, "deferred_until": {"type": ["string", "null"], "format": "date-time"},
            "provider_id": {"type": ["string", "null"]}, "requested_by": {"type": ["string", "null"]},
            "attempts": {"type": "integer"}, "due_at": _TIME, "created_at": _TIME,
            "sent_at": {"type": ["string", "null"], "format": "date-time"},
            "events": {"type": "array", "items": {"type": "object", "properties": {
                "state": _TEXT, "at": _TIME, "detail": {"type": "object"}}}},
        },
    },
    "MessageLog": {
        "type": "object",
        "properties": {
            "candidate": {"type": "integer"}, "deadline": _TIME,
            "messages": {"type": "array", "items": _ref("Message"), "description": "Newest first."},
            "replies": {"type": "array", "description": "SMS replies, newest first.", "items": {
                "type": "object", "properties": {"id": {"type": "integer"}, "from": _TEXT, "body": _TEXT,
                                                 "keyword": {"type": ["string", "null"]},
                                                 "received_at": _TIME}}},
        },
    },
    "Nudged": {
        "type": "object",
        "properties": {
            "candidate": {"type": "integer"},
            "scheduled": {"type": "array", "items": {"type": "object", "properties": {
                "channel": _TEXT, "message_id": {"type": "integer"}}}},
            "not_used": {"type": "array", "items": _TEXT, "description": "Channels not used, and why."},
            "note": _TEXT,
        },
    },
}
SCHEMAS.update(MESSAGE_SCHEMAS)
SCHEMAS.update(intake.SCHEMAS)


def _message_paths() -> dict[str, Any]:
    """A candidate's message log, and a recruiter's nudge."""
    cid = [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}]
    return {
        "/candidates/{id}/messages": {
            "get": _op("A candidate's messages (newest first, with their events), deadline and SMS replies",
                       {"200": _json(_ref("MessageLog"), "The message log")}, params=cid),
        },
        "/candidates/{id}/nudge": {
            "post": _op("Nudge a candidate now on each channel they can get (admin); audited. The "
                        "guardrails still apply when it is sent (quiet hours, caps and the nudge gap "
                        "defer it). 400 when no channel is configured or reaches them, or their "
                        "deadline has passed",
                        {"201": _json(_ref("Nudged"), "Scheduled")}, params=cid),
        },
    }
