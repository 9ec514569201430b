"""Everything the database holds about one candidate (issue 20 item 3): the catalogue that erasure
removes (`workspace/erasure.py`) and the candidate's own download reads (`workspace/data_export.py`).

Rows are found from the schema itself (`Table.metadata`), so a table added later is covered without
an edit here. A row belongs to the candidate when one of its columns

- has a foreign key to `candidate.id`, or is named `candidate_id` (intake items keep it without one),
- has a foreign key to `interview_session.id` and names one of the candidate's sessions (turns, timing
  events, scores, report links, phone calls),
- has a foreign key to `outreach_message.id` and names one of their messages (message events);

plus the links the schema cannot show (`_by_contact`, `_deliveries`, `_jobs`):

- `inbound_message` and `phone_call` rows with no candidate matched, by the candidate's phone number,
- `intake_item`s not made into a candidate (yet), by the candidate's email or phone number,
- `webhook_delivery` bodies naming the candidate or one of their sessions (`data.candidate_id`,
  `data.session_id`), and `job` payloads naming the candidate, a session, a delivery or an ATS order.

Kept, never deleted (`KEPT`): `erasure_request` (a token hash and times: the emailed link must still
say "done"), `erasure_tombstone`, and `audit_event`, whose rows about the candidate are scrubbed
instead (free text and anything naming them becomes `ERASED`); intake batches the candidate came in
with are scrubbed the same way (uploaded file names, CSV preview rows). `uncovered()` names any table
that references the candidate's rows in a way this module does not handle (a test keeps it empty).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column as SaColumn
from sqlalchemy import ColumnElement, String, and_, cast, func, or_, select
from sqlalchemy import Table as SaTable
from sqlmodel import Session

from milo_voice.store.repo import NotFound
from milo_voice.store.tables import Table

ERASED = "[erased]"
KEPT = frozenset({"erasure_request", "erasure_tombstone", "audit_event"})
"""Tables whose rows stay after an erasure (scrubbed where they could name the candidate)."""
BY_BODY = frozenset({"webhook_delivery", "job"})
"""Tables linked through JSON they carry, not through a column."""
FREE_TEXT = frozenset({"reason", "note", "text", "message", "comment", "body"})
"""Keys of an audit event's detail that hold words someone wrote: erased on events about the candidate."""
JOB_KEYS = {
    "candidate_id": "candidate",
    "session_id": "session",
    "delivery_id": "delivery",
    "order_id": "order",
}
"""Job payload keys, and which of the candidate's ids each names."""
_WORDS = re.compile(r"[\W_]+")


def _squash(text: str) -> str:
    return _WORDS.sub("", text.casefold())


@dataclass(frozen=True, slots=True)
class Identifiers:
    """What names the candidate in free text: their full name, email and phone number."""

    name: str
    email: str
    phone: str

    @property
    def needles(self) -> tuple[str, ...]:
        found = [_squash(self.name), _squash(self.email)]
        return tuple(n for n in found if len(n) >= 4)

    @property
    def digits(self) -> str:
        digits = re.sub(r"\D", "", self.phone)
        return digits if len(digits) >= 7 else ""

    def named_in(self, text: str) -> bool:
        """`text` contains the name or email (ignoring case, spaces and punctuation) or the number."""
        squashed = _squash(text)
        if any(n in squashed for n in self.needles):
            return True
        return bool(self.digits) and self.digits in re.sub(r"\D", "", text)

    def redact(self, text: str) -> str:
        """`text` with the email, the number, the full name and each part of it (3+ letters) replaced
        by `ERASED`, the rest kept (an admin's note on why the candidate was erased)."""
        patterns = [re.escape(self.email.strip())] if self.email.strip() else []
        if self.digits:
            patterns.append(r"[\s().+-]*".join(re.escape(d) for d in self.digits[-7:]))
        parts = self.name.split()
        if parts:
            patterns.append(r"\s+".join(re.escape(p) for p in parts))
        patterns += [rf"\b{re.escape(p)}\b" for p in parts if len(p) >= 3]
        for pattern in patterns:
            text = re.sub(pattern, ERASED, text, flags=re.IGNORECASE)
        return ERASED if self.named_in(text) else text

    def scrub(self, value: Any) -> Any:
        """`value` with every string naming the candidate replaced by `ERASED`; a list holding such a
        string (a CSV row) is erased whole, since its other cells describe the same person."""
        if isinstance(value, str):
            return ERASED if self.named_in(value) else value
        if isinstance(value, list):
            if any(isinstance(v, str) and self.named_in(v) for v in value):
                return [ERASED if isinstance(v, str) else self.scrub(v) for v in value]
            return [self.scrub(v) for v in value]
        if isinstance(value, dict):
            return {k: self.scrub(v) for k, v in value.items()}
        return value


