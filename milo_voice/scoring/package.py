"""The ZIP package of one interview: PDF, transcript (text, WebVTT), score JSON, the candidate's consents
with the notice texts they agreed to (`consent.json`), media, metadata."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

from milo_voice.scoring.pdf import render_pdf
from milo_voice.scoring.report import ReportData
from milo_voice.scoring.transcript_formats import as_text, as_webvtt

MEDIA_SUFFIXES = frozenset({".ogg", ".opus", ".wav", ".webm", ".mp4", ".mkv", ".mp3", ".m4a"})


def media_files(data: ReportData) -> list[Path]:
    """The session's audio and video files: the final recording and any media in its folder."""
    found: list[Path] = []
    if data.recording_path and Path(data.recording_path).is_file():
        found.append(Path(data.recording_path))
    folder = Path(data.recording_dir)
    if folder.is_dir():
        found += sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in MEDIA_SUFFIXES)
    unique: dict[Path, Path] = {}
    for path in found:
        unique.setdefault(path.resolve(), path)
    return list(unique.values())


def build_zip(data: ReportData) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        write_package(archive, data)
    return buffer.getvalue()


def write_package(archive: zipfile.ZipFile, data: ReportData, prefix: str = "") -> None:
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
    media = media_files(data)
    for name, content in files.items():
        archive.writestr(prefix + name, content)
    listed: dict[str, dict[str, Any]] = {
        name: {"bytes": len(content), "sha256": hashlib.sha256(content).hexdigest()}
        for name, content in files.items()
    }
    for path in media:
        name = f"media/{path.name}"
        archive.write(path, prefix + name, compress_type=zipfile.ZIP_STORED)  # already compressed media
        listed[name] = {"bytes": path.stat().st_size, "sha256": _sha256(path)}
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


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
