"""One way to page through every list the API gives: ``limit`` and ``after``, and a
``Link: <...>; rel="next"`` header (RFC 8288) while more follow.

    GET /v1/jobs?status=done                   the first 100
    Link: <http://host/v1/jobs?status=done&after=4f0c...>; rel="next"
    GET /v1/jobs?status=done&after=4f0c...     the next 100, and so on until no Link

``limit`` is 1 to 500 (100 if not given). ``after`` is the key of the last item the caller
has: a day's date, a plan's number, an event's, notification's or audit entry's id, a job's
id, a carer's, client's, visit's or place's id; the page starts after it in the list's own
order. A key, not an offset: an item added or removed between two reads shifts no other item
onto a page already read or past one still to come, so walking the pages gives each item
that stayed exactly once. The body stays a plain JSON list, as before pages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import islice
from typing import Annotated, TypeVar

from fastapi import Depends, Query, Request, Response
from starlette.datastructures import URL

DEFAULT_LIMIT = 100
MAX_LIMIT = 500

T = TypeVar("T")


@dataclass(frozen=True)
class Page:
    """The page a list route was asked for: at most ``limit`` items after its ``after``."""

    limit: int
    url: URL
    response: Response

    @property
    def fetch(self) -> int:
        """How many items to read: one more than a page, to know whether another follows."""
        return self.limit + 1

    def of(self, items: Iterable[T], key: Callable[[T], object]) -> list[T]:
        """The page from ``items`` (those after the cursor, in the list's order; at least
        ``fetch`` of them when there are), with the Link to the next page if more follow."""
        taken = list(islice(items, self.fetch))
        if len(taken) <= self.limit:
            return taken
        taken = taken[: self.limit]
        following = self.url.include_query_params(after=key(taken[-1]))
        self.response.headers["Link"] = f'<{following}>; rel="next"'
        return taken


async def page(
    request: Request,
    response: Response,
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description=f"items per page, 1 to {MAX_LIMIT}; the Link header names the next")
    ] = DEFAULT_LIMIT,
) -> Page:
    # async: FastAPI would run a plain def in its thread pool, a hop that costs more than this
    return Page(limit, request.url, response)


PageDep = Annotated[Page, Depends(page)]
"""A list route's page: ``limit`` from the query, and where to put the Link header."""