def scrub_detail(detail: dict[str, Any], who: Identifiers) -> dict[str, Any]:
    """An audit event's detail about the candidate: free text erased, anything naming them erased."""
    out = {k: (ERASED if k in FREE_TEXT and isinstance(v, str) and v else v) for k, v in detail.items()}
    return who.scrub(out)


@dataclass
class Holdings:
    """One candidate's rows, by table (children before parents: the order they can be deleted in)."""

    candidate: dict[str, Any]
    identifiers: Identifiers
    rows: dict[str, list[dict[str, Any]]]
    audit_events: list[dict[str, Any]] = field(default_factory=list)
    """Events about the candidate or their sessions (kept, scrubbed)."""
    batches: list[dict[str, Any]] = field(default_factory=list)
    """Intake batches that held one of their items (kept, scrubbed)."""

    @property
    def candidate_id(self) -> int:
        return int(self.candidate["id"])

    @property
    def interview_id(self) -> int:
        return int(self.candidate["interview_id"])

    @property
    def sessions(self) -> list[dict[str, Any]]:
        return self.rows.get("interview_session", [])

    def ids(self, table: str) -> list[int]:
        return [int(r["id"]) for r in self.rows.get(table, [])]

    def counts(self) -> dict[str, int]:
        """Rows per table (only tables with rows)."""
        return {table: len(rows) for table, rows in self.rows.items() if rows}


def tables() -> dict[str, SaTable]:
    return dict(Table.metadata.tables)


def _link(column: SaColumn[Any]) -> str:
    """candidate, session, message, or "" for a column that names none of the candidate's rows."""
    targets = {fk.target_fullname for fk in column.foreign_keys}
    if column.name == "candidate_id" or "candidate.id" in targets:
        return "candidate"
    if "interview_session.id" in targets:
        return "session"
    if "outreach_message.id" in targets:
        return "message"
    return ""


def _by_contact(table: SaTable, who: Identifiers) -> list[ColumnElement[bool]]:
    """Rows tied to the candidate's phone number or email but not (yet) to the candidate."""
    c = table.c
    phone, email = who.phone.strip(), who.email.strip().lower()
    if table.name == "inbound_message" and phone:
        return [and_(c.candidate_id.is_(None), c.from_number == phone)]
    if table.name == "phone_call" and phone:
        return [and_(c.candidate_id.is_(None), or_(c.from_number == phone, c.to_number == phone))]
    if table.name == "intake_item":
        found = [func.lower(c.email) == email] if email else []
        found += [c.phone == phone] if phone else []
        return [and_(c.candidate_id.is_(None), or_(*found))] if found else []
    return []


def _where(table: SaTable, keys: dict[str, list[int]], who: Identifiers) -> ColumnElement[bool] | None:
    parts: list[ColumnElement[bool]] = []
    if table.name == "candidate":
        parts.append(table.c.id.in_(keys["candidate"]))
    for column in table.columns:
        kind = _link(column)
        if kind and keys.get(kind):
            parts.append(column.in_(keys[kind]))
    parts += _by_contact(table, who)
    return or_(*parts) if parts else None


def children_first() -> list[SaTable]:
    """Every table, each after the tables that reference it (the order rows can be deleted in)."""
    return list(reversed(Table.metadata.sorted_tables))


def collect(session: Session, candidate_id: int) -> Holdings:
    """Every row of the candidate, read in `session` (the eraser's own transaction)."""
    t = tables()
    found = (
        session.execute(select(t["candidate"]).where(t["candidate"].c.id == candidate_id)).mappings().first()
    )
    if found is None:
        raise NotFound(f"candidate {candidate_id} does not exist")
    candidate = dict(found)
    who = Identifiers(candidate["name"], candidate["email"], candidate["phone"])
    keys = {"candidate": [candidate_id]}
    for table, key in (("interview_session", "session"), ("outreach_message", "message")):
        keys[key] = list(
            session.execute(select(t[table].c.id).where(t[table].c.candidate_id == candidate_id)).scalars()
        )
    rows: dict[str, list[dict[str, Any]]] = {}
    for table in children_first():
        if table.name in KEPT or table.name in BY_BODY:
            continue
        where = _where(table, keys, who)
        if where is not None:
            rows[table.name] = [dict(r) for r in session.execute(select(table).where(where)).mappings()]
    rows["webhook_delivery"] = _deliveries(session, t["webhook_delivery"], keys)
    keys["delivery"] = [int(r["id"]) for r in rows["webhook_delivery"]]
    keys["order"] = [int(r["id"]) for r in rows.get("ats_order", [])]
    rows["job"] = _jobs(session, t["job"], keys)
    ordered = {table.name: rows[table.name] for table in children_first() if rows.get(table.name)}
    held = Holdings(candidate, who, ordered)
    held.audit_events = _audit_events(session, t["audit_event"], held)
    held.batches = _batches(session, t["intake_batch"], held)
    return held


