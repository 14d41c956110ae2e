"""Datasette plugin: newswatch's search rules in Datasette, and the articles list as people read it.

* ``escape_fts``, the SQL function Datasette wraps every ``?_search=`` in, is replaced by
  ``text.search`` (registered after Datasette's own, hence ``trylast``): "Đà Nẵng" never finds «đã»,
  "dang bo" finds every spelling, quotes make a phrase, ``OR``/``NOT``/``-word``/``word*`` work. The
  same function is ``newswatch_fts(q)`` for SQL and the canned search, with ``newswatch_snippet``.
* A search with nothing to look for (only ``-word``s) finds no row, and the page says why, as
  ``newswatch search`` does.
* The articles page leaves out body, hash and folded copy unless ``_col``/``_nocol`` ask otherwise
  (Datasette 0.65 has no per-table column setting); the JSON API keeps every column.
* ``newswatch_docrefs(text)``: the documents a text cites, as a JSON array of codes, for the canned
  "documents cited most" query.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

from datasette import hookimpl

from daemon.errors import QueryError
from daemon.match.snippet import lead_overlap
from daemon.text.docrefs import cited_documents
from daemon.text.search import find, highlight, parse

NOTHING = '""'  # an empty FTS5 phrase: matches no row (a query with nothing to look for finds nothing)
HIDDEN_COLUMNS = ("body", "content_hash", "folded", "published_raw", "date_inferred", "ingested_at")
_ARTICLES_PAGE = re.compile(r"^/[^/]+/articles/?$")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Any]]
Send = Callable[[Any], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


def fts_expression(query: str | None) -> str:
    try:
        return parse(query or "").fts()
    except QueryError:
        return NOTHING


def search_snippet(title: str | None, body: str | None, query: str | None) -> str:
    title, body = title or "", body or ""
    try:
        terms = parse(query or "").terms
    except QueryError:
        terms = []
    return highlight(body, find(body, terms), floor=lead_overlap(title, body))


def docrefs(text: str | None) -> str:
    """The distinct documents ``text`` cites, as a JSON array of codes (``text.docrefs.cited_documents``)."""
    return json.dumps(cited_documents(text or ""), ensure_ascii=False)


@hookimpl(trylast=True)
def prepare_connection(conn: Any) -> None:
    conn.create_function("escape_fts", 1, fts_expression, deterministic=True)
    conn.create_function("newswatch_fts", 1, fts_expression, deterministic=True)
    conn.create_function("newswatch_snippet", 3, search_snippet, deterministic=True)
    conn.create_function("newswatch_docrefs", 1, docrefs, deterministic=True)


@hookimpl
def filters_from_request(request: Any, datasette: Any) -> None:
    query = request.args.get("_search")
    if query is None:
        return
    try:
        parse(query)
    except QueryError as exc:
        datasette.add_message(request, f"newswatch: {exc}", datasette.WARNING)


def _without_storage_columns(app: App) -> App:
    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") == "http" and _ARTICLES_PAGE.match(scope.get("path", "")):
            args = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
            if not any(key in ("_col", "_nocol") for key, _ in args):
                args += [("_nocol", column) for column in HIDDEN_COLUMNS]
                scope = dict(scope, query_string=urlencode(args).encode("latin-1"))
        await app(scope, receive, send)

    return inner


@hookimpl
def asgi_wrapper() -> Callable[[App], App]:
    return _without_storage_columns
