"""Cursor pagination for API lists: an opaque cursor that says where the next page starts.

Sorted by creation (the default), the cursor holds the last id shown and the next page is a keyset
query (`id < last`), so pages stay right while candidates are added. Sorted by score (computed after
loading), it holds an offset into the sorted list.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from milo_voice.store.repo import Invalid

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page:
    limit: int
    sort: str
    """"id" (what sort=created pages by) or "score"."""
    beyond_id: int | None = None
    offset: int = 0

    @classmethod
    def parse(cls, cursor: str, limit: str, *, sort: str) -> Page:
        if limit and not limit.isdigit():
            raise Invalid(f"limit={limit!r}: expected a whole number from 1 to {MAX_LIMIT}")
        size = int(limit) if limit else DEFAULT_LIMIT
        if not 1 <= size <= MAX_LIMIT:
            raise Invalid(f"limit={size}: expected 1 to {MAX_LIMIT}")
        key = "score" if sort == "score" else "id"
        if not cursor:
            return cls(size, key)
        try:
            data = json.loads(base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4)))
            if data.get("s") != key:
                raise ValueError("sort changed")
            return cls(size, key, beyond_id=data.get("id"), offset=int(data.get("o", 0)))
        except (ValueError, TypeError, AttributeError):
            raise Invalid("cursor is not one this API returned for this sort; start again without it"
                          ) from None

    @property
    def fetch(self) -> int:
        """Rows to load: one more than a page tells whether there is a next one."""
        return self.offset + self.limit + 1

    def cut(self, rows: Sequence[T], *, key: Callable[[T], int]) -> tuple[list[T], str]:
        """This page's rows and the next page's cursor ("" on the last page)."""
        start = self.offset if self.sort == "score" else 0
        shown = list(rows[start:start + self.limit])
        if len(rows) <= start + self.limit or not shown:
            return shown, ""
        state = {"s": self.sort, "o": start + self.limit} if self.sort == "score" else \
            {"s": self.sort, "id": key(shown[-1])}
        return shown, base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")
