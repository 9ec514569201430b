"""Receiving a multipart upload onto disk with a size cap enforced while it arrives.

The cap is checked against Content-Length before anything is read, and again on every chunk of the
stream (a client may send no length, or lie), so an over-long upload is refused with 413 after at
most `limit` bytes. Starlette's multipart parser spools each file to a temporary file; each is then
copied in 1 MiB blocks to the path the caller chooses, never held whole in memory.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

from milo_voice.store.repo import Invalid

MAX_FILES = 100
"""Files in one upload (a ZIP counts as one)."""


class UploadTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"upload too large: at most {limit // (1024 * 1024)} MB per upload; "
                         "split it into several ZIPs")
        self.limit = limit


@dataclass(frozen=True, slots=True)
class Received:
    names: list[str]
    """The uploaded files' names as sent, in order."""
    fields: dict[str, str]


async def receive_files(
    request: Request, *, limit: int, field: str, place: Callable[[int, str], Path],
) -> Received:
    """Save every file of form field `field` to `place(index, name)`; other fields come back as text."""
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise Invalid("send the files as multipart/form-data")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise UploadTooLarge(limit)
    parser = MultiPartParser(request.headers, capped_stream(request, limit), max_files=MAX_FILES,
                             max_fields=20)
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise Invalid(f"the upload could not be read: {exc}") from None
    try:
        names, fields = [], {}
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                if key == field and value.filename:
                    target = place(len(names), value.filename)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with target.open("wb") as out:
                        shutil.copyfileobj(value.file, out, 1024 * 1024)
                    names.append(value.filename)
            else:
                fields[key] = value
        return Received(names, fields)
    finally:
        await form.close()


async def capped_stream(request: Request, limit: int) -> AsyncIterator[bytes]:
    seen = 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > limit:
            raise UploadTooLarge(limit)
        yield chunk
