"""Bulk intake pages: upload resumes (PDF, DOCX, ZIPs of them) or a CSV list, map a CSV's columns,
watch the reading job's progress, then review, edit, discard and ingest. Admins only (as adding a
candidate by hand is); the review page is readable by the whole team.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from milo_voice.intake import csv_reader, upload_files
from milo_voice.intake.hooks import IntakeHooks
from milo_voice.intake.resumes import Resumes
from milo_voice.scoring.queue import queue_for
from milo_voice.store.repo import Invalid, NotFound
from milo_voice.store.tables import BatchStatus, UserRole
from milo_voice.web.repos import repo
from milo_voice.web.workspace.auth import page, who
from milo_voice.web.workspace.render import render
from milo_voice.web.workspace.services import workspace
from milo_voice.web.workspace.uploads import UploadTooLarge, receive_files
from milo_voice.workspace.intake import OUR_FIELDS, Intake

FIELD_LABELS = {"name": "Full name", "first_name": "First name", "last_name": "Last name", "email": "Email",
                "phone": "Phone", "location": "Location", "external_id": "External id"}


def intake(request: Request) -> Intake:
    settings = workspace(request).settings
    state = request.app.state
    return Intake(state.engine, queue_for(settings, state.engine), root=settings.uploads_dir,
                  region=settings.default_region, now=state.now)


@page()
async def upload_page(request: Request) -> Response:
    slug = request.path_params["slug"]
    interview = await run_in_threadpool(workspace(request).interviews.latest, slug)
    batches = await run_in_threadpool(intake(request).batches.for_interview, slug)
    settings = workspace(request).settings
    me = who(request)
    secret = await run_in_threadpool(repo(request, IntakeHooks).secret, slug) if me.is_admin else ""
    return render(request, "intake.html", {"interview": interview, "batches": batches,
                                           "max_upload_mb": settings.intake_max_upload_mb,
                                           "max_csv_mb": settings.intake_max_csv_mb,
                                           "hook_url": f"{settings.base_url}/intake/hooks/{slug}",
                                           "hook_secret": secret})


async def _receive(request: Request, kind: str) -> int | Response:
    """Save the upload under a fresh folder, then make it a batch of interview `slug`; its id."""
    settings = workspace(request).settings
    slug = request.path_params["slug"]
    await run_in_threadpool(workspace(request).interviews.latest, slug)  # 404 before reading the body
    root: Path = settings.uploads_dir
    temp = root / "receiving" / uuid.uuid4().hex
    limit = (settings.intake_max_csv_mb if kind == "csv" else settings.intake_max_upload_mb) * 1024 * 1024
    try:
        received = await receive_files(
            request, limit=limit, field="files",
            place=lambda i, name: temp / f"{i:04d}{upload_files.suffix_of(name) or '.bin'}")
    except UploadTooLarge as exc:
        shutil.rmtree(temp, ignore_errors=True)
        return PlainTextResponse(str(exc), status_code=413)
    except Invalid:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    if not received.names:
        shutil.rmtree(temp, ignore_errors=True)
        raise Invalid("choose at least one file to upload")
    if kind == "csv" and len(received.names) != 1:
        shutil.rmtree(temp, ignore_errors=True)
        raise Invalid("upload one candidate list (CSV) at a time")
    service = intake(request)
    batch_id = await run_in_threadpool(service.new_batch, slug, kind, received.names, who(request))
    target = upload_files.incoming_dir(root, batch_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp.replace(target)
    return batch_id


def _done(request: Request, batch_id: int) -> Response:
    url = f"/app/intake/{batch_id}"
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"batch_id": batch_id, "url": url})
    return RedirectResponse(url, status_code=303)


@page(UserRole.ADMIN, upload=True)
async def upload_files_post(request: Request) -> Response:
    batch_id = await _receive(request, "files")
    if isinstance(batch_id, Response):
        return batch_id
    await run_in_threadpool(intake(request).start_reading, batch_id)
    return _done(request, batch_id)


@page(UserRole.ADMIN, upload=True)
async def upload_csv_post(request: Request) -> Response:
    batch_id = await _receive(request, "csv")
    if isinstance(batch_id, Response):
        return batch_id
    service = intake(request)
    try:
        await run_in_threadpool(service.sniff_csv, batch_id, workspace(request).settings.intake_max_csv_mb
                                * 1024 * 1024)
    except (csv_reader.CsvTooLarge, ValueError, OSError) as exc:
        await run_in_threadpool(service.batches.fail, batch_id, str(exc))
    return _done(request, batch_id)


@page()
async def batch_page(request: Request) -> Response:
    batch_id = request.path_params["batch_id"]
    view = await run_in_threadpool(intake(request).review, batch_id)
    interview = await run_in_threadpool(workspace(request).interviews.latest, view.batch.interview_slug)
    layout = view.batch.csv_layout
    return render(request, "intake_batch.html", {
        "view": view, "batch": view.batch, "interview": interview, "layout": layout,
        "fields": [(f, FIELD_LABELS[f]) for f in OUR_FIELDS], "mapping": layout.get("mapping") or {},
        "statuses": BatchStatus, "flash": request.query_params.get("flash", ""),
    })


@page()
async def progress(request: Request) -> Response:
    batch = await run_in_threadpool(intake(request).batches.get, request.path_params["batch_id"])
    return JSONResponse({"status": batch.status, "done": batch.done, "total": batch.total,
                         "error": batch.error}, headers={"Cache-Control": "no-store"})


@page(UserRole.ADMIN)
async def save_mapping(request: Request) -> Response:
    batch_id = request.path_params["batch_id"]
    form = await request.form()
    mapping = {f: str(form.get(f"map_{f}", "")) for f in OUR_FIELDS}
    await run_in_threadpool(intake(request).confirm_mapping, batch_id, mapping)
    return RedirectResponse(f"/app/intake/{batch_id}", status_code=303)


@page(UserRole.ADMIN)
async def edit_item(request: Request) -> Response:
    batch_id, item_id = request.path_params["batch_id"], request.path_params["item_id"]
    form = await request.form()
    values = {k: str(form[k]) for k in ("name", "email", "phone", "location", "external_id") if k in form}
    item = await run_in_threadpool(intake(request).edit, batch_id, item_id, values)
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({k: getattr(item, k) for k in values})
    return RedirectResponse(f"/app/intake/{batch_id}#item-{item_id}", status_code=303)


@page(UserRole.ADMIN)
async def decide(request: Request) -> Response:
    batch_id = request.path_params["batch_id"]
    form = await request.form()
    ids = [int(v) for v in form.getlist("item") if str(v).isdigit()]
    if not ids:
        raise Invalid("select at least one row")
    service = intake(request)
    if form.get("action") == "discard":
        count = await run_in_threadpool(service.discard, batch_id, ids, who(request))
        flash = f"{count} row(s) discarded"
    else:
        done = await run_in_threadpool(service.ingest, batch_id, ids, who(request))
        flash = f"{len(done.added)} candidate(s) added, {len(done.updated)} updated"
        if done.refused:
            flash += f"; {len(done.refused)} kept in review: " + "; ".join(sorted(set(done.refused.values())))
    return RedirectResponse(f"/app/intake/{batch_id}?flash={quote(flash[:500])}", status_code=303)


@page()
async def resume_file(request: Request) -> Response:
    cid = request.path_params["cid"]
    resume = await run_in_threadpool(repo(request, Resumes).get, cid)
    if resume is None:
        raise NotFound(f"candidate {cid} has no resume")
    path = upload_files.resolve(workspace(request).settings.uploads_dir, resume.path)
    if not path.is_file():
        raise NotFound(f"the resume file of candidate {cid} is missing from the uploads folder")
    return FileResponse(path, media_type=resume.content_type, headers={
        "Content-Disposition": f"attachment; filename=\"{upload_files.download_name(resume.filename)}\"; "
                               f"filename*=UTF-8''{quote(resume.filename)}",
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


def routes() -> list[BaseRoute]:
    return [
        Route("/interviews/{slug}/intake", upload_page),
        Route("/interviews/{slug}/intake/files", upload_files_post, methods=["POST"]),
        Route("/interviews/{slug}/intake/csv", upload_csv_post, methods=["POST"]),
        Route("/intake/{batch_id:int}", batch_page),
        Route("/intake/{batch_id:int}/progress.json", progress),
        Route("/intake/{batch_id:int}/mapping", save_mapping, methods=["POST"]),
        Route("/intake/{batch_id:int}/items/{item_id:int}", edit_item, methods=["POST"]),
        Route("/intake/{batch_id:int}/decide", decide, methods=["POST"]),
        Route("/candidates/{cid:int}/resume", resume_file),
    ]