def _deliveries(session: Session, table: SaTable, keys: dict[str, list[int]]) -> list[dict[str, Any]]:
    """Webhook deliveries whose body names the candidate or one of their sessions (bodies are JSON
    with sorted keys and no spaces, so a LIKE narrows them before the JSON is read)."""
    cid, sessions = keys["candidate"][0], set(keys["session"])
    hint = or_(
        table.c.body.like(f'%"candidate_id":{cid}%'),
        *[table.c.body.like(f'%"session_id":{sid}%') for sid in sessions],
    )
    out = []
    for row in session.execute(select(table).where(hint)).mappings():
        try:
            data = json.loads(row["body"]).get("data") or {}
        except (ValueError, AttributeError):
            continue
        if data.get("candidate_id") == cid or data.get("session_id") in sessions:
            out.append(dict(row))
    return out


def _jobs(session: Session, table: SaTable, keys: dict[str, list[int]]) -> list[dict[str, Any]]:
    """Background jobs whose payload names the candidate, a session, a delivery or an ATS order."""
    wanted = {key: set(keys.get(kind, [])) for key, kind in JOB_KEYS.items()}
    hint = or_(*[cast(table.c.payload, String).like(f"%{key}%") for key in JOB_KEYS])
    out = []
    for row in session.execute(select(table).where(hint)).mappings():
        payload = row["payload"] if isinstance(row["payload"], dict) else {}
        if any(payload.get(key) in ids for key, ids in wanted.items()):
            out.append(dict(row))
    return out


def _audit_events(session: Session, table: SaTable, held: Holdings) -> list[dict[str, Any]]:
    targets = [and_(table.c.target_type == "candidate", table.c.target_id == str(held.candidate_id))]
    sessions = [str(s) for s in held.ids("interview_session")]
    if sessions:
        targets.append(and_(table.c.target_type.in_(("report", "session")), table.c.target_id.in_(sessions)))
    return [dict(r) for r in session.execute(select(table).where(or_(*targets))).mappings()]


def _batches(session: Session, table: SaTable, held: Holdings) -> list[dict[str, Any]]:
    ids = sorted({int(i["batch_id"]) for i in held.rows.get("intake_item", [])})
    if not ids:
        return []
    return [dict(r) for r in session.execute(select(table).where(table.c.id.in_(ids))).mappings()]


def spoken_lines(
    held: Holdings, fixed_lines: Callable[[int], Iterable[str]], split: Callable[[str], list[str]]
) -> list[str]:
    """What the interviewer said in the candidate's sessions beyond the interview's fixed lines (a
    greeting with their name, follow-ups a planner wrote about their answers), as the TTS cache keys
    them (`split`: the speaker's clauses)."""
    fixed: set[str] = set()
    for interview_id in {int(s["interview_id"]) for s in held.sessions}:
        fixed |= {" ".join(p.split()) for line in fixed_lines(interview_id) for p in split(line)}
    said = [t["text"] for t in held.rows.get("turn", []) if t["speaker"] != "candidate" and t["text"]]
    return sorted({p for line in said for p in split(line) if " ".join(p.split()) not in fixed})


def uncovered() -> list[str]:
    """Tables that reference a table holding candidate rows through a column this module does not
    follow (a new child of, say, `score` or `candidate_stage`): each needs a rule here."""
    followed = {"candidate", "interview_session", "outreach_message"}
    personal = {
        t.name
        for t in children_first()
        if t.name not in KEPT
        and (t.name in followed or t.name in BY_BODY or any(_link(c) for c in t.columns))
    }
    bad = []
    for table in children_first():
        for column in table.columns:
            refs = {fk.column.table.name for fk in column.foreign_keys}
            if refs & personal and not _link(column) and table.name not in KEPT:
                bad.append(f"{table.name}.{column.name}")
    return sorted(bad)
