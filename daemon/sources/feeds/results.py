"""What one poll of one feed produced, and the conditional-GET state it starts from.

Kept apart from the HTTP code so that ``store`` and the pure scheduling rules can use these types
without importing an HTTP client.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from daemon.models import Document


@dataclass(frozen=True, slots=True)
class FeedState:
    """Where to fetch a feed now (its URL after permanent redirects) and the validators last seen."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    body_sha256: str | None = None  # of the last body parsed: the same bytes again are not parsed again


@dataclass(frozen=True, slots=True)
class FetchResult:
    """The outcome of one poll. Failures are data here, never exceptions: one bad feed must not stop a pass."""

    feed: str
    url: str  # the URL fetched last (after redirects)
    status: int | None = None  # final HTTP status; None when no answer came
    moved_to: str | None = None  # new URL after 301/308: store it, fetch it next time
    not_modified: bool = False  # 304: nothing was parsed (see also ``unchanged``)
    etag: str | None = None
    last_modified: str | None = None
    documents: list[Document] = field(default_factory=list)
    error: str | None = None  # one line: why this feed failed this time
    warning: str | None = None  # benign problem; the items were kept
    retry_after: float | None = None  # seconds, from Retry-After
    max_age: float | None = None  # seconds, from Cache-Control: max-age
    elapsed: float = 0.0
    body_sha256: str | None = None  # SHA-256 of the body of a 200 answer (parsed, or unchanged)
    unchanged: bool = False  # a 200 with the very bytes parsed last time: not parsed again
    body: bytes | None = field(default=None, repr=False)  # downloaded, still to be parsed (``FeedFetcher.parse``)
    content_type: str | None = None  # of ``body``
    item_keys: tuple[str, ...] = ()  # of every item the parsed body holds, ``documents`` or not (``known``)

    @property
    def ok(self) -> bool:
        return self.error is None
