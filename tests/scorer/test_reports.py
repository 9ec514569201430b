"""Reports: a real PDF (rendered with poppler), the ZIP package, CSV/JSON export, the web pages."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import zipfile
from dataclasses import replace
from pathlib import Path

from scoring_builders import scored_session
from starlette.testclient import TestClient

from milo_voice.calls.session_store import SessionStore
from milo_voice.scoring import export
from milo_voice.scoring.package import build_zip
from milo_voice.scoring.pdf import render_pdf
from milo_voice.scoring.report import gather
from milo_voice.scoring.store import ScoringStore
from milo_voice.settings import Settings
from milo_voice.web.app import create_app
from milo_voice.workspace.candidates import Candidates


def scored(settings: Settings, store: SessionStore, name: str = "Zoë Ω. Przybył") -> tuple[int, int]:
    built = scored_session(settings, store, name=name)
    return built.session_id, built.interview_id


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "40", str(path), str(tmp_path / "page")], check=True, timeout=60
    )
    pages = sorted(tmp_path.glob("page*.png"))
    assert pages and all(
        p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 1000 for p in pages
    )
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True, timeout=60
    ).stdout


def test_the_pdf_renders_and_shows_scores_evidence_transcript_and_timing(
    settings: Settings, store: SessionStore, tmp_path: Path
) -> None:
    session_id, _ = scored(settings, store)
    data = gather(ScoringStore(store.engine), session_id)
    text = pdf_text(render_pdf(data), tmp_path)
    flat = " ".join(text.split())
    assert "Zoë Ω. Przybył" in flat
    assert "KNOCKED OUT" in flat and "Right to work" in flat
    assert '"No, I would need a visa sponsor"' in flat
    assert "Offline scorer" in flat and "no LLM" in flat
    card = data.card
    assert card is not None and card.band
    assert f"Band: {card.band.capitalize()}" in flat and "calibrated" in flat
    assert ("(needs review)" in flat) == card.needs_review
    assert "Timing diagnostics (context only, never scored)" in flat
    assert "Candidate: I listen, acknowledge the frustration and apologise." in flat


def test_a_flagged_card_says_needs_review_beside_its_band_in_the_pdf(
    settings: Settings, store: SessionStore, tmp_path: Path
) -> None:
    session_id, _ = scored(settings, store)
    data = gather(ScoringStore(store.engine), session_id)
    assert data.card is not None and data.card.band
    flags = {"needs_review": True, "review_reasons": ["words and meaning disagree"]}
    flagged = data.card.model_copy(update=flags)
    flat = " ".join(pdf_text(render_pdf(replace(data, card=flagged)), tmp_path).split())
    assert f"Band: {flagged.band.capitalize()} (needs review)" in flat
    assert "Needs human review: - words and meaning disagree" in flat


def test_optional_sections_and_the_font_fallback(
    settings: Settings, store: SessionStore, tmp_path: Path
) -> None:
    session_id, _ = scored(settings, store)
    data = gather(ScoringStore(store.engine), session_id)
    text = " ".join(
        pdf_text(render_pdf(data, sections=["scores"], font_dir=tmp_path / "none"), tmp_path).split()
    )
    assert "Candidate: Zoe . Przyby" in text  # ë folded to e; Ω and ł have no Latin-1 form
    assert "DejaVu fonts not installed" in text
    assert "Transcript" not in text and "Timing diagnostics" not in text


def test_the_zip_holds_pdf_transcripts_json_media_and_metadata(
    settings: Settings, store: SessionStore, tmp_path: Path
) -> None:
    session_id, _ = scored(settings, store)
    media = tmp_path / "rec"
    media.mkdir()
    (media / "recording.ogg").write_bytes(b"OggS" + bytes(200))
    (media / "video.webm").write_bytes(b"\x1aE\xdf\xa3" + bytes(300))
    (media / "notes.tmp").write_text("not media")
    data = gather(ScoringStore(store.engine), session_id)
    data = type(data)(
        **{**{f: getattr(data, f) for f in data.__dataclass_fields__}, "recording_dir": str(media)}
    )
    archive = zipfile.ZipFile(io.BytesIO(build_zip(data)))
    names = set(archive.namelist())
    assert names == {
        "report.pdf",
        "transcript.txt",
        "transcript.vtt",
        "score.json",
        "consent.json",
        "metadata.json",
        "media/recording.ogg",
        "media/video.webm",
    }
    consent = json.loads(archive.read("consent.json"))  # this candidate agreed to nothing (yet)
    assert consent["consents"] == [] and consent["notices"] == []
    assert archive.read("report.pdf").startswith(b"%PDF-")
    vtt = archive.read("transcript.vtt").decode()
    assert vtt.startswith("WEBVTT\n") and "<v Candidate>No, I would need a visa sponsor." in vtt
    assert "00:00:" in vtt and " --> " in vtt
    assert "Candidate: I listen" in archive.read("transcript.txt").decode()
    score = json.loads(archive.read("score.json"))
    assert score["knockout"]["criterion_id"] == "work_permit"
    meta = json.loads(archive.read("metadata.json"))
    assert meta["session_id"] == session_id and meta["scorer"] == "offline"
    assert meta["rubric_versions"] == {"0": 1, "1": 1}
    assert meta["files"]["media/video.webm"]["bytes"] == 304


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(
    settings: Settings, store: SessionStore
) -> None:
    scoring = ScoringStore(store.engine)
    _, interview_id = scored(settings, store, name='=HYPERLINK("http://x","y")')
    for evil in ("+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tTAB", "\rCR", "Plain Name"):
        Candidates(store.engine).enrol(interview_id=interview_id, name=evil)
    records = export.rows(scoring, interview_id, lambda s: f"https://x/reports/{s}")
    rows = list(csv.DictReader(io.StringIO(export.to_csv(records))))
    names = [r["name"] for r in rows]
    assert names == [
        '\'=HYPERLINK("http://x","y")',
        "'+cmd|' /C calc'!A0",
        "'-2+3",
        "'@SUM(A1)",
        "'\tTAB",
        "'\rCR",
        "Plain Name",
    ]
    assert rows[0]["status"] == "knocked_out" and rows[0]["knocked_out"] == "True"
    assert rows[0]["report_url"].startswith("https://x/reports/")
    assert json.loads(export.to_json(records))["candidates"][0]["name"] == '=HYPERLINK("http://x","y")'


def test_the_web_report_and_downloads_need_the_unguessable_link(
    settings: Settings, store: SessionStore
) -> None:
    session_id, interview_id = scored(settings, store, name="<b>Ada</b>")
    scoring = ScoringStore(store.engine)
    token = scoring.report_token(session_id=session_id)
    assert scoring.report_token(session_id=session_id) == token and len(token) >= 43
    client = TestClient(create_app(settings, store.engine))
    page = client.get(f"/reports/{token}")
    assert page.status_code == 200
    assert "&lt;b&gt;Ada&lt;/b&gt;" in page.text and "<b>Ada</b>" not in page.text
    assert "Knocked out" in page.text and "No, I would need a visa sponsor" in page.text
    assert "no LLM" in page.text
    assert client.get(f"/reports/{token}/report.pdf").content.startswith(b"%PDF-")
    assert client.get(f"/reports/{token}/report.pdf?sections=bogus").status_code == 400
    assert zipfile.ZipFile(io.BytesIO(client.get(f"/reports/{token}/package.zip").content)).testzip() is None
    assert client.get(f"/reports/{token}/score.json").json()["scorer"] == "offline"
    assert client.get("/reports/not-a-token").status_code == 404
    export_token = scoring.report_token(interview_id=interview_id)
    assert client.get(f"/exports/{token}/candidates.csv").status_code == 404, (
        "a report link is no export link"
    )
    exported = client.get(f"/exports/{export_token}/candidates.csv")
    assert exported.status_code == 200 and "<b>Ada</b>" in exported.text
