"""The ZIP package of one interview: PDF, transcript (text, WebVTT), score JSON, the candidate's consents
with the notice texts they agreed to (`consent.json`), media, metadata. The media are streamed from
wherever they are (`store.recordings`: this disk, or the object store for an uploaded session)."""

from __future__ import annotations

import hashlib
import io
import json
import time
import zipfile
from pathlib import Path
from typing import Any

from milo_voice.scoring.pdf import render_pdf
from milo_voice.scoring.report import ReportData
from milo_voice.scoring.transcript_formats import as_text, as_webvtt
from milo_voice.store.recordings import MEDIA_SUFFIXES as MEDIA_SUFFIXES
from milo_voice.store.recordings import Media, Recordings


def media_files(data: ReportData, recordings: Recordings | None = None) -> list[Media]:
    """The session's audio and video files: the final recording and any media in its folder (from the
    object store when the session was uploaded: `recordings` must then be the configured one)."""
    return (recordings or Recordings(Path(data.recording_dir))).media(data.recording_dir, data.recording_path)


def build_zip(data: ReportData, recordings: Recordings | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        write_package(archive, data, recordings=recordings)
    return buffer.getvalue()


def write_package(
    archive: zipfile.ZipFile, data: ReportData, prefix: str = "", recordings: Recordings | None = None
) -> None:
    """The package's files into `archive`, each name under `prefix` (the candidate's own download puts
    one package per session under `sessions/<id>/`)."""
    files: dict[str, bytes] = {
        "report.pdf": render_pdf(data),
        "transcript.txt": as_text(data.transcript).encode(),
        "transcript.vtt": as_webvtt(data.transcript).encode(),
        "score.json": json.dumps(data.card.model_dump(mode="json") if data.card else None, indent=2).encode(),
    }
    if data.consent is not None:
        files["consent.json"] = json.dumps(data.consent.to_json(), indent=2, ensure_ascii=False).encode()
    media = media_files(data, recordings)
    for name, content in files.items():
        archive.writestr(prefix + name, content)
    listed: dict[str, dict[str, Any]] = {
        name: {"bytes": len(content), "sha256": hashlib.sha256(content).hexdigest()}
        for name, content in files.items()
    }
    for item in media:
        name = f"media/{item.name}"
        listed[name] = _write_media(archive, prefix + name, item)
    metadata = {
        "session_id": data.session_id,
        "interview": data.interview_title,
        "role": data.role,
        "candidate": {
            "name": data.candidate_name,
            "email": data.candidate_email,
            "status": data.candidate_status,
        },
        "channel": data.channel,
        "started_at": data.started_at.isoformat(),
        "duration_s": data.duration_s,
        "scorer": data.card.scorer if data.card else None,
        "model": data.card.model if data.card else None,
        "prompt_hash": data.card.prompt_hash if data.card else None,
        "rubric_versions": data.card.rubric_versions if data.card else {},
        "files": listed,
    }
    archive.writestr(prefix + "metadata.json", json.dumps(metadata, indent=2, ensure_ascii=False))


def _write_media(archive: zipfile.ZipFile, name: str, item: Media) -> dict[str, Any]:
    """Stream one media file into the archive, stored as is (already compressed); its size and sha256."""
    info = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
    info.compress_type, info.file_size = zipfile.ZIP_STORED, item.size
    digest, written = hashlib.sha256(), 0
    with archive.open(info, "w", force_zip64=item.size >= zipfile.ZIP64_LIMIT) as out:
        for block in item.chunks():
            out.write(block)
            digest.update(block)
            written += len(block)
    return {"bytes": written, "sha256": digest.hexdigest()}
