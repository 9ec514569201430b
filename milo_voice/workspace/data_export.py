"""The candidate's own copy of their data (issue 20 item 3, the right of access): one ZIP file.

What is in it (`README.txt` in the ZIP says the same):

- `profile.json`: the candidate's record (name, contact details, status, stage, dates, source) and the
  interview they applied to;
- `sessions/<id>/`: per interview session, the recruiter's package (`scoring/package.py`): the report
  PDF, the transcript with times (text and WebVTT), the score with its quoted evidence, the recordings
  (audio, and video when there is one) and their checksums;
- `messages.txt`: every email and SMS sent to them and every reply they sent, in order;
- `data/<table>.json`: every row the product holds about them (`personal_data.collect`), table by
  table: stage results and form answers, consent records, accommodations, contact preferences,
  voluntary self-identification, phone calls, scores, ratings, the intake record of their resume;
- `files/`: the files they uploaded (their resume, files given in a form).

Left out, by decision (docs/compliance.md, "Access"): secrets that would let someone act as the
candidate or open a report (their link token, phone access code, share-link tokens, call tickets);
who in the team did what (authors of ratings, overrides and notes are the team's personal data);
background jobs (internal bookkeeping that only repeats ids); and the team's free-text notes, which
can name other people and are given on request through the company after a person has read them (the
download says how many there are).
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from milo_voice.intake import upload_files
from milo_voice.scoring.package import write_package
from milo_voice.scoring.report import gather
from milo_voice.scoring.store import ScoringStore
from milo_voice.store.recordings import Recordings
from milo_voice.store.repo import Repo
from milo_voice.workspace.interviews import Interviews
from milo_voice.workspace.personal_data import Holdings, collect
from milo_voice.workspace.personal_files import RESUME_FOLDER, STAGE_FILES_FOLDER, Dirs

SECRETS = {
    "candidate": {"token"},
    "phone_access_code": {"code"},
    "phone_call": {"ticket_hash"},
    "report_link": {"token"},
}
"""Columns never put in the download: they let whoever holds them act as the candidate or open a report."""
AUTHORS = frozenset({"user_id", "overridden_by", "handled_by", "created_by", "api_key_id"})
"""Columns naming a teammate or their key."""
LEFT_OUT = frozenset({"job", "candidate_note"})
README = """Your data, as held by the hiring team's interview system on {when} (UTC).

profile.json        your record and the interview you applied to
sessions/<id>/      each interview session: report.pdf, transcript.txt and transcript.vtt (with times),
                    score.json (the scores with the quotes they rest on), media/ (the recordings),
                    metadata.json (what is in the folder, with checksums)
messages.txt        the emails and text messages sent to you, and your replies
data/               every record about you, table by table (JSON)
files/              the files you uploaded

Not included: secret links and codes, who in the team did what, and the team's written notes
({notes} held). To receive the notes, or to ask anything about this data, contact the company.
"""


@dataclass(frozen=True, slots=True)
class Exported:
    sessions: int
    tables: dict[str, int]
    files: int
    bytes: int


def _json(value: Any) -> bytes:
    def default(item: Any) -> str:
        return item.isoformat() if isinstance(item, datetime) else str(item)

    return json.dumps(value, indent=2, ensure_ascii=False, default=default).encode()


def _clean(table: str, row: dict[str, Any]) -> dict[str, Any]:
    hidden = SECRETS.get(table, set()) | AUTHORS
    return {
        k: v for k, v in row.items() if k not in hidden and not k.endswith("_sha256") and k != "body_html"
    }


def _messages(held: Holdings) -> str:
    entries = []
    for m in held.rows.get("outreach_message", []):
        at = m["sent_at"] or m["due_at"]
        head = f"{at:%Y-%m-%d %H:%M} UTC · to you · {m['channel']} to {m['recipient']} · {m['status']}"
        subject = f"Subject: {m['subject']}\n" if m["subject"] else ""
        entries.append((at, f"{head}\n{subject}\n{m['body_text'].strip()}\n"))
    for r in held.rows.get("inbound_message", []):
        at = r["received_at"]
        entries.append(
            (at, f"{at:%Y-%m-%d %H:%M} UTC · from you · SMS from {r['from_number']}\n\n{r['body']}\n")
        )
    entries.sort(key=lambda e: e[0])
    return "\n\n".join(text for _, text in entries) + "\n" if entries else "No messages.\n"


def _uploads(held: Holdings, dirs: Dirs) -> list[tuple[str, Path]]:
    """(name in the ZIP, file) of what the candidate uploaded: resume, form files."""
    out = []
    for resume in held.rows.get("candidate_resume", []):
        try:
            path = upload_files.resolve(dirs.uploads, resume["path"])
        except ValueError:
            continue
        out.append((f"files/resume/{upload_files.download_name(resume['filename'])}", path))
    cid = str(held.candidate_id)
    for folder in (dirs.uploads / RESUME_FOLDER / cid, dirs.uploads / STAGE_FILES_FOLDER / cid):
        if folder.is_dir():
            out += [
                (f"files/{folder.parent.name}/{p.relative_to(folder).as_posix()}", p)
                for p in sorted(folder.rglob("*"))
                if p.is_file() and not p.is_symlink() and "incoming" not in p.relative_to(folder).parts
            ]
    unique: dict[Path, tuple[str, Path]] = {}
    for name, path in out:
        if path.is_file():
            unique.setdefault(path.resolve(), (name, path))
    return list(unique.values())


class DataExport(Repo):
    def __init__(self, engine: Any, *, dirs: Dirs, recordings: Recordings | None = None, **kw: Any) -> None:
        super().__init__(engine, **kw)
        self.dirs, self.recordings = dirs, recordings

    def write(self, candidate_id: int, target: Path) -> Exported:
        """The candidate's ZIP at `target` (NotFound: no such candidate)."""
        with self.unit() as session:
            held = collect(session, candidate_id)
        script = Interviews(self.engine, now=self.now).script(held.interview_id)
        store = ScoringStore(self.engine, now=self.now)
        notes = len(held.rows.get("candidate_note", []))
        tables = {t: len(rows) for t, rows in held.rows.items() if t not in LEFT_OUT and rows}
        uploads = _uploads(held, self.dirs)
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("README.txt", README.format(when=f"{self.now():%Y-%m-%d %H:%M}", notes=notes))
            profile = {
                "candidate": _clean("candidate", held.candidate),
                "interview": {"title": script.title, "role": script.role},
            }
            archive.writestr("profile.json", _json(profile))
            for session_id in held.ids("interview_session"):
                data = gather(store, session_id)
                write_package(archive, data, prefix=f"sessions/{session_id}/", recordings=self.recordings)
            archive.writestr("messages.txt", _messages(held))
            for table in tables:
                rows = [_clean(table, row) for row in held.rows[table]]
                archive.writestr(f"data/{table}.json", _json(rows))
            for name, path in uploads:
                archive.write(path, name)
        return Exported(len(held.sessions), tables, len(uploads), target.stat().st_size)
