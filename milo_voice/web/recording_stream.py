"""A session's recording over HTTP, from the disk or the object store, with Range so players can seek.

One `Range: bytes=...` range is honoured (206 with `Content-Range`; the store is asked for just those
bytes: an S3 ranged GET); several ranges, or a malformed header, get the whole file (200), as RFC 9110
allows; a range that starts past the end gets 416. The bytes are read in the thread pool, piece by
piece, never whole into memory.
"""

from __future__ import annotations

import mimetypes
import re

from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection, Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse

from milo_voice.store.objects import StorageError
from milo_voice.store.recordings import Media, Recordings, recordings_for

RANGE = re.compile(r"bytes=(\d*)-(\d*)")
TYPES = {".ogg": "audio/ogg", ".opus": "audio/ogg", ".webm": "video/webm", ".wav": "audio/wav"}


def recordings_of(conn: HTTPConnection) -> Recordings:
    """The server's recordings (its object store when MILO_STORAGE_URL is set)."""
    return recordings_for(conn.app.state.settings)


def byte_range(header: str, size: int) -> tuple[int, int] | str | None:
    """(first, last) byte asked for, inclusive; None: send everything; "unsatisfiable": 416."""
    match = RANGE.fullmatch(header.strip())
    if match is None or size == 0:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        return max(size - int(last), 0), size - 1
    start = int(first)
    if start >= size:
        return "unsatisfiable"
    end = min(int(last), size - 1) if last else size - 1
    return None if end < start else (start, end)


async def recording_stream(
    request: Request, recording_path: str | None, media_type: str | None = None
) -> Response:
    """The recording a session row names, streamed (404 when it is gone; 502 when the store fails)."""
    try:
        media = await run_in_threadpool(recordings_of(request).locate, recording_path)
    except StorageError as exc:
        return PlainTextResponse(f"The recording cannot be read right now: {exc}", status_code=502)
    if media is None:
        return PlainTextResponse("This session has no recording.", status_code=404)
    try:
        return await media_response(request, media, media_type)
    except StorageError as exc:
        return PlainTextResponse(f"The recording cannot be read right now: {exc}", status_code=502)


async def media_response(request: Request, media: Media, media_type: str | None = None) -> Response:
    """`media` as a response; the store is asked for the bytes (a ranged GET) in the thread pool."""
    kind = media_type or TYPES.get(_suffix(media.name)) or mimetypes.guess_type(media.name)[0]
    headers = {"Accept-Ranges": "bytes", "Cache-Control": "private"}
    wanted = byte_range(request.headers.get("range", ""), media.size)
    if wanted == "unsatisfiable":
        headers["Content-Range"] = f"bytes */{media.size}"
        return Response(status_code=416, headers=headers)
    if isinstance(wanted, tuple):
        first, last = wanted
        headers["Content-Range"] = f"bytes {first}-{last}/{media.size}"
        headers["Content-Length"] = str(last - first + 1)
        body = await run_in_threadpool(media.chunks, first, last - first + 1)
        return StreamingResponse(body, status_code=206, media_type=kind, headers=headers)
    headers["Content-Length"] = str(media.size)
    body = await run_in_threadpool(media.chunks)
    return StreamingResponse(body, media_type=kind, headers=headers)


def _suffix(name: str) -> str:
    return "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
