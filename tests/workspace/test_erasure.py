"""Erasure end to end (issue 20 item 3) on a real SQLite database and real files: after an erasure,
nothing of the candidate is left in any table, on disk or in the TTS cache, except the tombstone; the
other candidate is untouched.

The checks read the schema, not a list: every column of every table that can hold a candidate's or a
session's id, and every value of every table searched for the name, the email and the phone number.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from milo_voice.calls.session_store import SessionStore
from milo_voice.calls.speech_cache import speech_paths
from milo_voice.settings import Settings
from milo_voice.store.repo import NotFound
from milo_voice.store.tables import UserRole
from milo_voice.workspace.accounts import Principal
from milo_voice.workspace.audit import Audit
from milo_voice.workspace.erasure import Busy, Eraser, Initiator
from milo_voice.workspace.personal_data import ERASED, Identifiers, uncovered
from milo_voice.workspace.personal_files import LocalFiles
from workspace.erasure_world import OTTO, ZELDA, World, mentions, references

NOTE = "Asked by Zelda Quorn on the phone (ticket 88)"


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    return replace(settings, models_dir=tmp_path / "models")  # a TTS cache of the test's own


def admin_of(users: dict[str, int]) -> Principal:
    return Principal(users["admin"], "admin@example.com", UserRole.ADMIN)


def test_the_catalogue_follows_every_table_that_can_hold_a_candidate() -> None:
    assert uncovered() == []


def test_erasure_leaves_nothing_of_the_candidate_but_the_tombstone(
    store: SessionStore, settings: Settings, users: dict[str, int]
) -> None:
    zelda = World.build(store, settings, ZELDA, users["admin"])
    otto = World.build(store, settings, OTTO, users["admin"])
    otto_before = mentions(store.engine, OTTO)
    assert len(mentions(store.engine, ZELDA)) > 20 and all(p.exists() for p in zelda.files)
    assert len(zelda.files) >= 7 and zelda.recording.is_file()

    eraser = Eraser.for_settings(store.engine, settings, speech_paths(settings))
    done = eraser.erase(zelda.candidate_id, initiated_by=Initiator.ADMIN, reason=NOTE, by=admin_of(users))

    assert mentions(store.engine, ZELDA) == []
    assert references(store.engine, zelda.candidate_id, {zelda.session_id}) == []
    assert [p for p in zelda.files if p.exists()] == [] and not zelda.session_dir.exists()
    assert not (settings.uploads_dir / "stage_files" / str(zelda.candidate_id)).exists()
    assert zelda.fixed_tts.is_file(), "a fixed line's cached audio is shared: it stays"
    # the other candidate is untouched
    assert mentions(store.engine, OTTO) == otto_before
    assert all(p.exists() for p in otto.files) and otto.recording.is_file()
    # the tombstone: counts, who, why (without the name), nothing personal
    (tomb,) = eraser.tombstones()
    assert (tomb.id, tomb.former_candidate_id, tomb.initiated_by) == (
        done.tombstone_id,
        zelda.candidate_id,
        "admin",
    )
    assert tomb.erased_by == users["admin"] and tomb.reason == f"Asked by {ERASED} on the phone (ticket 88)"
    rows = tomb.removed["rows"]
    assert rows["candidate"] == 1 and rows["interview_session"] == 1 and rows["turn"] == 5
    for table in (
        "timing_event",
        "score",
        "report_link",
        "outreach_message",
        "outreach_event",
        "inbound_message",
        "phone_call",
        "phone_access_code",
        "candidate_contact",
        "intake_item",
        "candidate_resume",
        "candidate_stage",
        "candidate_note",
        "candidate_rating",
        "self_identification",
        "consent_record",
        "accommodation",
        "webhook_delivery",
        "job",
        "ats_order",
    ):
        assert rows.get(table, 0) >= 1, table
    assert tomb.removed["files"] == done.files >= 6 and tomb.removed["bytes"] > 10_000
    assert tomb.removed["files_pending"] == [] and tomb.removed["audit_events_scrubbed"] == 2
    assert tomb.removed["requests_closed"] == 1
    # the audit trail keeps its events, without the candidate's details, and says who erased and why
    events = Audit(store.engine).recent(target_type="candidate", target_id=zelda.candidate_id)
    assert [e.action for e in events][:1] == ["erase"]
    assert events[0].detail == {"tombstone": tomb.id, "initiated_by": "admin", "reason": tomb.reason}
    override = next(e for e in events if e.action == "stage.override")
    assert override.detail == {"stage": 2, "reason": ERASED}


def test_a_second_erasure_or_an_unknown_candidate_is_not_found(
    store: SessionStore, settings: Settings, users: dict[str, int]
) -> None:
    zelda = World.build(store, settings, ZELDA, users["admin"])
    eraser = Eraser.for_settings(store.engine, settings, speech_paths(settings))
    eraser.erase(zelda.candidate_id, initiated_by=Initiator.ADMIN, reason="duplicate record")
    with pytest.raises(NotFound):
        eraser.erase(zelda.candidate_id, initiated_by=Initiator.ADMIN, reason="again")
    assert len(eraser.tombstones()) == 1


def test_a_candidate_in_a_live_interview_is_not_erased(
    store: SessionStore, settings: Settings, users: dict[str, int]
) -> None:
    zelda = World.build(store, settings, ZELDA, users["admin"])
    store.start_session(
        candidate_id=zelda.candidate_id,
        interview_id=zelda.interview_id,
        channel="webrtc",
        recording_dir=str(settings.recordings_dir / "session-live"),
        settings={},
    )
    before = mentions(store.engine, ZELDA)
    eraser = Eraser.for_settings(store.engine, settings, speech_paths(settings))
    with pytest.raises(Busy, match="interview right now"):
        eraser.erase(zelda.candidate_id, initiated_by=Initiator.ADMIN, reason="asked")
    assert mentions(store.engine, ZELDA) == before and all(p.exists() for p in zelda.files)
    assert eraser.tombstones() == []


class StuckDisk(LocalFiles):
    """The FileStore seam over the real disk, where one path refuses to go `failures` times (a busy
    network mount): what an object store that is down looks like to the eraser."""

    def __init__(self, stuck: Path, failures: int) -> None:
        self.stuck, self.failures = stuck, failures

    def remove(self, path: Path) -> int:
        if path == self.stuck and self.failures > 0:
            self.failures -= 1
            raise OSError(16, "Device or resource busy", str(path))
        return super().remove(path)


def test_a_file_that_will_not_go_is_reported_kept_in_the_tombstone_and_retried(
    store: SessionStore, settings: Settings, users: dict[str, int]
) -> None:
    zelda = World.build(store, settings, ZELDA, users["admin"])
    otto = World.build(store, settings, OTTO, users["admin"])
    disk = StuckDisk(zelda.session_dir, failures=3)
    eraser = Eraser.for_settings(store.engine, settings, speech_paths(settings), files=disk)
    done = eraser.erase(zelda.candidate_id, initiated_by=Initiator.ADMIN, reason="asked")
    assert done.left == [str(zelda.session_dir)] and zelda.recording.is_file()
    (tomb,) = eraser.tombstones()
    assert tomb.removed["files_pending"] == [str(zelda.session_dir)]
    # the next erasure (of anyone) tries again first
    eraser.erase(otto.candidate_id, initiated_by=Initiator.ADMIN, reason="asked too")
    assert not zelda.session_dir.exists()
    assert all(t.removed["files_pending"] == [] for t in eraser.tombstones())


def test_redacting_a_note_keeps_the_words_that_do_not_name_the_candidate() -> None:
    who = Identifiers(ZELDA.name, ZELDA.email, ZELDA.phone)
    assert who.redact("GDPR request by letter, ref 12") == "GDPR request by letter, ref 12"
    assert who.redact("zelda called from +1 (415) 555-0123") == f"{ERASED} called from +1 (415) {ERASED}"
    assert who.redact(f"mail {ZELDA.email}") == f"mail {ERASED}"
    assert who.scrub(["Zelda", "Quorn", "zelda.quorn@example.org"]) == [ERASED] * 3
    assert who.scrub({"rows": [["Otto", "x@y.z"], ["Zelda Quorn", "z"]]}) == {
        "rows": [["Otto", "x@y.z"], [ERASED, ERASED]]
    }
