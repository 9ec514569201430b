"""The review screen's warnings and the batch repository (issue 17): duplicates by email or by phone
(against the interview and within the upload), doubts with their reasons, formula-like cells; items
are edited, discarded and ingested once, and a re-run of the reading job doubles nothing."""

from __future__ import annotations

import pytest

from milo_voice.calls.session_store import SessionStore
from milo_voice.intake.batches import IntakeBatches, NewItem
from milo_voice.intake.review import Known, Row, warnings
from milo_voice.store.repo import Invalid
from milo_voice.store.tables import BatchStatus, ItemStatus


def row(id: int, name: str = "A B", email: str = "", phone: str = "",
        conf: dict[str, object] | None = None) -> Row:
    return Row(id, f"file{id}.pdf", name, email, phone, "", dict(conf or {}))


def test_duplicates_by_email_and_phone_against_the_interview_and_the_upload() -> None:
    rows = [row(1, email="Ana@Example.com", phone="(415) 555-0134"),
            row(2, email="ana@example.com"),
            row(3, email="bo@example.com", phone="+1 415 555 0134"),
            row(4, email="cy@example.com", phone="+44 20 7946 0958")]
    known = [Known(9, "Cy Known", "other@example.com", "020 7946 0958")]
    found = warnings(rows, [], region="US")
    assert found[1] == []
    assert found[2] == ["duplicate of file1.pdf in this upload (same email)"]
    assert found[3] == ["duplicate of file1.pdf in this upload (same phone)"]
    with_known = warnings(rows, known, region="GB")  # the known national number is read as British
    assert "duplicate of candidate Cy Known (same phone)" in with_known[4]


def test_missing_email_doubts_and_formula_cells_are_flagged() -> None:
    rows = [row(1, name="=HYPERLINK(\"http://x\",\"y\")", email="a@example.com"),
            row(2, email="", phone=""),
            row(3, name="C D", email="c@example.com",
                conf={"name": {"confidence": 0.4, "reason": "two names on page 1"},
                      "email": {"confidence": 0.95, "reason": ""}})]
    found = warnings(rows, [])
    assert found[1] == ["name starts with '=': kept as text"]
    assert found[2] == ["missing email"]
    assert found[3] == ["check name: two names on page 1"]


def test_items_are_decided_once_and_a_rerun_doubles_nothing(store: SessionStore) -> None:
    batches = IntakeBatches(store.engine)
    batch = batches.create("picker", "files", ["a.zip"], user_id=None)
    batches.set_total(batch, 3)
    batches.add_items(batch, [NewItem("a.zip / 1.pdf", name="One", email="one@example.com"),
                              NewItem("a.zip / 2.pdf", problem="encrypted PDF")], progress=2)
    assert (batches.get(batch).done, batches.get(batch).total) == (2, 3)
    batches.restart(batch)  # the job ran again after a crash
    ids = batches.add_items(batch, [NewItem("a.zip / 1.pdf", name="One", email="one@example.com"),
                                    NewItem("a.zip / 2.pdf", problem="encrypted PDF"),
                                    NewItem("a.zip / 3.pdf", name="Three")], progress=3)
    batches.finish(batch)
    items = batches.items(batch)
    assert [i.status for i in items] == ["pending", "problem", "pending"] and batches.get(batch).done == 3
    edited = batches.edit(batch, ids[2], {"email": " three@example.com "})
    assert edited.email == "three@example.com" and edited.edited
    with pytest.raises(Invalid, match="editable"):
        batches.edit(batch, ids[2], {"text": "x"})
    with pytest.raises(Invalid, match="problem"):
        batches.edit(batch, ids[1], {"name": "x"})
    assert batches.discard(batch, [ids[0], ids[1]]) == 1  # a problem row is not pending
    batches.mark_ingested(batch, ids[2], candidate_id=42)
    with pytest.raises(Invalid, match="ingested"):
        batches.mark_ingested(batch, ids[2], candidate_id=42)
    assert [i.status for i in batches.items(batch)] == [ItemStatus.DISCARDED, ItemStatus.PROBLEM,
                                                        ItemStatus.INGESTED]
    assert batches.get(batch).status == BatchStatus.DONE
