"""`limit` / `offset` paging for record collections and SuiteQL, with NetSuite's page links."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sandbox.netsuite.errors import invalid_parameter

MAX_LIMIT = 1000


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int

    def links(self, base: str, total: int) -> list[dict[str, str]]:
        """first/prev/next/last as they apply, then self; `base` is the URL without a query."""

        def at(offset: int) -> str:
            return f"{base}?limit={self.limit}&offset={offset}"

        out: list[dict[str, str]] = []
        if self.offset > 0:
            out.append({"rel": "first", "href": at(0)})
            out.append({"rel": "prev", "href": at(max(0, self.offset - self.limit))})
        if self.offset + self.limit < total:
            out.append({"rel": "next", "href": at(self.offset + self.limit)})
            out.append({"rel": "last", "href": at((total - 1) // self.limit * self.limit)})
        out.append({"rel": "self", "href": at(self.offset)})
        return out

    def body(self, base: str, items: list[dict[str, Any]]) -> dict[str, Any]:
        """The collection answer for all of `items`, cut to this page."""
        shown = items[self.offset : self.offset + self.limit]
        return {"links": self.links(base, len(items)), "count": len(shown),
                "hasMore": self.offset + len(shown) < len(items), "items": shown,
                "offset": self.offset, "totalResults": len(items)}


def page_of(args: Mapping[str, str], *, aligned: bool) -> Page:
    """The page a request asks for; `aligned` demands an offset that is a multiple of limit."""
    limit = _whole(args, "limit", MAX_LIMIT)
    offset = _whole(args, "offset", 0)
    if not 1 <= limit <= MAX_LIMIT:
        raise invalid_parameter(
            f"Invalid value for the query parameter limit: {limit}. The value must be between "
            f"1 and {MAX_LIMIT}."
        )
    if aligned and offset % limit:
        raise invalid_parameter(
            f"Invalid value for the query parameter offset: {offset}. The offset must be a "
            f"multiple of the limit ({limit})."
        )
    return Page(limit, offset)


def _whole(args: Mapping[str, str], name: str, default: int) -> int:
    raw = args.get(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit():
        raise invalid_parameter(
            f"Invalid value for the query parameter {name}: {raw}. A non-negative integer is "
            "expected."
        )
    return int(raw)
