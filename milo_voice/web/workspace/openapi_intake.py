"""The OpenAPI parts of intake (issue 17): candidates' external ids and locations, bulk add, and the
list's filters and cursor pagination. Merged into `openapi.spec` (kept apart for the 400-line cap)."""

from __future__ import annotations

from typing import Any

_TEXT = {"type": "string"}
CANDIDATE_FIELDS: dict[str, Any] = {
    "location": {"type": "string", "maxLength": 200, "description": "Where the candidate is, as given."},
    "external_id": {"type": ["string", "null"], "maxLength": 200, "description":
                    "Your system's id for the candidate. Adding the same external id to the same interview "
                    "again updates that candidate (200) instead of adding another (201)."},
}
NEW_CANDIDATE_FIELDS: dict[str, Any] = {
    "phone": {"type": "string", "description": "With its country code, or national in the server's "
              "MILO_DEFAULT_REGION."},
    **CANDIDATE_FIELDS,
}
SCHEMAS: dict[str, Any] = {
    "BulkCandidates": {
        "type": "object",
        "required": ["candidates"],
        "properties": {"candidates": {"type": "array", "minItems": 1, "maxItems": 1000,
                                      "items": {"$ref": "#/components/schemas/NewCandidate"}}},
    },
    "BulkResult": {
        "type": "object",
        "properties": {
            "added": {"type": "integer"}, "updated": {"type": "integer"}, "failed": {"type": "integer"},
            "results": {"type": "array", "description": "One per entry, in order.", "items": {
                "type": "object", "properties": {
                    "index": {"type": "integer"},
                    "created": {"type": "boolean", "description": "false: updated by external id"},
                    "candidate": {"$ref": "#/components/schemas/Candidate"},
                    "error": {**_TEXT, "description": "Why this entry was not added; the others were."},
                }}},
        },
    },
}
LIST_PARAMS = (
    ("external_id", "exact external id"),
    ("source", "how the candidate came in: manual, bulk, api, share_link or ats"),
    ("limit", "page size, 1-500 (default 100)"),
    ("cursor", "the X-Next-Cursor of the previous page (also in its Link: rel=\"next\" header)"),
)


def paths(op: Any, json: Any, ref: Any, slug: dict[str, Any]) -> dict[str, Any]:
    return {
        "/interviews/{slug}/candidates/bulk": {
            "post": op("Add or update many candidates of the newest published version (admin); each entry "
                       "on its own, matched by external_id when it has one; audited",
                       {"200": json(ref("BulkResult"), "One result per entry")}, body="BulkCandidates",
                       params=[slug]),
        },
    }
